package checker

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// PropConvergence is the property of eventually consistent objects (node.Convergent).
const PropConvergence = "convergence"

// Convergence checks strong eventual consistency of a protocol's replicated objects
// (node.Protocol.Convergence):
//
//   - always, after every step: two replicas that are up and have seen the same updates
//     hold equal states (strong convergence), no replica holds an update its origin never
//     acknowledged (no invented update), and a replica holds every update it acknowledged
//     itself (no lost update at its origin: an update is acknowledged once it is durable);
//   - once faults heal, within the liveness bound: every replica that is up has seen the
//     same updates, including every update acknowledged by a node that is up (no lost
//     update), holds the same state, and that state is the one those updates define.
//
// The first is checked in every run; the second needs a liveness phase. The verdict (a
// Judge's) is Pass once the replicas converged after healing, Fail on a violation of either,
// and Unchecked for a run without a liveness phase, or one that a violation stopped first.
type Convergence struct {
	objects   []node.Convergent
	converged []bool
	outcome   Outcome
	buf       []replica // reused from step to step
}

// NewConvergence returns the factory of a convergence monitor of objects.
func NewConvergence(objects []node.Convergent) func() sim.Monitor {
	return func() sim.Monitor {
		return &Convergence{objects: objects, converged: make([]bool, len(objects))}
	}
}

// replica is one node's replica of an object.
type replica struct {
	id    node.ID
	seen  []int
	state any
}

func (c *Convergence) replicas(w *sim.World, o node.Convergent) []replica {
	rs := c.buf[:0]
	defer func() { c.buf = rs[:0] }()
	for id := node.ID(1); int(id) <= w.Config().N; id++ {
		if !w.Up(id) || !w.Correct(id) {
			continue
		}
		if seen, st, ok := o.Replica(w, id); ok {
			rs = append(rs, replica{id, seen, st})
		}
	}
	return rs
}

func equal(o node.Convergent, a, b any) bool {
	if o.Equal != nil {
		return o.Equal(a, b)
	}
	return reflect.DeepEqual(a, b)
}

// Step checks strong convergence and invention always, and convergence once healed.
func (c *Convergence) Step(w *sim.World) *sim.Violation {
	healed, _ := w.Healed()
	for i, o := range c.objects {
		rs := c.replicas(w, o)
		acked := o.Acknowledged(w)
		for _, r := range rs {
			if own := int(r.id) - 1; own < len(acked) && at(r.seen, own) < acked[own] {
				return c.fail(w, fmt.Sprintf("%s: n%d's replica has lost its own update %d, which it acknowledged (it holds %d of them)",
					o.Name, r.id, acked[own], at(r.seen, own)))
			}
			for k, n := range r.seen {
				if k < len(acked) && n > acked[k] || k >= len(acked) && n > 0 {
					return c.fail(w, fmt.Sprintf("%s: n%d holds update %d of n%d, which n%d never acknowledged (an invented update)",
						o.Name, r.id, n, k+1, k+1))
				}
			}
		}
		for a := range rs {
			for b := a + 1; b < len(rs); b++ {
				if slices.Equal(rs[a].seen, rs[b].seen) && !equal(o, rs[a].state, rs[b].state) {
					return c.fail(w, fmt.Sprintf("%s: n%d and n%d have seen the same updates %v but hold different states: %s and %s",
						o.Name, rs[a].id, rs[b].id, rs[a].seen, sim.Summary(rs[a].state), sim.Summary(rs[b].state)))
				}
			}
		}
		if healed && !c.converged[i] && len(c.pending(w, o, rs, acked)) == 0 {
			c.converged[i] = true
		}
	}
	if healed && !slices.Contains(c.converged, false) {
		c.outcome = Pass
	}
	return nil
}

// pending lists why the replicas rs of object o have not converged.
func (c *Convergence) pending(w *sim.World, o node.Convergent, rs []replica, acked []int) []string {
	var out []string
	for _, r := range rs {
		for k := range acked {
			if origin := node.ID(k + 1); w.Up(origin) && w.Correct(origin) && (k >= len(r.seen) || r.seen[k] < acked[k]) {
				out = append(out, fmt.Sprintf("n%d has seen %d of the %d updates n%d acknowledged", r.id, at(r.seen, k), acked[k], origin))
			}
		}
	}
	for _, r := range rs[min(1, len(rs)):] {
		if !slices.Equal(r.seen, rs[0].seen) {
			out = append(out, fmt.Sprintf("n%d has seen updates %v, n%d %v", r.id, r.seen, rs[0].id, rs[0].seen))
		}
	}
	if len(out) == 0 && len(rs) > 0 {
		if want := o.Expected(w, rs[0].seen); !equal(o, rs[0].state, want) {
			out = append(out, fmt.Sprintf("the replicas hold %s, but the updates they saw define %s", sim.Summary(rs[0].state), sim.Summary(want)))
		}
	}
	return out
}

func at(xs []int, k int) int {
	if k < len(xs) {
		return xs[k]
	}
	return 0
}

func (c *Convergence) fail(w *sim.World, msg string) *sim.Violation {
	c.outcome = Fail
	return violation(w, PropConvergence, msg)
}

// End fails a healed run whose replicas did not converge within the liveness bound.
func (c *Convergence) End(w *sim.World) *sim.Violation {
	healed, at := w.Healed()
	if !healed || c.outcome == Pass {
		return nil
	}
	var why []string
	for i, o := range c.objects {
		if !c.converged[i] {
			for _, p := range c.pending(w, o, c.replicas(w, o), o.Acknowledged(w)) {
				why = append(why, o.Name+": "+p)
			}
		}
	}
	_, bound := w.Phases()
	v := c.fail(w, fmt.Sprintf("the replicas did not converge within %v after healing at %s: %s", bound, seconds(at), strings.Join(why, "; ")))
	v.Pending = why
	return v
}

// Verdict is the outcome of the check.
func (c *Convergence) Verdict() (string, Outcome) { return PropConvergence, c.outcome }
