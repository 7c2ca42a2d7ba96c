package sim

import "testing"

func TestSeededStreamsAreIndependent(t *testing.T) {
	// Drawing more from one purpose must not shift another purpose's stream.
	a, b := NewSeeded(42), NewSeeded(42)
	for i := 0; i < 10; i++ {
		b.Choose(Workload, 100)
	}
	for i := 0; i < 20; i++ {
		if x, y := a.Choose(Network, 1000), b.Choose(Network, 1000); x != y {
			t.Fatalf("draw %d of the network stream: %d vs %d after extra workload draws", i, x, y)
		}
	}
}

func TestRecordedFoldsAndPadsWithZero(t *testing.T) {
	r := NewRecorded([]int32{3, 7, -1})
	if got := r.Choose(Faults, 5); got != 3 {
		t.Errorf("first choice %d, want 3", got)
	}
	if r.Diverged() {
		t.Error("diverged after an in-range choice")
	}
	if got := r.Choose(Faults, 5); got != 2 { // 7 folded into [0,5)
		t.Errorf("folded choice %d, want 2", got)
	}
	if got := r.Choose(Faults, 5); got != 4 { // -1 folded
		t.Errorf("folded negative choice %d, want 4", got)
	}
	if got := r.Choose(Faults, 5); got != 0 {
		t.Errorf("choice past the end %d, want 0", got)
	}
	if !r.Diverged() {
		t.Error("a replay that folded values and ran past the end does not report divergence")
	}
}
