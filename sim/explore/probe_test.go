package explore

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// drunk walks a line of n cells: +1, -1 (not below 0), or a toggle of a bit that moves
// nothing. Reaching the last cell breaks "far", in n-1 steps at the least. It names its moves
// (SleepModel), so the probe can take steps out of a walk's path.
type drunk struct{ n int }

type spot struct{ pos, bit int8 }

func (d drunk) Init() []spot { return []spot{{}} }
func (d drunk) Next(s spot, yield func(int, spot) bool) {
	i := 0
	d.NextSleep(s, never, func(next spot, _ uint64, _ int32) bool {
		ok := yield(i, next)
		i++
		return ok
	})
}
func (d drunk) Fingerprint(s spot) uint64 { return mix(uint64(s.pos)<<8 | uint64(s.bit)) }
func (d drunk) Violated(s spot) string {
	if int(s.pos) == d.n-1 {
		return "far"
	}
	return ""
}
func (d drunk) SometimesProperties() []string { return []string{"toggled"} }
func (d drunk) Sometimes(s spot, _ int) bool  { return s.bit == 1 }
func (d drunk) Reducible() error              { return nil }
func (d drunk) NextSleep(s spot, asleep func(uint64) bool, yield func(spot, uint64, int32) bool) {
	moves := []struct {
		ok   bool
		next spot
	}{{true, spot{s.pos + 1, s.bit}}, {s.pos > 0, spot{s.pos - 1, s.bit}}, {true, spot{s.pos, 1 - s.bit}}}
	for id, m := range moves {
		if m.ok && !asleep(uint64(id)) && !yield(m.next, uint64(id), 0) {
			return
		}
	}
}

// replayed follows p in m and returns its last state.
func replayed[S any](t *testing.T, m Model[S], p Path) S {
	t.Helper()
	states, err := Replay(m, p)
	if err != nil {
		t.Fatalf("the path does not replay: %v", err)
	}
	return states[len(states)-1]
}

// The probe's walk breaks "far"; the path reported is shortened to the n-1 steps right, it
// replays, and nothing of it depends on the number of workers.
func TestProbeFindsAndShortens(t *testing.T) {
	m := drunk{8}
	var first *Result
	for _, workers := range []int{1, 2, 3} {
		r := run(t, Model[spot](m), Options{Probe: 10000, Workers: workers})
		p := r.Probe
		if r.Violation == nil || r.Violation.Property != "far" || r.Stopped != "violation" || r.Complete || p == nil || p.Hit < 0 {
			t.Fatalf("workers %d: violation %+v, stopped %q, probe %+v", workers, r.Violation, r.Stopped, p)
		}
		if got := len(r.Violation.Path.Actions); got != 7 || p.Length < 7 {
			t.Errorf("workers %d: path of %d steps from a walk of %d; want 7, the shortest", workers, got, p.Length)
		}
		if s := replayed(t, Model[spot](m), r.Violation.Path); m.Violated(s) != "far" {
			t.Errorf("workers %d: the path ends in %+v", workers, s)
		}
		if first == nil {
			first = r
			continue
		}
		want := *first.Probe
		want.Wall = p.Wall
		if *p != want || !reflect.DeepEqual(r.Violation, first.Violation) || !reflect.DeepEqual(r.Witnesses, first.Witnesses) {
			t.Errorf("workers %d: probe %+v path %v; with 1 worker %+v %v", workers, *p, r.Violation.Path, *first.Probe, first.Violation.Path)
		}
	}
}

// A model that does not name its moves gets the walk's own path, which replays.
func TestProbeKeepsAWalkItCannotShorten(t *testing.T) {
	g := grid{w: 4, h: 4, bad: cell{3, 3}}
	r := run(t, Model[cell](g), Options{Probe: 10000})
	if r.Violation == nil || r.Probe.Hit < 0 || len(r.Violation.Path.Actions) != r.Probe.Length {
		t.Fatalf("violation %+v, probe %+v", r.Violation, r.Probe)
	}
	if s := replayed(t, Model[cell](g), r.Violation.Path); s != g.bad {
		t.Errorf("the path ends in %+v", s)
	}
}

// When no walk breaks a property, the search runs as without the probe; on a small space the
// walks stop early. Walks bounded by MaxDepth do not reach beyond it.
func TestProbeLeavesTheSearchAlone(t *testing.T) {
	for _, c := range []struct {
		name string
		run  func(Options) (*Result, error)
	}{
		{"line", explorer(Model[int](line{50}))},
		{"drunk within 5 steps", explorer(Model[spot](drunk{8}))},
	} {
		opts := Options{Workers: 2}
		if strings.HasPrefix(c.name, "drunk") {
			opts.MaxDepth = 5
		}
		plain, err := c.run(opts)
		if err != nil {
			t.Fatal(err)
		}
		opts.Probe = 100_000
		probed, err := c.run(opts)
		if err != nil {
			t.Fatal(err)
		}
		p := probed.Probe
		if p == nil || p.Hit != -1 || p.Steps >= 100_000 || p.States == 0 {
			t.Errorf("%s: probe %+v, want no hit and an early stop", c.name, p)
		}
		if !reflect.DeepEqual(summarize(plain), summarize(probed)) {
			t.Errorf("%s: without the probe %+v, with it %+v", c.name, summarize(plain), summarize(probed))
		}
	}
	if _, err := Run(t.Context(), Model[int](line{3}), Options{Probe: -1}); err == nil {
		t.Error("a negative Probe is accepted")
	}
}

// endless is a line without end: every walk reaches new states, so nothing but time stops
// the walks.
type endless struct{}

func (endless) Init() []int { return []int{0} }
func (endless) Next(s int, yield func(int, int) bool) {
	_ = yield(0, s+1) && yield(1, s+2)
}
func (endless) Fingerprint(s int) uint64 { return mix(uint64(s)) }
func (endless) Violated(int) string      { return "" }

// A deadline on the search's context gives the walks a quarter of the time left, and a walk
// stops within its steps when the time is up: the search runs after them.
func TestProbeTakesAQuarterOfTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	r, err := Run(ctx, Model[int](endless{}), Options{Probe: 1 << 40, MaxDepth: 1 << 30, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Probe == nil || r.Probe.Wall > 400*time.Millisecond || r.Unique == 0 || r.Stopped != "timeout" {
		t.Errorf("probe %+v, then %d states, stopped %q; want the walks to take about 200ms and the search the rest",
			r.Probe, r.Unique, r.Stopped)
	}
}
