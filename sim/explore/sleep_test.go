package explore

import "testing"

// counters is n independent counters that each count to k: every interleaving of their
// steps commutes, so with sleep sets each state is reached once.
type counters struct{ n, k int }

func (c counters) Init() [][4]int8 { return [][4]int8{{}} }
func (c counters) Next(s [4]int8, yield func(int, [4]int8) bool) {
	c.NextSleep(s, func(uint64) bool { return false }, func(next [4]int8, id uint64, _ int32) bool {
		return yield(int(id), next)
	})
}
func (c counters) Fingerprint(s [4]int8) uint64 {
	return mix(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24)
}
func (c counters) Violated([4]int8) string { return "" }
func (c counters) Reducible() error        { return nil }
func (c counters) NextSleep(s [4]int8, asleep func(uint64) bool, yield func([4]int8, uint64, int32) bool) {
	for i := 0; i < c.n; i++ {
		if int(s[i]) < c.k && !asleep(uint64(i)) {
			next := s
			next[i]++
			if !yield(next, uint64(i), int32(i+1)) {
				return
			}
		}
	}
}

func TestSleepSetsReachEveryStateOnce(t *testing.T) {
	c := counters{3, 2}
	for _, workers := range []int{1, 2} {
		full := run(t, Model[[4]int8](c), Options{Workers: workers})
		red := run(t, Model[[4]int8](c), Options{Workers: workers, Reduce: true})
		if red.Reduction != "sleep sets" || full.Unique != 27 || red.Unique != 27 || full.Transitions != 54 || red.Transitions != 26 {
			t.Errorf("workers %d: unreduced %d states %d transitions; reduced (%s) %d states %d transitions; want 27/54 and 27/26",
				workers, full.Unique, full.Transitions, red.Reduction, red.Unique, red.Transitions)
		}
	}
}
