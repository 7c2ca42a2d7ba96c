package scenarios

import (
	"fmt"

	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// PropDeterminism names the failure of a run that two runs of the same choices do not
// reproduce: their traces differ, so something outside the chooser (Go map order, the wall
// clock, a goroutine, global state) reaches it. Campaigns report it (`replica run
// -check-determinism`) and record it in the failing seed's capsule; replaying such a capsule,
// whether by `replica replay` (ReplayCapsule) or a regression corpus (ReplayAs), runs its
// choices twice and judges it the same way.
const PropDeterminism = "determinism"

// DeterminismRuns is how many times in all a replay runs the choices of a capsule that records
// a determinism failure, at most: it stops at the first run whose trace differs from the
// first run's. Two runs, as the campaign made, would do for a run that differs every time;
// one whose nondeterminism shows in some runs only (a map of two keys, ranged over in the
// same order half the time) would then pass a replay or a regression corpus now and then, a
// gate that flickers: pbkv's map-order bug, whose runs differ about three times in five,
// passed one replay in ten with four runs and one of its seeds one in seven with eight. A
// deterministic run costs this many runs, of one capsule.
const DeterminismRuns = 32

// judgesDeterminism reports whether replays of c run more than once: c records a
// determinism failure.
func judgesDeterminism(c *capsule.Capsule) bool { return c.Property == PropDeterminism }

// againAndCompare runs the choices of a determinism capsule again (run), after a first run
// without another violation, until a trace differs from first's or DeterminismRuns runs in
// all: the violation of determinism, or nil; or the run that did not finish (stuck), with
// its result.
func againAndCompare(first sim.Result, run func() (sim.Result, *sim.Stuck)) (*sim.Violation, sim.Result, *sim.Stuck) {
	for range DeterminismRuns - 1 {
		again, stuck := run()
		if stuck != nil {
			return nil, again, stuck
		}
		if v := Nondeterministic(first, again); v != nil {
			return v, again, nil
		}
	}
	return nil, sim.Result{}, nil
}

// Nondeterministic compares two runs of the same choices: nil when their traces are the
// same, else a violation of PropDeterminism at the first entry where the traces part (when
// both runs kept their whole trace), with the entries before it in the first run as its
// context.
func Nondeterministic(a, b sim.Result) *sim.Violation {
	if a.TraceHash == b.TraceHash {
		return nil
	}
	v := &sim.Violation{Property: PropDeterminism, Message: fmt.Sprintf("two runs of the same choices gave different traces "+
		"(%016x, then %016x): something outside the chooser (map order, wall clock, a goroutine, global state) reaches the run",
		a.TraceHash, b.TraceHash)}
	if len(a.Trace) == 0 && len(b.Trace) == 0 {
		return v
	}
	i := 0
	for i < min(len(a.Trace), len(b.Trace)) && a.Trace[i].String() == b.Trace[i].String() {
		i++
	}
	switch {
	case i < min(len(a.Trace), len(b.Trace)):
		v.Event, v.Time = a.Trace[i].Event, a.Trace[i].Time
		v.Details = []string{"the traces part at event " + fmt.Sprint(v.Event) + ":",
			"first run:  " + a.Trace[i].String(), "second run: " + b.Trace[i].String()}
	default:
		v.Details = []string{fmt.Sprintf("one trace is a prefix of the other (%d and %d entries)", len(a.Trace), len(b.Trace))}
		if i > 0 {
			v.Event, v.Time = a.Trace[i-1].Event, a.Trace[i-1].Time
		}
	}
	v.Context = a.Trace[max(0, min(i, len(a.Trace))-sim.DefaultContext):min(i, len(a.Trace))]
	return v
}
