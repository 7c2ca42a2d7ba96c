package explore

import (
	"context"
	"testing"
)

// boxes is the counter with each state behind a pointer of its own, and Recycle: it checks
// that what the search hands back is a successor that was never stored (the search calls
// Violated on each state it stores, exactly once) nor handed back before.
type boxes struct {
	t        *testing.T
	n        int
	stored   map[*int]bool
	recycled map[*int]bool
}

func newBoxes(t *testing.T, n int) *boxes {
	return &boxes{t: t, n: n, stored: map[*int]bool{}, recycled: map[*int]bool{}}
}

func box(v int) *int { return &v }

func (b *boxes) Init() []*int { return []*int{box(0)} }
func (b *boxes) Next(s *int, yield func(int, *int) bool) {
	_ = yield(0, box((*s+1)%b.n)) && yield(1, box((*s+2)%b.n))
}
func (b *boxes) Fingerprint(s *int) uint64 { return mix(uint64(*s)) }
func (b *boxes) Violated(s *int) string {
	if b.recycled[s] {
		b.t.Errorf("state %d stored after it was recycled", *s)
	}
	b.stored[s] = true
	return ""
}
func (b *boxes) Recycle(s *int) {
	switch {
	case b.stored[s]:
		b.t.Errorf("state %d recycled, but it was stored", *s)
	case b.recycled[s]:
		b.t.Errorf("state %d recycled twice", *s)
	}
	b.recycled[s] = true
}

// The breadth-first search hands every successor it drops as visited to Recycle, once, and
// no other. (One worker: the model's maps are not safe for two.)
func TestRecycleGetsOnlyDuplicates(t *testing.T) {
	b := newBoxes(t, 5000)
	r, err := Run(context.Background(), Model[*int](b), Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unique != 5000 || !r.Complete {
		t.Fatalf("unique %d complete %v, want 5000 states, complete", r.Unique, r.Complete)
	}
	if int64(len(b.stored)) != r.Unique {
		t.Errorf("%d states stored, result says %d", len(b.stored), r.Unique)
	}
	// Every transition's successor is stored or recycled (the initial state is neither
	// a transition nor recycled).
	if got, want := int64(len(b.recycled)), r.Transitions-(r.Unique-1); got != want {
		t.Errorf("%d successors recycled, want the %d duplicates", got, want)
	}
}

// With symmetry or sleep sets a dropped successor may still be held (a canonical form may
// share its parts; a revisit keeps it), so nothing is recycled.
func TestRecycleOffWithSymmetryAndSleepSets(t *testing.T) {
	for _, o := range []Options{{Workers: 1, Symmetry: true}, {Workers: 1, Reduce: true}} {
		b := &symBoxes{boxes: newBoxes(t, 100)}
		if _, err := Run(context.Background(), Model[*int](b), o); err != nil {
			t.Fatal(err)
		}
		if len(b.recycled) != 0 {
			t.Errorf("%+v: %d states recycled, want none", o, len(b.recycled))
		}
	}
}

// symBoxes is boxes with a Canonical method and sleep sets that say nothing commutes.
type symBoxes struct{ *boxes }

func (b *symBoxes) Canonical(s *int) *int { return s }
func (b *symBoxes) Reducible() error      { return nil }
func (b *symBoxes) NextSleep(s *int, asleep func(uint64) bool, yield func(*int, uint64, int32) bool) {
	_ = yield(box((*s+1)%b.n), 0, 0) && yield(box((*s+2)%b.n), 1, 0)
}
