package explore

import "fmt"

// Toy models for the tests. Each is as small as its test allows.

// mix is a bijective mixer (SplitMix64's finalizer), so injective states get distinct
// fingerprints.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// counter counts modulo n by one (action 0) or by two (action 1).
type counter struct{ n int }

func (c counter) Init() []int { return []int{0} }
func (c counter) Next(s int, yield func(int, int) bool) {
	_ = yield(0, (s+1)%c.n) && yield(1, (s+2)%c.n)
}
func (c counter) Fingerprint(s int) uint64 { return mix(uint64(s)) }
func (c counter) Violated(int) string      { return "" }

// line is a counter that stops at n-1 and can never go back: the states in a line, with
// sometimes-properties "reaches 3" and "reaches 1000".
type line struct{ n int }

func (l line) Init() []int { return []int{0} }
func (l line) Next(s int, yield func(int, int) bool) {
	if s < l.n-1 {
		yield(0, s+1)
	}
}
func (l line) Fingerprint(s int) uint64       { return mix(uint64(s)) }
func (l line) Violated(int) string            { return "" }
func (l line) SometimesProperties() []string  { return []string{"reaches 3", "reaches 1000"} }
func (l line) Sometimes(s int, i int) bool    { return s == []int{3, 1000}[i] }
func (l line) Label(s int, action int) string { return fmt.Sprintf("%d->%d", s, s+1) }
func (l line) Progress(s int) bool            { return s == l.n-1 }
func (l line) Canonical(s int) int            { return s }

// cell is a position on a grid.
type cell struct{ x, y int }

// grid walks on a w×h grid: action 0 moves right, 1 up, 2 left, 3 down. Standing on the bad
// cell breaks "avoid bad". Many shortest paths lead there; the lexicographically smallest
// moves right first.
type grid struct {
	w, h int
	bad  cell
}

func (g grid) Init() []cell { return []cell{{0, 0}} }
func (g grid) Next(s cell, yield func(int, cell) bool) {
	_ = (s.x+1 >= g.w || yield(0, cell{s.x + 1, s.y})) &&
		(s.y+1 >= g.h || yield(1, cell{s.x, s.y + 1})) &&
		(s.x == 0 || yield(2, cell{s.x - 1, s.y})) &&
		(s.y == 0 || yield(3, cell{s.x, s.y - 1}))
}
func (g grid) Fingerprint(s cell) uint64 { return mix(uint64(s.x)<<32 | uint64(s.y)) }
func (g grid) Violated(s cell) string {
	if s == g.bad {
		return "avoid bad"
	}
	return ""
}
func (g grid) Label(_ cell, action int) string {
	return []string{"right", "up", "left", "down"}[action]
}

// pair is two counters that count up to k, interchangeable: Canonical sorts them. The
// always-property "apart" breaks when they are 3 apart, which is symmetric.
type pair struct{ k int }

func (p pair) Init() []cell { return []cell{{0, 0}, {0, 0}, {1, 0}} } // a duplicate, and one not canonical
func (p pair) Next(s cell, yield func(int, cell) bool) {
	_ = (s.x == p.k || yield(0, cell{s.x + 1, s.y})) && (s.y == p.k || yield(1, cell{s.x, s.y + 1}))
}
func (p pair) Fingerprint(s cell) uint64 { return mix(uint64(s.x)<<32 | uint64(s.y)) }
func (p pair) Violated(s cell) string {
	if s.x-s.y == 3 || s.y-s.x == 3 {
		return "apart"
	}
	return ""
}
func (p pair) Canonical(s cell) cell {
	if s.x > s.y {
		return cell{s.y, s.x}
	}
	return s
}

// loops has a livelock and a deadlock away from its progress state 5:
//
//	0 -> 1 <-> 2      (livelock)
//	0 -> 3            (deadlock)
//	0 -> 4 -> 5 -> 5  (progress)
type loops struct{}

var loopsNext = [][]int{{1, 3, 4}, {2}, {1}, {}, {5}, {5}}

func (loops) Init() []int { return []int{0} }
func (loops) Next(s int, yield func(int, int) bool) {
	for a, t := range loopsNext[s] {
		if !yield(a, t) {
			return
		}
	}
}
func (loops) Fingerprint(s int) uint64 { return mix(uint64(s)) }
func (loops) Violated(int) string      { return "" }
func (loops) Progress(s int) bool      { return s == 5 }

// mapOrder is nondeterministic the way Go code often is by accident: action 1 builds its
// successor by iterating a Go map, whose order changes from one iteration to the next.
type mapOrder struct{ weights map[int]int }

func newMapOrder() mapOrder {
	w := map[int]int{}
	for i := range 8 {
		w[i] = i + 1
	}
	return mapOrder{w}
}

func (m mapOrder) Init() []int { return []int{0} }
func (m mapOrder) Next(s int, yield func(int, int) bool) {
	if !yield(0, (s+1)%50_000) {
		return
	}
	h := s
	for k, w := range m.weights {
		h = (h*31 + k*w) % 50_000
	}
	yield(1, h)
}
func (m mapOrder) Fingerprint(s int) uint64 { return mix(uint64(s)) }
func (m mapOrder) Violated(int) string      { return "" }

// unordered yields its actions in decreasing order, which Next must not do.
type unordered struct{}

func (unordered) Init() []int                           { return []int{0} }
func (unordered) Next(s int, yield func(int, int) bool) { _ = yield(1, 1) && yield(0, 2) }
func (unordered) Fingerprint(s int) uint64              { return mix(uint64(s)) }
func (unordered) Violated(int) string                   { return "" }

// infinite counts up forever.
type infinite struct{}

func (infinite) Init() []int                           { return []int{0} }
func (infinite) Next(s int, yield func(int, int) bool) { _ = yield(0, s+1) && yield(1, s+2) }
func (infinite) Fingerprint(s int) uint64              { return mix(uint64(s)) }
func (infinite) Violated(int) string                   { return "" }
