// Package omega is leader election (Ω, Chandra, Hadzilacos and Toueg, 1996; Cachin, Guerraoui
// and Rodrigues, section 2.6.6) as a component over an eventually perfect failure detector:
// every node trusts the node with the smallest ID that its detector does not suspect (itself
// included, never suspected). Once the detector stops making mistakes, every node that is up
// trusts the same node, which is up, for good.
//
// Interface:
//
//	indication  Leader{ID}   the node now trusts ID as the leader
//
// Sub-components: "fd", an eventually perfect failure detector (package fd, or any component
// raising fd.Suspect and fd.Restore).
//
// Property (after healing; "eventually always"): eventual leadership: every correct node that
// is up trusts the same leader, which is up and correct, and keeps trusting it for Stable. It
// is judged once the detector below is accurate, which is what Ω is promised over.
//
// Seeded bug: self-leader (a node that comes to suspect its leader trusts itself instead of
// the next node it does not suspect: with the first leader gone for good, several nodes lead
// at once, forever).
package omega

import (
	"strconv"
	"time"

	"github.com/replica-io/replica/protocols/fd"
	"github.com/replica-io/replica/protocols/node"
)

// BugSelfLeader is the seeded bug.
const BugSelfLeader = "self-leader"

// Leader is the indication: the node now trusts ID.
type Leader struct{ ID node.ID }

// Omega is one node's leader election.
type Omega struct {
	cfg       node.Config
	self      node.ID
	suspected []bool
	leader    node.ID
}

// New returns node id's Omega.
func New(cfg node.Config, id node.ID) node.Node {
	return &Omega{cfg: cfg, self: id, suspected: make([]bool, cfg.N+1)}
}

// Start trusts the first node (the detector below suspects no one yet).
func (o *Omega) Start(env node.Env) { o.elect(env, 0) }

// Indication follows the detector's suspicions.
func (o *Omega) Indication(env node.Env, child string, ind any) {
	switch ind := ind.(type) {
	case fd.Suspect:
		if o.valid(ind.Node) {
			o.suspected[ind.Node] = true
			o.elect(env, ind.Node)
		}
	case fd.Restore:
		if o.valid(ind.Node) {
			o.suspected[ind.Node] = false
			o.elect(env, 0)
		}
	}
}

func (o *Omega) valid(p node.ID) bool { return p >= 1 && int(p) <= o.cfg.N && p != o.self }

// elect trusts the smallest node not suspected; lost is a node just suspected, zero if none.
func (o *Omega) elect(env node.Env, lost node.ID) {
	next := o.self
	for p := node.ID(1); int(p) <= o.cfg.N; p++ {
		if !o.suspected[p] {
			next = p
			break
		}
	}
	if o.cfg.Bug == BugSelfLeader && lost != 0 && lost == o.leader {
		next = o.self // the seeded bug: losing its leader, a node takes over itself
	}
	if next != o.leader {
		o.leader = next
		node.Indicate(env, Leader{ID: next})
	}
}

// Leader is the node this one trusts.
func (o *Omega) Leader() node.ID { return o.leader }

func (o *Omega) Receive(node.Env, node.ID, node.Message) {}
func (o *Omega) Timer(node.Env, string)                  {}
func (o *Omega) Request(node.Env, node.Request)          {}

// Stable is how long eventual leadership must keep holding once it holds.
const Stable = 500 * time.Millisecond

// Module describes Omega to the tools.
var Module = &node.Module{
	Name:    "omega",
	Summary: "leader election (Ω) over a failure detector: the smallest node not suspected",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugSelfLeader, Scenario: "crash-heavy",
			Summary: "a node that suspects its leader trusts itself instead of the next node: with the leader gone, several lead forever"},
	},
	Liveness: []node.Liveness{{Name: "eventual-leadership", Pending: leadership, Stable: Stable}},
}

// detector scopes a world to Omega's detector.
var detector = node.ScopeTo("fd")

// leadership: every correct node that is up trusts the same leader, up and correct.
func leadership(w node.World) []string {
	var pending []string
	var first node.ID
	var firstBy node.ID
	for id, o := range node.States[*Omega](w) {
		if !w.Correct(id) {
			continue
		}
		l := o.leader
		switch {
		case l < 1 || int(l) > w.Config().N || !w.Up(l) || !w.Correct(l):
			pending = append(pending, "n"+strconv.Itoa(int(id))+" trusts n"+strconv.Itoa(int(l))+", which is down") // no fmt: judged after every step
		case first == 0:
			first, firstBy = l, id
		case l != first:
			pending = append(pending, "n"+strconv.Itoa(int(id))+" trusts n"+strconv.Itoa(int(l))+" but n"+strconv.Itoa(int(firstBy))+" trusts n"+strconv.Itoa(int(first)))
		}
	}
	// Ω is promised over an eventually accurate detector: leadership is judged once the
	// detector below is (with a detector of another package this adds nothing).
	for _, p := range fd.Accuracy(detector.Of(w)) {
		pending = append(pending, "fd: "+p)
	}
	return pending
}
