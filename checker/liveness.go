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
// liveness bound.
//
// Beside progress, Liveness judges the protocol's own liveness properties (node.Liveness),
// each under its name:
//
//   - "eventually" (Stable zero): what Pending lists must clear at some step within the bound.
//     Once it has, the property is met for the run and no longer looked at.
//   - "eventually always" (Stable positive): once Pending clears, it must stay clear at every
//     step for Stable of virtual time without a break. A step at which something is pending
//     again is a relapse, reported at once with what became pending (a failure detector that
//     suspects a live peer again, a second leader). It is judged from the moment what the
//     fault phase left behind has drained (Drain): a message the fault phase delayed by its
//     longest tail, or the events a paused node deferred, may still arrive after healing, and a
//     heartbeat from a node that crashed for good can still restore it at a detector for a
//     moment. The window must fit in the liveness phase: the property must first hold by the
//     bound minus Stable, so that a whole window can be watched. A property that first holds later, and whose window the end of the phase cuts
//     short, fails with a message that says so ("too late to be judged"): a window that was
//     never watched whole is never counted as held. The one exception is a run that simply runs
//     out of events: with nothing left to happen the state can no longer change, so a property
//     that holds then holds for good.
//
// Liveness stops the run as soon as progress is made and every liveness property is met (each
// "eventually always" one with its whole window watched); a run that reaches the bound, or runs
// out of things to do, with any of them unmet fails. Properties are judged in the order
// declared, after progress.
//
// Exhaustive exploration (sim/explore) has no time and no healing: it checks the Progress
// predicate as "from every reachable state a progress state stays reachable", and does not
// judge node.Liveness properties at all (see ExplorationLiveness).
type Liveness struct {
	progressed bool
	props      []propWatch // one per node.Liveness of the protocol, made at the first step
	made       bool
	drain      time.Duration // healing time plus Drain, once healed
}

// drained is when the fault phase's leftovers have drained.
func (l *Liveness) drained(w *sim.World) time.Duration {
	if l.drain == 0 {
		_, at := w.Healed()
		l.drain = at + Drain(w.Profile(), w.Protocol().Timing)
	}
	return l.drain
}

// Drain is how long after healing what the fault phase left behind may still show under a
// profile: a message sent just before healing with the longest delay the profile draws (its
// tail), or held back by a selective Byzantine node, and the events a paused node deferred to
// the end of its pause, which can reach past healing by the longest pause.
func Drain(p sim.Profile, t node.Timing) time.Duration {
	d := max(p.Delay.Min, 2*p.Delay.Typical)
	if p.Delay.TailProb > 0 {
		d = max(d, p.Delay.Tail)
	}
	if p.FaultEvery > 0 && p.Pause > 0 {
		d += p.Down
	}
	if b := p.Byzantine; b.Selective > 0 || b.Swarm {
		d += t.Settle
	}
	return d
}

// propWatch is what Liveness knows of one liveness property during a run.
type propWatch struct {
	held  bool          // Pending is empty since since
	since time.Duration // when it last started to hold
	met   bool          // reached ("eventually") or its window watched whole ("eventually always")
}

// NewLiveness is the monitor factory for a sim.Config with a liveness phase.
func NewLiveness() sim.Monitor { return &Liveness{} }

// Step judges every property after each step once the run has healed, and stops the run once
// all of them are met. A relapse of an "eventually always" property is a violation.
func (l *Liveness) Step(w *sim.World) *sim.Violation {
	healed, _ := w.Healed()
	if !healed {
		return nil
	}
	l.make(w)
	if !l.progressed && w.Progressed() {
		l.progressed = true
	}
	done := l.progressed
	for i, p := range w.Protocol().Liveness {
		if v := l.judge(w, p, &l.props[i]); v != nil {
			return v
		}
		done = done && l.props[i].met
	}
	if done {
		w.Stop()
	}
	return nil
}

func (l *Liveness) make(w *sim.World) {
	if !l.made {
		l.props = make([]propWatch, len(w.Protocol().Liveness))
		l.made = true
	}
}

// judge looks at property p after a step.
func (l *Liveness) judge(w *sim.World, p node.Liveness, st *propWatch) *sim.Violation {
	if st.met {
		return nil
	}
	now := w.Now()
	if st.held && now >= st.since+p.Stable {
		st.met = true // the window closed before this step: the state held until then
		return nil
	}
	if p.Stable > 0 && now < l.drained(w) {
		return nil // the fault phase's leftovers may still arrive: not judged yet
	}
	pending := p.Pending(w)
	switch {
	case len(pending) == 0 && p.Stable == 0:
		st.met = true
	case len(pending) == 0 && !st.held:
		st.held, st.since = true, now
	case len(pending) > 0 && st.held:
		v := violation(w, p.Name, fmt.Sprintf("held from %s, then broke %v into its stable window of %v; pending again: %s",
			seconds(st.since), now-st.since, p.Stable, strings.Join(pending, "; ")))
		v.Pending = pending
		return v
	}
	return nil
}

// End fails a healed run in which progress or a liveness property was not met.
func (l *Liveness) End(w *sim.World) *sim.Violation {
	healed, at := w.Healed()
	if !healed {
		return nil
	}
	l.make(w)
	_, bound := w.Phases()
	exhausted := w.Now() < at+bound // the run ran out of events before the bound
	if !l.progressed {
		if pending := w.Pending(); len(pending) > 0 {
			msg := fmt.Sprintf("no progress within %v after healing at %s", bound, seconds(at))
			if exhausted {
				msg += fmt.Sprintf(" (nothing was left to happen after %s)", seconds(w.Now()))
			}
			v := violation(w, PropProgress, msg+"; pending: "+strings.Join(pending, "; "))
			v.Pending = pending
			return v
		}
	}
	for i, p := range w.Protocol().Liveness {
		st := &l.props[i]
		if st.met || st.held && w.Now() >= st.since+p.Stable {
			continue // met, or its window closed after the last step without a break
		}
		pending := p.Pending(w)
		if len(pending) == 0 && (exhausted || p.Stable == 0) {
			continue // it holds now, and with nothing left to happen it holds for good
		}
		if v := l.unmet(w, p, st, pending, at, bound, exhausted); v != nil {
			return v
		}
	}
	return nil
}

// unmet reports a liveness property the run ended without meeting.
func (l *Liveness) unmet(w *sim.World, p node.Liveness, st *propWatch, pending []string, at, bound time.Duration, exhausted bool) *sim.Violation {
	var msg string
	switch {
	case st.held || len(pending) == 0:
		since := st.since
		if !st.held {
			since = w.Now()
		}
		msg = fmt.Sprintf("held from %s, too late to be judged: the liveness phase ended at %s, %v into its stable window of %v",
			seconds(since), seconds(at+bound), at+bound-since, p.Stable)
		if p.Stable >= bound {
			msg += fmt.Sprintf(" (the window is longer than the whole liveness phase of %v: the scenario cannot judge this property)", bound)
		}
	default:
		what := "never held"
		if p.Stable > 0 {
			what = fmt.Sprintf("never held (for a stable window of %v)", p.Stable)
		}
		msg = fmt.Sprintf("%s within %v after healing at %s", what, bound, seconds(at))
		if p.Stable > 0 {
			msg += fmt.Sprintf(" (judged from %s, once the fault phase's leftovers drained)", seconds(l.drained(w)))
		}
		if exhausted {
			msg += fmt.Sprintf(" (nothing was left to happen after %s)", seconds(w.Now()))
		}
		msg += "; pending: " + strings.Join(pending, "; ")
	}
	v := violation(w, p.Name, msg)
	v.Pending = pending
	return v
}

// ExplorationLiveness says, for each liveness property of p, what exhaustive exploration
// decides of it: nothing. Untimed exploration has neither time nor a healing phase (Healed is
// always false there, and any armed timer may fire at any point, so a failure detector's
// timeout can always expire before the next heartbeat): an "eventually" property could at most
// be checked as "from every state, a state where it holds stays reachable", and an "eventually
// always" one needs the time its window is measured in. Tools that explore report these as not
// checked rather than as passed.
func ExplorationLiveness(p *node.Protocol) (unchecked []string) {
	for _, l := range p.Liveness {
		kind := "eventually"
		if l.Stable > 0 {
			kind = fmt.Sprintf("eventually always, for %v", l.Stable)
		}
		unchecked = append(unchecked, fmt.Sprintf("%s (%s): judged only in timed runs, after healing", l.Name, kind))
	}
	return unchecked
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
	if w.AnyPendingOp() { // first: the protocol's list costs more, and this is every step
		return true
	}
	p := w.Protocol().Progress
	return p != nil && len(p(w)) > 0
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
// outputs, as the world counts them (a streamed run keeps neither whole).
func (d *Watchdog) answeredAndOutputs(w node.World) int {
	return w.(*sim.World).AnsweredOps() + node.OutputCount(w)
}
