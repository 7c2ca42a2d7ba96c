package explore

import (
	"testing"

	"github.com/replica-io/replica/internal/machine"
)

// hoard is an infinite binary tree whose states each hold a kilobyte, so that a search of
// it outgrows any memory budget.
type hoard struct{}

type heavy struct {
	n   uint64
	pad *[1024]byte
}

func (hoard) Init() []heavy { return []heavy{newHeavy(0)} }
func (hoard) Next(s heavy, yield func(int, heavy) bool) {
	_ = yield(0, newHeavy(2*s.n+1)) && yield(1, newHeavy(2*s.n+2))
}

// newHeavy writes into its kilobyte, so that the memory is resident, not merely reserved.
func newHeavy(n uint64) heavy {
	s := heavy{n, new([1024]byte)}
	for i := 0; i < len(s.pad); i += 256 {
		s.pad[i] = byte(n)
	}
	return s
}
func (hoard) Fingerprint(s heavy) uint64 { return mix(s.n) }
func (hoard) Violated(heavy) string      { return "" }

func TestMaxMemoryStopsTheSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a few hundred megabytes")
	}
	now, _ := machine.Resident()
	budget := now + 96<<20
	for _, opts := range []Options{
		{MaxMemory: budget, Workers: 1},
		{MaxMemory: budget, Workers: 2},
		{MaxMemory: budget, Strategy: DepthFirst},
	} {
		r := run(t, Model[heavy](hoard{}), opts)
		if r.Complete || r.Stopped != "max-memory" || r.Unique == 0 {
			t.Errorf("%v workers %d: complete %v, stopped %q after %d states; want stopped by max-memory",
				opts.Strategy, opts.Workers, r.Complete, r.Stopped, r.Unique)
		}
		// The search stops within a block or two of the budget: at a kilobyte a state, well
		// under 48 MiB more than the budget, even before the collector has run.
		if held, _ := machine.Resident(); held > budget+48<<20 {
			t.Errorf("%v workers %d: %d MiB resident after the search, over a budget of %d MiB", opts.Strategy, opts.Workers, held>>20, budget>>20)
		}
	}
}

func TestMaxMemoryLeavesSmallSearchesAlone(t *testing.T) {
	now, _ := machine.Resident()
	r := run(t, Model[int](counter{10}), Options{MaxMemory: now + 256<<20})
	if !r.Complete || r.Unique != 10 {
		t.Errorf("complete %v, stopped %q, %d states; want the whole counter", r.Complete, r.Stopped, r.Unique)
	}
	if _, err := Run(t.Context(), Model[int](counter{10}), Options{MaxMemory: -1}); err == nil {
		t.Error("a negative MaxMemory was accepted")
	}
}
