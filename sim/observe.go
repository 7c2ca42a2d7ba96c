package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// An Observer watches a run step by step, as a debugger or the page of `replica view` does:
// after the start of the run and after every step it sees the world as the step left it.
// Give one to a timed run in Config.Observer, or follow an untimed path with Untimed.Observe.
//
// An observer reads; it must not change the world, and it may cost what it likes: it runs
// only where someone asked to watch, never in a campaign.
type Observer interface {
	Observe(o Observation)
}

// Observation is what an observer sees after one step.
type Observation struct {
	// Event is the step's number in the trace (0: the start of the run; see Entry). Traced
	// is false for a step that left no entry, which has no number of its own: Event is then
	// the number of the latest step that did.
	Event  int
	Traced bool
	// World is the world after the step. In a timed run it is the *World, which also tells
	// which links are cut (Cut) and which nodes are paused (Paused).
	World node.World
	// Touched lists the nodes the step's entries name, in the order named: the nodes whose
	// state the step may have changed (it may list others too, the receiver of a dropped
	// message, say).
	Touched []node.ID
	// Scheduled is, in the untimed world, the choice the step made: which of the enabled
	// actions it took. A timed run's choices are its Chooser's: wrap the chooser to see them.
	Scheduled *Scheduled
}

// Scheduled is the untimed world's choice of what happens next.
type Scheduled struct {
	Action  int    // the action taken, numbered as Untimed.Next yields them
	Enabled int    // how many actions were enabled
	Label   string // what the action does, as Untimed.Label says
}

// endStep ends a step of a timed run: the trace numbers the next entries as the next event,
// and the observer, if there is one, sees the world.
func (w *World) endStep() {
	touched, traced := w.trace.endStep(w.cfg.Observer != nil)
	if w.cfg.Observer != nil {
		w.cfg.Observer.Observe(Observation{Event: w.trace.lastEvent(), Traced: traced, World: w, Touched: touched})
	}
}

// Cut reports whether the link from node from to node to drops everything now (a partition,
// a one-way cut or a fixed cut link).
func (w *World) Cut(from, to node.ID) bool { return w.cut[from][to] }

// Paused reports whether node id is paused now.
func (w *World) Paused(id node.ID) bool { return w.slot(id).paused }

// Between says what happened to node id between virtual times from and to (both included):
// its crashes, restarts and pauses, as a phrase such as "crashed at 30.800ms and restarted at
// 31.200ms", or "" when nothing did. A property that compares two facts about one node tells
// with it what lies between them (see node.Between).
func (w *World) Between(id node.ID, from, to time.Duration) string {
	if int(id) >= len(w.trace.lives) {
		return ""
	}
	var in []life
	for _, l := range w.trace.lives[id] {
		if l.at >= from && l.at <= to {
			in = append(in, l)
		}
	}
	var parts []string
	if len(in) <= 4 {
		for _, l := range in {
			parts = append(parts, fmt.Sprintf("%s at %s", lifeVerbs[l.what], fmtTime(l.at)))
		}
		return joinAnd(parts)
	}
	counts := map[What]int{}
	for _, l := range in {
		counts[l.what]++
	}
	times := func(verb string, n int) {
		switch n {
		case 0:
		case 1:
			parts = append(parts, verb+" once")
		default:
			parts = append(parts, fmt.Sprintf("%s %d times", verb, n))
		}
	}
	for _, pair := range [][2]What{{Crash, Restart}, {Pause, Resume}} {
		if a, b := counts[pair[0]], counts[pair[1]]; a == b {
			times(lifeVerbs[pair[0]]+" and "+lifeVerbs[pair[1]], a)
		} else {
			times(lifeVerbs[pair[0]], a)
			times(lifeVerbs[pair[1]], b)
		}
	}
	return fmt.Sprintf("%s between %s and %s", joinAnd(parts), fmtTime(in[0].at), fmtTime(in[len(in)-1].at))
}

var lifeVerbs = map[What]string{Crash: "crashed", Restart: "restarted", Pause: "paused", Resume: "resumed"}

// joinAnd joins phrases as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// World returns the node.World of an untimed state, as properties see it.
func (u *Untimed) World(s *UState) node.World { return u.view(s) }

// Observe follows a path of the untimed world (action numbers as Next yields them, from
// initial state init) and shows obs the state after the start and after every step, up to the
// end of the path or the first broken invariant, where Replay stops too: the steps are the
// events of Replay's trace, numbered alike.
func (u *Untimed) Observe(init int, actions []int, obs Observer) error {
	s, err := u.initial(init, nil)
	if err != nil {
		return err
	}
	obs.Observe(Observation{Event: 0, Traced: true, World: u.view(s), Touched: u.ids})
	for step, want := range actions {
		if u.Violated(s) != "" {
			return nil
		}
		var next *UState
		var label string
		enabled := 0
		u.successors(s, nil, func(a uaction, n *UState) bool {
			if enabled == want {
				next, label = n, u.describe(s, a)
			}
			enabled++
			return true
		})
		if next == nil {
			return fmt.Errorf("step %d: action %d is not enabled (the state has %d successors)", step+1, want, enabled)
		}
		var touched []node.ID
		for i := range next.nodes {
			if next.nodes[i] != s.nodes[i] {
				touched = append(touched, next.nodes[i].id)
			}
		}
		s = next
		obs.Observe(Observation{Event: step + 1, Traced: true, World: u.view(s), Touched: touched,
			Scheduled: &Scheduled{Action: want, Enabled: enabled, Label: label}})
	}
	return nil
}

// Reached reports whether the run has reached the protocol's sometimes-property number i.
func (w *World) Reached(i int) bool { return w.reached[i] }

// Instances returns the protocol's own states that a Byzantine node runs: one, or two for
// twins. An observer shows these, not the adversary's machinery around them.
func (b *byzNode) Instances() []node.Node {
	if b.twins[1] == nil {
		return b.twins[:1]
	}
	return b.twins[:]
}

// Observers is one observer that shows every step to each of obs in turn.
func Observers(obs ...Observer) Observer { return observers(obs) }

type observers []Observer

func (os observers) Observe(o Observation) {
	for _, ob := range os {
		ob.Observe(o)
	}
}
