package sim

import (
	"context"
	"reflect"
	"testing"
	"unsafe"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim/explore"
)

// recycleCheck is the untimed world with a check on Recycle: what it takes back must share
// nothing it reuses with a state the search stored (found calls Violated on each stored
// state). It keeps every stored state, its slots and its arrays, so it is for small spaces.
type recycleCheck struct {
	*Untimed
	t        *testing.T
	stored   map[*UState]bool
	slots    map[*slot]bool
	arrays   map[unsafe.Pointer]bool // first elements of stored states' reused arrays
	recycled int
}

func (c *recycleCheck) Violated(s *UState) string {
	c.stored[s] = true
	for _, sl := range s.nodes {
		c.slots[sl] = true
	}
	for _, p := range reusedArrays(s) {
		c.arrays[p] = true
	}
	return c.Untimed.Violated(s)
}

func (c *recycleCheck) Recycle(s *UState) {
	if c.stored[s] {
		c.t.Fatalf("a stored state was recycled: %v", s)
	}
	for i, sl := range s.nodes {
		if s.own&(1<<i) != 0 && c.slots[sl] {
			c.t.Fatalf("n%d's slot of a recycled state is a stored state's", i+1)
		}
	}
	for _, p := range reusedArrays(s) {
		if c.arrays[p] {
			c.t.Fatalf("an array of a recycled state is a stored state's")
		}
	}
	c.recycled++
	c.Untimed.Recycle(s)
}

// reusedArrays returns the arrays Recycle keeps, by their first element.
func reusedArrays(s *UState) []unsafe.Pointer {
	var out []unsafe.Pointer
	if cap(s.nodes) > 0 {
		out = append(out, unsafe.Pointer(unsafe.SliceData(s.nodes)))
	}
	if cap(s.hashes) > 0 {
		out = append(out, unsafe.Pointer(unsafe.SliceData(s.hashes)))
	}
	if cap(s.inFlight) > 0 {
		out = append(out, unsafe.Pointer(unsafe.SliceData(s.inFlight)))
	}
	return out
}

// keepAll is the untimed world that recycles nothing: the search as it was before Recycle.
type keepAll struct{ *Untimed }

func (keepAll) Recycle(*UState) {}

// Recycling the successors a search drops as visited changes nothing it reports (counts,
// depth, verdict, paths, witnesses) with one worker or two, and never reuses memory a stored
// state holds: Paxos with a crash and a request, correct and with its no-persist bug.
func TestRecycledSuccessorsChangeNothing(t *testing.T) {
	params := map[string]int{paxos.ParamProposers: 2, paxos.ParamMaxRound: 1}
	for _, bug := range []string{"", paxos.BugNoPersist} {
		cfg := node.Config{N: 3, Bug: bug, Params: params}
		opts := UntimedOptions{Crashes: 1, Requests: 1}
		run := func(m explore.Model[*UState], workers int) *explore.Result {
			r, err := explore.Run(context.Background(), m, explore.Options{Workers: workers, MaxStates: 20_000})
			if err != nil {
				t.Fatal(err)
			}
			r.Wall, r.StatesPerSecond, r.PeakMemoryBytes, r.StoreBytes = 0, 0, 0, 0
			return r
		}
		want := run(keepAll{NewUntimed(paxos.Protocol, cfg, opts)}, 1)
		check := &recycleCheck{Untimed: NewUntimed(paxos.Protocol, cfg, opts), t: t,
			stored: map[*UState]bool{}, slots: map[*slot]bool{}, arrays: map[unsafe.Pointer]bool{}}
		got := run(check, 1)
		if check.recycled == 0 {
			t.Errorf("bug %q: nothing recycled", bug)
		}
		got2 := run(NewUntimed(paxos.Protocol, cfg, opts), 2)
		for _, r := range []*explore.Result{got, got2} {
			if !reflect.DeepEqual(r, want) {
				t.Errorf("bug %q: with recycling %+v (violation %+v), without %+v (violation %+v)", bug, *r, r.Violation, *want, want.Violation)
			}
		}
	}
}
