package sim

import (
	"fmt"
	"time"
)

// The event budget. A run that takes more events than Config.MaxEvents is not, by itself, a
// protocol's failure: asked to simulate a hundred thousand hours, a correct protocol takes
// events all that time. What is a failure is a run that runs away: events that follow one
// another without virtual time advancing (messages or timers with zero delay, bouncing
// forever), which no length of run explains. So the simulator tells the two apart:
//
//   - RunawayEvents events in a row at one virtual instant (or half the budget, if that is
//     less) violate PropEventBudget, the protocol's fault;
//   - reaching MaxEvents otherwise stops the run where it is: Result.Exhausted, checked up to
//     there and not failed, but not judged at its end either (its liveness phase may not
//     have come), which campaigns report apart from violations.

// RunawayEvents is how many events in a row at one virtual instant make a run a runaway.
const RunawayEvents = 100_000

// eventBudget follows a run's use of its event budget.
type eventBudget struct {
	at        time.Duration // the virtual time of the latest event
	since     int           // the number of events before the first one at that time
	exhausted bool
	runaway   int // events in a row at one instant that make a runaway; zero until the first event
}

// checkBudget is called after every event.
func (w *World) checkBudget() {
	b := &w.budget
	if w.now != b.at || w.events == 1 {
		b.at, b.since = w.now, w.events-1
	}
	if w.violation != nil || w.stopped {
		return
	}
	if b.runaway == 0 { // found once: the run's MaxEvents stays as it is
		b.runaway = min(RunawayEvents, max(w.cfg.MaxEvents/2, 1))
	}
	if still := w.events - b.since; still >= b.runaway {
		w.violate(PropEventBudget, fmt.Sprintf("%d events in a row at %s without virtual time advancing: the protocol runs away", still, fmtTime(w.now)))
		return
	}
	if w.events >= w.cfg.MaxEvents {
		b.exhausted, w.stopped = true, true
	}
}
