// Package crdt is an eventually consistent store of state-based CRDTs (Shapiro, Preguiça,
// Baquero and Zawirski, "Conflict-free replicated data types", 2011) over gossip, assembled
// from components:
//
//	""              Store    the local clients: a fixed number of updates per node
//	counter         Counter  a PN-counter
//	counter/gossip  gossip   anti-entropy of the counter's state
//	set             Set      an observed-remove set
//	set/gossip      gossip   anti-entropy of the set's state
//
// Every update is applied at once to the local replica, synced, acknowledged (an output), and
// spread by gossip; a replica merges every state that arrives. No node waits for another, so
// the store stays available under any partition, and the replicas agree only eventually:
// strong eventual consistency, which the convergence checker (checker.Convergence) judges from
// the protocol's Convergence: replicas that saw the same updates hold the same state, always;
// after healing every replica that is up sees every update acknowledged by a node that is up,
// and holds the state those updates define.
//
// Seeded bugs: take-larger (the counter merges by keeping the replica with the larger value,
// losing the other's updates), drop-tombstones (the set's merge forgets removals) and
// push-once (gossip without periodic anti-entropy); each found as a convergence violation.
//
// Swapping a component is one line of Parts: another gossip policy, or another CRDT for the
// same requests.
package crdt

import (
	"fmt"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/gossip"
	"github.com/replica-io/replica/protocols/node"
)

// Parts is the stack.
var Parts = []node.Part{
	{Path: "", Module: StoreModule},
	{Path: "counter", Module: CounterModule},
	{Path: "counter/gossip", Module: gossip.Module},
	{Path: "set", Module: SetModule},
	{Path: "set/gossip", Module: gossip.Module},
}

// Protocol describes the stack to the tools.
var Protocol = node.Compose(&node.Protocol{
	Name:        "crdt",
	Summary:     "eventually consistent store: a PN-counter and an observed-remove set, state-based CRDTs over gossip",
	DefaultN:    3,
	MinN:        1,
	Quorum:      func(n int) int { return 1 }, // every node serves alone: any node that is up makes progress
	Timing:      node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond},
	Progress:    converged,
	Convergence: objects,
	MaxSize: func(cfg node.Config) int {
		u := cfg.Param(ParamUpdates, DefaultUpdates) * cfg.N
		return 3*cfg.N + 2*u + 2*(cfg.N+2)
	},
}, Parts...)

// converged is the progress demanded after healing: every replica that is up has seen the
// same updates, among them every update acknowledged by a node that is up. It names the first
// replica short of that, per object.
func converged(w node.World) []string {
	var pending []string
	for _, o := range objects {
		if p := behind(w, o); p != "" {
			pending = append(pending, o.Name+": "+p)
		}
	}
	return pending
}

func behind(w node.World, o node.Convergent) string {
	acked := o.Acknowledged(w)
	var first []int
	var firstBy node.ID
	for id := node.ID(1); int(id) <= w.Config().N; id++ {
		seen, _, ok := o.Replica(w, id)
		if !ok {
			continue
		}
		for k, n := range acked {
			if w.Up(node.ID(k+1)) && seen[k] < n {
				return fmt.Sprintf("n%d has seen %d of n%d's %d updates", id, seen[k], k+1, n)
			}
		}
		if first == nil {
			first, firstBy = seen, id
		} else if !slices.Equal(seen, first) {
			return fmt.Sprintf("n%d has seen %v, n%d %v", id, seen, firstBy, first)
		}
	}
	return ""
}

var objects = []node.Convergent{counterObject, setObject}

// updates lists, per origin in order, the acknowledged updates of the component at path (its
// outputs of type U), with how many there are, for the convergence checker. A world with memos
// keeps the lists up to date step by step.
type updates[U any] struct {
	seen     int
	byOrigin [][]U
	counts   []int
}

// objectOutputs are the memo keys and scoped views of the two objects' components.
var (
	counterKey = "crdt updates of counter"
	setKey     = "crdt updates of set"
)

var (
	counterScope = node.ScopeTo("counter")
	setScope     = node.ScopeTo("set")
)

func updatesOf[U any](w node.World, scope node.Scoper, key string) *updates[U] {
	n := w.Config().N
	fresh := func() *updates[U] { return &updates[U]{byOrigin: make([][]U, n), counts: make([]int, n)} }
	ix, memo := node.Memo(w, key, fresh)
	if !memo {
		ix = fresh()
	}
	outs := scope.Of(w).Outputs()
	for _, o := range outs[ix.seen:] {
		if u, ok := o.Value.(U); ok {
			ix.byOrigin[o.Node-1] = append(ix.byOrigin[o.Node-1], u)
			ix.counts[o.Node-1]++
		}
	}
	ix.seen = len(outs)
	return ix
}

var counterObject = node.Convergent{
	Name: "counter",
	Replica: func(w node.World, id node.ID) ([]int, any, bool) {
		c, ok := node.StateAt[*Counter](w, id, "counter")
		if !ok {
			return nil, nil, false
		}
		return c.State.U, &c.State, true
	},
	Acknowledged: func(w node.World) []int { return updatesOf[CounterUpdate](w, counterScope, counterKey).counts },
	Equal: func(a, b any) bool {
		x, y := a.(*CounterState), b.(*CounterState)
		return slices.Equal(x.P, y.P) && slices.Equal(x.N, y.N) && slices.Equal(x.U, y.U)
	},
	Expected: func(w node.World, seen []int) any {
		n := w.Config().N
		s := &CounterState{P: make([]int, n), N: make([]int, n), U: append([]int(nil), seen...)}
		for i, us := range updatesOf[CounterUpdate](w, counterScope, counterKey).byOrigin {
			for _, u := range us[:min(len(us), seen[i])] {
				if u.Delta > 0 {
					s.P[i] += u.Delta
				} else {
					s.N[i] -= u.Delta
				}
			}
		}
		return s
	},
}

var setObject = node.Convergent{
	Name: "set",
	Replica: func(w node.World, id node.ID) ([]int, any, bool) {
		s, ok := node.StateAt[*Set](w, id, "set")
		if !ok {
			return nil, nil, false
		}
		return s.State.U, &s.State, true
	},
	Acknowledged: func(w node.World) []int { return updatesOf[SetUpdate](w, setScope, setKey).counts },
	Equal: func(a, b any) bool {
		x, y := a.(*SetState), b.(*SetState)
		return slices.Equal(x.Adds, y.Adds) && slices.Equal(x.Removed, y.Removed) && slices.Equal(x.U, y.U)
	},
	Expected: func(w node.World, seen []int) any {
		s := &SetState{U: append([]int(nil), seen...)}
		for i, us := range updatesOf[SetUpdate](w, setScope, setKey).byOrigin {
			for _, u := range us[:min(len(us), seen[i])] {
				if u.Insert {
					s.addTagged(Tagged{Dot: Dot{node.ID(i + 1), u.Seq}, Elem: u.Elem})
				}
				for _, d := range u.Removed {
					s.remove(d)
				}
			}
		}
		return s
	},
}
