package sim

import "time"

// What the checkers that run beside a world (package checker, through Monitor) read of it,
// and how they end a run.

// Stop ends the run after the current step, without a violation: a checker saw what the run
// was waiting for (progress after healing, say).
func (w *World) Stop() { w.stopped = true }

// Pending lists what the run still waits for before it counts as progress: the protocol's own
// pending items (its Progress predicate), then every client that still has work and has not
// had an operation answered since faults healed (since the start, during the fault phase).
func (w *World) Pending() []string { return w.pending() }

// Phases returns the length of the fault phase and the liveness bound after it (zero for a
// run without a liveness phase).
func (w *World) Phases() (faults, liveness time.Duration) { return w.cfg.Faults, w.cfg.Liveness }
