package sim

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Monitor checks a run beside the protocol's invariants (memory bounds, the history, a
// watchdog). A Config holds monitor factories, so that every run gets fresh monitors.
type Monitor interface {
	// Step is called after every step; a non-nil violation stops the run.
	Step(w *World) *Violation
	// End is called once when the run ends without a violation.
	End(w *World) *Violation
}

// Violation is a property that failed: which, when, why, and the events leading to it.
type Violation struct {
	Property string
	Message  string
	Time     time.Duration
	Event    int
	// Pending is what was still missing when a progress property failed.
	Pending []string
	// Details are further lines a checker attaches: a growth curve, the operations of a
	// history that is not linearizable.
	Details []string
	// Context is the last trace entries before the violation; Nodes the state of every node.
	Context []Entry
	Nodes   []string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("%s violated at %s (event %d): %s", v.Property, fmtTime(v.Time), v.Event, v.Message)
}

// Property names of the failures the simulator itself reports.
const (
	PropPanic       = "no-panic"
	PropStepBudget  = "step-budget"
	PropEventBudget = "event-budget"
	// PropValue is broken by a node state, message or stored value that is not a plain
	// value: one that holds a cycle, a function or a channel, which can be neither hashed
	// nor copied (see ValueError).
	PropValue = "plain-value"
	// PropUnordered is broken, in the untimed world, by a protocol that declares
	// node.Explore.UnorderedOutputs and has a property whose verdict depends on that order.
	PropUnordered = "unordered-outputs"
	// PropHistoryOrder is broken, in the untimed world, by a property whose verdict depends
	// on the order or the times of the clients' operations, which the explorer's states do
	// not keep (only what linearizability can tell of them).
	PropHistoryOrder = "history-order"
	// PropMemory is broken by a node whose state outgrows its protocol's MaxSize (the
	// checker package's memory monitor uses the same name for the timed world).
	PropMemory = "memory-bound"
)

// Result is what a run leaves behind.
type Result struct {
	TraceHash uint64
	Events    int
	Virtual   time.Duration
	Faults    Counts
	Profile   Profile
	Violation *Violation
	// Choices is the run's choice sequence, with the purpose of each: replaying Choices
	// reproduces the run.
	Choices  []int32
	Purposes []Purpose
	// Reached lists, per Sometimes property of the protocol, whether this run reached it.
	Reached []bool
	// Ops and Unknown count the clients' operations and those with an unknown outcome.
	Ops, Unknown int
	// Trace holds every entry when the Config asked for a full trace.
	Trace []Entry
	// Progress is how long after healing the protocol made progress (liveness runs).
	Progress time.Duration
	// Monitors are the run's monitors, for the verdicts and artifacts they keep.
	Monitors []Monitor
	// Exhausted says that the run used up its event budget (Config.MaxEvents) while virtual
	// time still advanced, and stopped before the end it was configured for: checked up to
	// there, not failed (see budget.go).
	Exhausted bool
}

// Run simulates one run of cfg, every decision made by c.
func Run(cfg Config, c Chooser) Result {
	w := newWorld(cfg, c, true)
	w.runGuarded()
	r := w.result()
	w.release()
	return r
}

// Simulate returns the world after a run, for tests and checkers that inspect it.
func Simulate(cfg Config, c Chooser) (*World, Result) {
	w := newWorld(cfg, c, false)
	w.runGuarded()
	return w, w.result()
}

// runGuarded runs the world, turning a protocol panic or an exceeded step budget into a
// violation of the run: one bad seed must never crash a campaign.
func (w *World) runGuarded() {
	defer func() {
		if r := recover(); r != nil {
			w.violate(failure(r))
		}
	}()
	w.run()
}

// panicSite says where a run panicked: the first stack frame outside the runtime and this
// package, where the protocol went wrong. A runtime error (a nil dereference, an index out
// of range) raised in this package's own code is the simulator's bug, and said to be.
// Panics this package raises on purpose (a message to an unknown node) blame the protocol
// that caused them.
func panicSite(crash bool) string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(4, pcs)]) // from the frame that panicked: past failure and the deferred function that recovered
	first := true
	for {
		f, more := frames.Next()
		inRuntime := strings.HasPrefix(f.Function, "runtime.")
		ours := strings.HasPrefix(f.Function, simPackage+".") && !strings.HasSuffix(f.File, "_test.go")
		if !inRuntime && first && ours && crash {
			return fmt.Sprintf(" (a simulator bug, at %s, %s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !inRuntime && !ours {
			return fmt.Sprintf(" (at %s, %s:%d)", f.Function, filepath.Base(f.File), f.Line)
		}
		if !inRuntime {
			first = false
		}
		if !more {
			return ""
		}
	}
}

// simPackage is this package's import path, to tell its frames from the protocol's.
var simPackage = reflect.TypeOf(World{}).PkgPath()

func (w *World) run() {
	w.start()
	end := w.cfg.Faults
	if w.cfg.Liveness > 0 {
		w.schedule(event{at: w.cfg.Faults, kind: evLiveness})
		end += w.cfg.Liveness
	}
	w.loop(end)
	if w.violation == nil && !w.budget.exhausted { // a run cut short is not judged at its end
		for _, m := range w.monitors() {
			if v := m.End(w); v != nil {
				w.setViolation(v)
				return
			}
		}
	}
}

// start draws the run's profile and clock skew, boots every node and starts the clients and
// the fault scheduler.
func (w *World) start() {
	w.profile = w.cfg.Profile
	if w.cfg.Swarm {
		w.profile = Swarm(w.choose, w.cfg.Profile)
		w.drawParams()
	}
	if t := w.proto.Tolerates.Skew; t > 0 && w.profile.Skew > t {
		w.profile.Skew = t // the skew the protocol is designed for (node.Tolerance.Skew)
	}
	if w.profile.Skew > 0 {
		w.skewClocks()
	}
	if len(w.profile.Cut) > 0 {
		w.cutFixed()
		w.record(Partition, 0, 0, 0, "fixed cut links")
	}
	w.startAdversary()
	w.startDisks()
	if clients, ops := w.workload(); clients > 0 { // room for the whole workload, as far as it goes
		w.history = make([]node.Op, 0, min(clients*ops, maxPresizedHistory))
	}
	for _, s := range w.nodes {
		if w.beacon != nil {
			w.beacon.publish(w.trace.nextEvent(w.events), &event{kind: evBoot, node: s.id})
		}
		w.record(Boot, s.id, 0, 0, nil)
		w.boot(s)
	}
	w.startClients()
	w.nextFaultTick()
	w.check()
	w.endStep()
}

// maxPresizedHistory bounds the room the history starts with: a calm Paxos run's five
// operations grew it by doubling in four allocations, and a long run's grows on its own.
const maxPresizedHistory = 256

// loop steps through events in time order until virtual time end, a violation, or the end
// of progress checking.
func (w *World) loop(end time.Duration) {
	for w.violation == nil && !w.stopped {
		if w.queue.len() == 0 {
			break
		}
		if w.queue.next() > end {
			w.now = end
			break
		}
		i := w.queue.popSlot()
		// The event where it lies in the slab: pushes while it is dispatched use other slots
		// (a slab that grows leaves it in the old array, still whole), and it is freed after.
		e := &w.queue.slab[i]
		w.now = e.at
		w.newOut = len(w.outputs)
		if w.streamed {
			w.forgetOutputs()
		}
		w.choose.announce(e)
		if w.beacon != nil {
			w.beacon.publish(w.trace.nextEvent(w.events), e)
		}
		stepped := w.dispatch(e)
		w.queue.freeSlot(i)
		if !stepped {
			continue
		}
		w.events++
		w.check()
		w.endStep()
		w.checkBudget()
	}
}

// dispatch applies one event; it returns false for an event that turned out to be stale
// (a cancelled timer, a wait that already ended), which is not a step.
func (w *World) dispatch(e *event) bool {
	switch e.kind {
	case evDeliver, evRequest:
		if s := w.slot(e.node); s.up && s.paused {
			w.defer_(*e, s)
			return false
		}
		if e.kind == evDeliver {
			w.deliver(e)
		} else {
			w.requestEvent(e)
		}
	case evTimer:
		s := w.slot(e.node)
		if !s.up || e.inc != s.inc || s.timers[e.name] != e.gen {
			return false
		}
		if s.paused {
			w.defer_(*e, s)
			return false
		}
		w.fire(s, e.name)
	case evReply:
		w.answerEvent(*e)
	case evClientNext:
		w.clientNext(e.cl)
	case evClientTimeout:
		w.clientTimeout(*e)
	case evClientRetry:
		w.clientRetry(*e)
	case evFaultTick:
		w.faultTick()
	case evRestart:
		w.restart(*e)
	case evResume:
		if e.inc != w.slot(e.node).inc || w.slot(e.node).resumeAt != e.at {
			return false
		}
		w.resume(e.node)
	case evHealPartition:
		if e.inc != w.partitionInc {
			return false
		}
		w.heal()
	case evLiveness:
		w.startLiveness()
	}
	return true
}

// defer_ postpones an event for a paused node until it resumes.
func (w *World) defer_(e event, s *slot) {
	e.at = s.resumeAt
	w.schedule(e)
}

// stepped may crash node s right after its step (Profile.StepCrash).
func (w *World) stepped(s *slot) {
	if w.disk != nil && w.disk.stepped(s) {
		return
	}
	if p := w.profile.StepCrash; p > 0 && !w.live && w.down() < w.maxDown() && w.choose.Flip(Faults, p) {
		w.crashFor(s.id)
	}
}

// check evaluates the invariants, monitors and sometimes-properties after a step. Progress
// after healing is a monitor's business (package checker), which ends the run with Stop.
//
// The properties are asked through their binding to this world (node.Bound): a component's
// view of the world is found once for the run, not at every step by every property, and each
// property is called with the same view it would have made for itself.
func (w *World) check() {
	if !w.propsBound {
		w.props.Bind(w.proto, w)
		w.propsBound = true
	}
	quiet := w.newOut == len(w.outputs) // the step output nothing (NewOutputs is empty)
	for i := range w.props.Invariants() {
		if quiet && w.props.OnOutput(i) {
			continue // it judges new outputs only: nothing to judge (node.Invariant.OnOutput)
		}
		if err := w.props.Check(i); err != nil {
			w.violate(w.proto.Invariants[i].Name, err.Error())
			return
		}
	}
	for _, m := range w.monitors() {
		if v := m.Step(w); v != nil {
			w.setViolation(v)
			return
		}
	}
	for i := range w.props.Sometimes() {
		if !w.reached[i] && !(quiet && w.props.ReachedOnOutput(i)) && w.props.Reached(i) {
			w.reached[i] = true
		}
	}
}

// pending lists what the run still waits for before it counts as progress: the protocol's
// own pending items, and every client that has not had an operation answered since healing.
func (w *World) pending() []string {
	var out []string
	if w.proto.Progress != nil {
		out = w.proto.Progress(w)
	}
	_, ops := w.workload()
	for _, c := range w.clients {
		if c.done >= ops && c.op < 0 {
			continue
		}
		if w.answeredSinceHeal(c) {
			continue
		}
		if c.op >= 0 {
			op := w.historyOp(c.op)
			out = append(out, fmt.Sprintf("client c%d: operation %s (seq %d) invoked at %s not answered",
				c.id, Summary(op.Input), op.Seq, fmtTime(op.Call)))
		} else {
			out = append(out, fmt.Sprintf("client c%d: no operation answered since healing", c.id))
		}
	}
	return out
}

func (w *World) answeredSinceHeal(c *client) bool {
	for i := len(w.history) - 1; i >= 0 && w.history[i].Call >= w.healAt; i-- {
		op := w.history[i]
		if op.Done && w.byID[op.Client-1] == c.index {
			return true
		}
	}
	return false
}

func (w *World) violate(property, msg string) { w.setViolation(w.newViolation(property, msg)) }

func (w *World) newViolation(property, msg string) *Violation {
	return &Violation{Property: property, Message: msg, Time: w.now, Event: w.events}
}

func (w *World) setViolation(v *Violation) {
	if w.violation != nil {
		return
	}
	v.Event = w.trace.lastEvent()
	v.Context = w.trace.last()
	for _, s := range w.nodes {
		v.Nodes = append(v.Nodes, describeSlot(s))
	}
	w.violation = v
}

// describeSlot summarizes a node's state for a violation report.
func describeSlot(s *slot) string {
	if !s.up {
		return fmt.Sprintf("n%d: down", s.id)
	}
	st := Describe(s.state, 600)
	paused := ""
	if s.paused {
		paused = " (paused)"
	}
	return fmt.Sprintf("n%d%s: %s", s.id, paused, st)
}

// monitors instantiates the configured monitors once per run. (Small enough to be inlined
// into check, which asks after every step.)
func (w *World) monitors() []Monitor {
	if w.mons != nil {
		return w.mons
	}
	return w.makeMonitors()
}

func (w *World) makeMonitors() []Monitor {
	w.mons = make([]Monitor, 0, len(w.cfg.Monitors))
	for _, f := range w.cfg.Monitors {
		w.mons = append(w.mons, f())
	}
	return w.mons
}

func (w *World) result() Result {
	r := Result{
		TraceHash: w.trace.hash.Sum(),
		Events:    w.events,
		Virtual:   w.now,
		Faults:    w.faults,
		Profile:   w.profile,
		Violation: w.violation,
		Choices:   w.choose.choices,
		Purposes:  w.choose.purposes,
		Reached:   w.reached,
		Trace:     w.trace.full,
		Ops:       w.OpCount(),
		Monitors:  w.mons,
		Exhausted: w.budget.exhausted,
	}
	r.Unknown = w.forgotUnknown
	for _, op := range w.history {
		if !op.Done {
			r.Unknown++
		}
	}
	if w.live && w.stopped {
		r.Progress = w.now - w.healAt
	}
	return r
}

// ErrDiverged is returned by Replay when the run asked for choices the capsule does not hold
// as recorded: the code changed since it was written.
var ErrDiverged = errors.New("the run diverged from the recorded choices")
