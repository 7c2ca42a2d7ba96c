package crdt

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/replica-io/replica/protocols/gossip"
	"github.com/replica-io/replica/protocols/node"
)

// BugDropTombstones is the set's seeded bug: merging keeps the other replica's additions but
// not its removals, so an element removed elsewhere comes back.
const BugDropTombstones = "drop-tombstones"

// The set's requests.
type (
	Insert struct{ Elem string }
	Delete struct{ Elem string }
)

// Dot names an addition: node Node's Seq-th update.
type Dot struct {
	Node node.ID
	Seq  int
}

func (d Dot) cmp(o Dot) int { return cmp.Or(cmp.Compare(d.Node, o.Node), cmp.Compare(d.Seq, o.Seq)) }

// Tagged is an element added under a dot.
type Tagged struct {
	Dot  Dot
	Elem string
}

// SetState is an observed-remove set (add-wins; Shapiro et al., 2011): every addition is
// tagged with a unique dot, and a removal removes the dots of the element it observed, so an
// addition concurrent with a removal survives it. U is the replica's version vector. Merging
// is the union of the additions and of the removed dots.
type SetState struct {
	Adds    []Tagged // by dot
	Removed []Dot    // sorted
	U       []int
}

// Elems lists the elements in the set, sorted.
func (s SetState) Elems() []string {
	var out []string
	for _, t := range s.Adds {
		if _, gone := slices.BinarySearchFunc(s.Removed, t.Dot, Dot.cmp); !gone && !slices.Contains(out, t.Elem) {
			out = append(out, t.Elem)
		}
	}
	slices.Sort(out)
	return out
}

func (s SetState) String() string {
	return fmt.Sprintf("set {%s} (updates %v)", strings.Join(s.Elems(), ","), s.U)
}

func (s SetState) clone() SetState {
	return SetState{Adds: slices.Clone(s.Adds), Removed: slices.Clone(s.Removed), U: slices.Clone(s.U)}
}

func (s *SetState) addTagged(t Tagged) bool {
	i, found := slices.BinarySearchFunc(s.Adds, t.Dot, func(x Tagged, d Dot) int { return x.Dot.cmp(d) })
	if found {
		return false
	}
	s.Adds = slices.Insert(s.Adds, i, t)
	return true
}

func (s *SetState) remove(d Dot) bool {
	i, found := slices.BinarySearchFunc(s.Removed, d, Dot.cmp)
	if found {
		return false
	}
	s.Removed = slices.Insert(s.Removed, i, d)
	return true
}

// merge folds o into s and reports whether s changed.
func (s *SetState) merge(o SetState, bug string) bool {
	changed := false
	for _, t := range o.Adds {
		changed = s.addTagged(t) || changed
	}
	if bug != BugDropTombstones { // the seeded bug forgets what the other replica removed
		for _, d := range o.Removed {
			changed = s.remove(d) || changed
		}
	}
	for i := range s.U {
		if i < len(o.U) && o.U[i] > s.U[i] {
			s.U[i], changed = o.U[i], true
		}
	}
	return changed
}

// SetUpdate is the output of an acknowledged update: the origin's Seq-th, adding Elem, or
// removing the dots Removed of it.
type SetUpdate struct {
	Seq     int
	Elem    string
	Insert  bool
	Removed []Dot
}

// Set is one node's replica of the set, over gossip.
type Set struct {
	cfg   node.Config
	self  node.ID
	State SetState
}

// NewSet returns node id's set replica.
func NewSet(cfg node.Config, id node.ID) node.Node {
	return &Set{cfg: cfg, self: id, State: SetState{U: make([]int, cfg.N)}}
}

// Start recovers the replica and publishes it.
func (s *Set) Start(env node.Env) {
	if st, ok := node.Load[SetState](env, keyState); ok {
		s.State = st
		spread.Request(env, gossip.Publish{State: s.State.clone()})
	}
}

// Request applies an update locally, syncs it, acknowledges it and spreads the new state.
func (s *Set) Request(env node.Env, req node.Request) {
	i := int(s.self) - 1
	u := SetUpdate{}
	switch op := req.Op.(type) {
	case Insert:
		s.State.U[i]++
		u = SetUpdate{Seq: s.State.U[i], Elem: op.Elem, Insert: true}
		s.State.addTagged(Tagged{Dot: Dot{s.self, u.Seq}, Elem: op.Elem})
	case Delete:
		s.State.U[i]++
		u = SetUpdate{Seq: s.State.U[i], Elem: op.Elem}
		for _, t := range s.State.Adds {
			if t.Elem == op.Elem && s.State.remove(t.Dot) {
				u.Removed = append(u.Removed, t.Dot)
			}
		}
	default:
		return
	}
	env.Store(keyState, s.State)
	env.Sync()
	env.Output(u)
	spread.Request(env, gossip.Publish{State: s.State.clone()})
}

// Indication merges a state gossip brought.
func (s *Set) Indication(env node.Env, child string, ind any) {
	r, ok := ind.(gossip.Received)
	if !ok {
		return
	}
	if o, ok := r.State.(SetState); ok && len(o.U) == len(s.State.U) && s.State.merge(o, s.cfg.Bug) {
		env.Store(keyState, s.State)
		env.Sync()
		spread.Request(env, gossip.Publish{State: s.State.clone()})
	}
}

func (s *Set) Receive(node.Env, node.ID, node.Message) {}
func (s *Set) Timer(node.Env, string)                  {}

// Size is the additions and removals the set keeps.
func (s *Set) Size() int { return len(s.State.Adds) + len(s.State.Removed) }

// SetModule describes the set to the tools.
var SetModule = &node.Module{
	Name:    "or-set",
	Summary: "state-based observed-remove set (add-wins): tagged additions, removals of observed tags",
	New:     NewSet,
	Bugs: []node.Bug{
		{Name: BugDropTombstones, Scenario: "default",
			Summary: "merging keeps the other replica's additions but not its removals: a removed element comes back"},
	},
}

// MergeSets returns the merge of a and b, for tests and tools.
func MergeSets(a, b SetState) SetState {
	m := a.clone()
	m.merge(b, "")
	return m
}
