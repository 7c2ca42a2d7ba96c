package etcdraft

import (
	"fmt"

	"go.etcd.io/raft/v3"

	"github.com/replica-io/replica/protocols/node"
)

// Outputs: what the checkers observe of a node.

// Elected says the node became leader of Term.
type Elected struct{ Term uint64 }

func (e Elected) String() string { return fmt.Sprintf("elected leader of term %d", e.Term) }

// Applied says the node's state machine reached log index Index (an entry of Term), holding
// the content Digest names. Restored marks the state a restart read back from the backend.
type Applied struct {
	Index, Term, Digest uint64
	Restored            bool
}

func (a Applied) String() string {
	s := fmt.Sprintf("applied %d/t%d state %016x", a.Index, a.Term, a.Digest)
	if a.Restored {
		s += " (restored)"
	}
	return s
}

// QuorumChecked says that the node, leader of Term, passed a CheckQuorum: it heard from a
// quorum within the last election timeout.
type QuorumChecked struct{ Term uint64 }

func (q QuorumChecked) String() string { return fmt.Sprintf("quorum checked in term %d", q.Term) }

// Noted says that something notable happened at a node for the first time in its
// incarnation: what the sometimes-properties count.
type Noted struct{ What string }

func (o Noted) String() string { return "noted " + o.What }

// electionSafety: at most one leader is elected in a term (over the Elected outputs of the
// whole run, so that two leaders of one term are caught even if they never coexist).
func electionSafety(w node.World) error {
	return pastOutputs(w, "etcdraft/election-safety", func(p *past, o node.Output) error {
		e, ok := o.Value.(Elected)
		if !ok {
			return nil
		}
		if first, ok := p.leaders[e.Term]; ok && first != o.Node {
			return fmt.Errorf("n%d and n%d were both elected leader of term %d", first, o.Node, e.Term)
		}
		p.leaders[e.Term] = o.Node
		return nil
	})
}

// stateMachineSafety: every node that reaches log index i has applied the same entries, and
// holds the same state there: each Applied output of an index agrees with the first one, in
// the entry's term and in the state machine's digest. It catches logs that diverge, and state
// machines that diverge on the same log (a restart that skipped entries).
func stateMachineSafety(w node.World) error {
	return pastOutputs(w, "etcdraft/state-machine-safety", func(p *past, o node.Output) error {
		a, ok := o.Value.(Applied)
		if !ok {
			return nil
		}
		for uint64(len(p.applied)) <= a.Index {
			p.applied = append(p.applied, appliedBy{})
		}
		first := p.applied[a.Index]
		switch {
		case first.node == 0:
			p.applied[a.Index] = appliedBy{a, o.Node}
		case first.Term != a.Term:
			return fmt.Errorf("n%d applied an entry of term %d at index %d, where n%d applied one of term %d",
				o.Node, a.Term, a.Index, first.node, first.Term)
		case first.Digest != a.Digest:
			how := "applied"
			if a.Restored {
				how = "restarted with"
			}
			return fmt.Errorf("n%d %s state %016x at index %d, where n%d had %016x: the state machines diverged",
				o.Node, how, a.Digest, a.Index, first.node, first.Digest)
		}
		return nil
	})
}

// past is what the safety properties remember of a run's outputs.
type past struct {
	seen    int // outputs looked at so far
	leaders map[uint64]node.ID
	applied []appliedBy // by log index
}

type appliedBy struct {
	Applied
	node node.ID
}

// memo is how a world offers per-run memory to properties (the simulator's does).
type memo interface {
	Memo(key string, init func() any) any
}

// pastOutputs runs check on every output not looked at yet, with what the property remembers
// of the earlier ones. Where the world keeps no memory for properties, it rebuilds that memory
// from all the outputs and checks only the latest step's.
func pastOutputs(w node.World, key string, check func(p *past, o node.Output) error) error {
	all := w.Outputs()
	p := &past{}
	if m, ok := w.(memo); ok {
		p = m.Memo(key, func() any { return &past{} }).(*past)
	} else {
		p.seen = len(all) - len(w.NewOutputs())
	}
	if p.leaders == nil {
		p.leaders = map[uint64]node.ID{}
		for _, o := range all[:p.seen] {
			_ = check(p, o) // earlier steps were checked when they happened
		}
	}
	for ; p.seen < len(all); p.seen++ {
		if err := check(p, all[p.seen]); err != nil {
			p.seen++
			return err
		}
	}
	return nil
}

// leaderInOffice reports whether some node leads with a majority of the cluster following it
// in its term, and has applied an entry of its term (so it knows what is committed).
func leaderInOffice(w node.World) bool {
	n := w.Config().N
	for id, l := range node.States[*Node](w) {
		if l.role != raft.StateLeader || l.appliedTerm != l.hard.Term {
			continue
		}
		following := 0
		for _, f := range node.States[*Node](w) {
			if f.hard.Term == l.hard.Term && f.lead == uint64(id) {
				following++
			}
		}
		if following > n/2 {
			return true
		}
	}
	return false
}

// progress, demanded once faults heal: a leader in office. (The simulator adds that every
// client has had an operation answered.)
func progress(w node.World) []string {
	if leaderInOffice(w) {
		return nil
	}
	return []string{"no leader with a majority following it and an entry of its term applied"}
}

// stableLeader is the "eventually always" form of progress: a leader in office that has passed
// a CheckQuorum since the faults healed, and once there is one it must stay, which partial
// connectivity prevents without PreVote and CheckQuorum. (A leader cut off until the faults
// heal looks in office for a moment, its followers not having noticed yet; it is not stable:
// its next CheckQuorum deposes it. Nor is one paused until the faults heal, which passes a
// CheckQuorum on the answers it finds waiting and learns of a newer term right after: a node
// is in a newer term already.) Without CheckQuorum, being in office is all there is to ask.
func stableLeader(w node.World) []string {
	if !leaderInOffice(w) {
		return []string{"no leader in office"}
	}
	_, since := w.Healed()
	outs := w.Outputs()
	top := uint64(0)
	for _, n := range node.States[*Node](w) {
		top = max(top, n.hard.Term)
	}
	for _, l := range node.States[*Node](w) {
		if l.role != raft.StateLeader || l.appliedTerm != l.hard.Term || l.hard.Term < top {
			continue // not a leader, or one whose term some node has moved past
		}
		if !l.opt.checkQuorum {
			return nil
		}
		for i := len(outs) - 1; i >= 0 && outs[i].Time >= since; i-- {
			if c, ok := outs[i].Value.(QuorumChecked); ok && c.Term == l.hard.Term && outs[i].Node == node.ID(l.id) {
				return nil
			}
		}
	}
	return []string{"no leader has passed a CheckQuorum since the faults healed"}
}

// advance measures progress for the fault-phase watchdog: client operations completed. Until
// the cluster has committed anything, its terms count too: electing a first leader is all a
// new cluster can do. Later elections do not: a cluster that keeps electing leaders without
// serving its clients is stuck, which is what partial connectivity does without PreVote and
// CheckQuorum.
func advance(w node.World) int {
	commit, term := uint64(0), uint64(0)
	for _, n := range node.States[*Node](w) {
		commit, term = max(commit, n.hard.Commit), max(term, n.hard.Term)
	}
	if commit <= 1 { // nothing committed beyond the bootstrap snapshot
		return len(w.History()) + int(term)
	}
	return len(w.History())
}

// Size is the node's state in log entries, sessions and the requests it holds.
func (n *Node) Size() int {
	return int(n.logLast-n.logFirst+1) + len(n.sm.Sessions) + len(n.reads) + len(n.writes)
}

// coverage records notable events, each noted once per incarnation by a Noted output.
type coverage uint16

const (
	seenCommand     coverage = 1 << iota // a client's write was applied
	seenReadIndex                        // a read was served at its read index
	seenReadRetry                        // a read asked for its read index again
	seenDedup                            // a retried write was answered from its session
	seenCompact                          // the node took a snapshot and compacted its log
	seenInstall                          // a follower installed the leader's snapshot
	seenCheckQuorum                      // a leader stepped down for want of a quorum
	seenLeaseKept                        // a vote was refused within a leader's lease
	seenRecovered                        // a restart recovered a state machine from the backend
)

var coverageNames = [...]string{"command-applied", "read-index", "read-retried",
	"retry-deduplicated", "log-compacted", "snapshot-installed", "check-quorum-step-down",
	"lease-kept-leader", "backend-recovered"}

// note records c, with an output the first time.
func (n *Node) note(env node.Env, c coverage) {
	if n.seen&c != 0 {
		return
	}
	n.seen |= c
	for i := range coverageNames {
		if c == 1<<i {
			env.Output(Noted{What: coverageNames[i]})
		}
	}
}

// sometimes are the protocol's coverage properties, counted in every scenario: a leader
// elected and a command applied must happen in every campaign; the others say which parts of
// the service a campaign exercised. The rest of what nodes note (retried reads, installed
// snapshots, votes refused in a lease, recoveries from the backend) is counted by the
// scenarios made to exercise it, through Coverage.
var sometimes = func() []node.Sometimes {
	s := []node.Sometimes{{Name: "leader-elected", Required: true, Reached: func(w node.World) bool {
		_, _, ok := firstNew[Elected](w)
		return ok
	}}}
	for _, name := range []string{"command-applied", "read-index", "retry-deduplicated", "log-compacted", "check-quorum-step-down"} {
		c := Coverage(name)
		c.Required = name == "command-applied"
		s = append(s, c)
	}
	return s
}()

// Coverage is the sometimes-property that a node noted what (one of the names of Noted
// outputs: "read-retried", "snapshot-installed", "lease-kept-leader", "backend-recovered",
// and those of the protocol's own sometimes-properties).
func Coverage(what string) node.Sometimes {
	return node.Sometimes{Name: what, Reached: func(w node.World) bool {
		return node.AnyNew(w, func(n Noted) bool { return n.What == what })
	}}
}

// firstNew is the latest step's first output that is a T (a plain loop: properties ask it
// after every step, where an iterator would allocate).
func firstNew[T any](w node.World) (node.Output, T, bool) {
	for _, o := range w.NewOutputs() {
		if v, ok := o.Value.(T); ok {
			return o, v, true
		}
	}
	var zero T
	return node.Output{}, zero, false
}
