package checker

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The properties of progress.
const (
	PropProgress = "progress-after-healing"
	PropWatchdog = "progress-under-faults"
)

// Liveness checks liveness after healing, as TigerBeetle's simulator does. The simulator ends
// the fault phase at a set time: partitions heal, paused nodes resume, a core of at least a
// quorum of nodes is restarted and kept up, nodes outside it that are down stay down for good,
// and the network stops losing, duplicating and stretching messages. From then on nothing is
// in the protocol's way, so it must make progress: everything in the run's pending list (the
// protocol's Progress predicate, and every client with work left) must clear within the
// liveness bound. Liveness stops the run as soon as it does; a run that reaches the bound, or
// runs out of things to do, with something pending fails.
type Liveness struct{ progressed bool }

// NewLiveness is the monitor factory for a sim.Config with a liveness phase.
func NewLiveness() sim.Monitor { return &Liveness{} }

// Step stops the run once it has healed and nothing is pending.
func (l *Liveness) Step(w *sim.World) *sim.Violation {
	if healed, _ := w.Healed(); healed && w.Progressed() {
		l.progressed = true
		w.Stop()
	}
	return nil
}

// End fails a healed run that did not make progress.
func (l *Liveness) End(w *sim.World) *sim.Violation {
	healed, at := w.Healed()
	if !healed || l.progressed {
		return nil
	}
	pending := w.Pending()
	if len(pending) == 0 {
		return nil
	}
	_, bound := w.Phases()
	msg := fmt.Sprintf("no progress within %v after healing at %s", bound, seconds(at))
	if w.Now() < at+bound {
		msg += fmt.Sprintf(" (nothing was left to happen after %s)", seconds(w.Now()))
	}
	v := violation(w, PropProgress, msg+"; pending: "+strings.Join(pending, "; "))
	v.Pending = pending
	return v
}

// Watchdog fails a run whose protocol stands still during the fault phase, for scenarios that
// promise progress under their faults (a quorum stays connected, say, as in partial
// connectivity): while work is pending (a client waits for an answer, or the protocol's
// Progress predicate lists something), the protocol's measure of progress (node.Protocol
// Advance; by default the answered client operations and the outputs) must change at least
// once every Bound of virtual time. Once faults heal, Liveness takes over.
type Watchdog struct {
	bound   time.Duration
	advance func(w node.World) int

	last  int
	since time.Duration
	done  bool // faults have healed: Liveness takes over

	// The default measure counts answered operations without rescanning the history.
	seen, answered int
	open           []int // history indices of operations not answered yet
}

// NewWatchdog returns the factory of a watchdog with bound; advance is the protocol's
// measure of progress, nil for the default.
func NewWatchdog(bound time.Duration, advance func(w node.World) int) func() sim.Monitor {
	return func() sim.Monitor {
		d := &Watchdog{bound: bound, advance: advance}
		if d.advance == nil {
			d.advance = d.answeredAndOutputs
		}
		return d
	}
}

// Step measures progress and fails the run once it has stood still too long with work
// pending. It judges at steps: a stall shows at the first step past the bound, or at the
// step that ends the fault phase.
func (d *Watchdog) Step(w *sim.World) *sim.Violation {
	if d.done {
		return nil
	}
	now := w.Now()
	if healed, at := w.Healed(); healed {
		d.done, now = true, at // the last look at the fault phase
	}
	m := d.advance(w)
	if m != d.last || !d.working(w) {
		d.last, d.since = m, now
		return nil
	}
	if now-d.since <= d.bound {
		return nil
	}
	pending := d.pending(w)
	v := violation(w, PropWatchdog, fmt.Sprintf("no progress for %v during the fault phase (nothing advanced since %s); pending: %s",
		d.bound, seconds(d.since), strings.Join(pending, "; ")))
	v.Pending = pending
	return v
}

// End has nothing to add: the watchdog judges step by step.
func (d *Watchdog) End(w *sim.World) *sim.Violation { return nil }

// working reports whether work is under way: what pending lists, without listing it.
func (d *Watchdog) working(w *sim.World) bool {
	if p := w.Protocol().Progress; p != nil && len(p(w)) > 0 {
		return true
	}
	return len(w.PendingOps()) > 0
}

// pending lists the work under way: the protocol's pending items and the clients' operations
// waiting for an answer.
func (d *Watchdog) pending(w *sim.World) []string {
	var out []string
	if p := w.Protocol().Progress; p != nil {
		out = p(w)
	}
	for _, op := range w.PendingOps() {
		out = append(out, fmt.Sprintf("client c%d: operation %s (seq %d) invoked at %s not answered",
			op.Client, sim.Summary(op.Input), op.Seq, seconds(op.Call)))
	}
	return out
}

// answeredAndOutputs is the default measure of progress: answered client operations plus
// outputs.
func (d *Watchdog) answeredAndOutputs(w node.World) int {
	h := w.History()
	for ; d.seen < len(h); d.seen++ {
		d.open = append(d.open, d.seen)
	}
	keep := d.open[:0]
	for _, i := range d.open {
		if h[i].Done {
			d.answered++
		} else {
			keep = append(keep, i)
		}
	}
	d.open = keep
	return d.answered + len(w.Outputs())
}
