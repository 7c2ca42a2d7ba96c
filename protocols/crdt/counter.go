package crdt

import (
	"fmt"
	"slices"

	"github.com/replica-io/replica/protocols/gossip"
	"github.com/replica-io/replica/protocols/node"
)

// BugTakeLarger is the counter's seeded bug: merging keeps whichever replica has the larger
// value, whole, the way a naive "take the maximum" counter does, which loses the updates
// only the smaller one had.
const BugTakeLarger = "take-larger"

// Add is the counter's request: add Delta (negative to subtract).
type Add struct{ Delta int }

// CounterState is a PN-counter (Shapiro et al., 2011): per node, the sum of its increments
// (P) and of its decrements (N), and how many updates it made (U, the replica's version
// vector). Its value is the sum of P minus the sum of N; merging takes the larger of each
// entry, which is commutative, associative and idempotent, so replicas that merged the same
// states hold the same counter.
type CounterState struct{ P, N, U []int }

// Value is the counter's value.
func (s CounterState) Value() int {
	v := 0
	for i := range s.P {
		v += s.P[i] - s.N[i]
	}
	return v
}

func (s CounterState) String() string { return fmt.Sprintf("counter %d (updates %v)", s.Value(), s.U) }

func (s CounterState) clone() CounterState {
	return CounterState{P: slices.Clone(s.P), N: slices.Clone(s.N), U: slices.Clone(s.U)}
}

// merge folds o into s and reports whether s changed.
func (s *CounterState) merge(o CounterState, bug string) bool {
	if bug == BugTakeLarger {
		if o.Value() <= s.Value() {
			return false
		}
		*s = o.clone() // the seeded bug: what only s had is gone
		return true
	}
	changed := false
	for _, f := range [][2][]int{{s.P, o.P}, {s.N, o.N}, {s.U, o.U}} {
		mine, theirs := f[0], f[1]
		for i := range mine {
			if i < len(theirs) && theirs[i] > mine[i] {
				mine[i], changed = theirs[i], true
			}
		}
	}
	return changed
}

// CounterUpdate is the output of an acknowledged update: the origin's Seq-th.
type CounterUpdate struct{ Seq, Delta int }

// Counter is one node's replica of the counter, over gossip.
type Counter struct {
	cfg   node.Config
	self  node.ID
	State CounterState
}

const (
	keyState                          = "state"
	spread   node.Sub[gossip.Publish] = "gossip"
)

// NewCounter returns node id's counter replica.
func NewCounter(cfg node.Config, id node.ID) node.Node {
	n := cfg.N
	return &Counter{cfg: cfg, self: id, State: CounterState{P: make([]int, n), N: make([]int, n), U: make([]int, n)}}
}

// Start recovers the replica and publishes it.
func (c *Counter) Start(env node.Env) {
	if st, ok := node.Load[CounterState](env, keyState); ok {
		c.State = st
		spread.Request(env, gossip.Publish{State: c.State.clone()})
	}
}

// Request applies an update locally, syncs it, acknowledges it and spreads the new state.
func (c *Counter) Request(env node.Env, req node.Request) {
	a, ok := node.OpOf[Add](req)
	if !ok || a.Delta == 0 {
		return
	}
	i := int(c.self) - 1
	if a.Delta > 0 {
		c.State.P[i] += a.Delta
	} else {
		c.State.N[i] -= a.Delta
	}
	c.State.U[i]++
	c.save(env)
	env.Output(CounterUpdate{Seq: c.State.U[i], Delta: a.Delta})
}

// save syncs the state before anything depends on it, and spreads it.
func (c *Counter) save(env node.Env) {
	env.Store(keyState, c.State)
	env.Sync()
	spread.Request(env, gossip.Publish{State: c.State.clone()})
}

// Indication merges a state gossip brought.
func (c *Counter) Indication(env node.Env, child string, ind any) {
	r, ok := ind.(gossip.Received)
	if !ok {
		return
	}
	if o, ok := r.State.(CounterState); ok && len(o.P) == len(c.State.P) && c.State.merge(o, c.cfg.Bug) {
		c.save(env)
	}
}

func (c *Counter) Receive(node.Env, node.ID, node.Message) {}
func (c *Counter) Timer(node.Env, string)                  {}

// Size is the counter's entries.
func (c *Counter) Size() int { return 3 * len(c.State.P) }

// CounterModule describes the counter to the tools.
var CounterModule = &node.Module{
	Name:    "pn-counter",
	Summary: "state-based PN-counter: per-node increments and decrements, merged by maximum",
	New:     NewCounter,
	Bugs: []node.Bug{
		{Name: BugTakeLarger, Scenario: "default",
			Summary: "merging keeps whichever replica has the larger value, whole: the updates only the other had are lost"},
	},
}

// MergeCounters returns the merge of a and b, for tests and tools.
func MergeCounters(a, b CounterState) CounterState {
	m := a.clone()
	m.merge(b, "")
	return m
}
