package sim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Replaying an untimed path in the timed world.
//
// A counterexample of the explorer is a path of the untimed world: an order of events with no
// times. ReplayTimed runs the same protocol in the timed World along the same order: the World
// is built as for a campaign, with a perfect network, and a script takes the place of its event
// loop. For each step of the path the script takes, out of the World's event queue, the event
// that step is (the delivery of that message, the firing of that timer, the client's next
// operation and its arrival at that node), and dispatches it through the World's own code; the
// protocol's and the workload's choices are the ones the untimed step made, and the replies a
// step produced are read at once, as the untimed world reads them. Crashes and restarts, and
// the Byzantine nodes' deviations, are applied by the script as the untimed step applied them.
//
// Virtual time only moves forward: an event taken before others that were due earlier simply
// finds them later, as a slow message or a late timer would be in an asynchronous network. So
// the timed replay is a run of the timed world, not a second interpretation of the path, and a
// violation it reaches is reached by the simulator's own code: the differential test
// (scenarios) asks that it be the explorer's violation, step for step (SameSteps).
//
// A script was preferred to solving for delays and timer durations that would make the timed
// world's own clock choose the path's order: a timer armed for 50ms that fires before a message
// sent at the same moment is delivered is a legal untimed order, and no choice of delays within
// the protocol's timer ranges need reproduce it; taking events in the path's order always does.

// scriptStep is the least virtual time a scripted step takes, so that the clients' history
// orders the operations of different steps as the untimed world's logical clock does (with
// every delay zero, a whole path would otherwise happen at one instant, and every operation
// would overlap every other).
const scriptStep = time.Millisecond

// TimedReplay is an untimed path re-run in the timed world.
type TimedReplay struct {
	Timed   Result        // the timed run, with its whole trace
	Untimed UntimedReplay // the path in the untimed world, with its trace
}

// stepLog is what one untimed step did, for its timed replay.
type stepLog struct {
	a       uaction
	label   string
	choices [numPurposes][]int // the step's choices, by what they decided
	msg     umsg               // the message the action takes (or replays)
	mutated node.Message       // what a mutation made of it
	bends   []replyBend        // what the adversary did to the Byzantine nodes' replies, in order
}

// replyBend is the adversary's doing to one reply of a Byzantine node.
type replyBend struct {
	withheld, changed bool
	value             any
}

// ReplayTimed re-runs the untimed path (initial state init, then actions) in the timed world,
// with monitors beside the protocol's invariants, and returns both runs. The error says where
// the two worlds parted, if they did.
func (u *Untimed) ReplayTimed(init int, actions []int, monitors []func() Monitor) (TimedReplay, error) {
	var out TimedReplay
	ur, err := u.Replay(init, actions)
	out.Untimed = ur
	if err != nil {
		return out, err
	}
	boot, steps, err := u.record(init, actions[:ur.Steps])
	if err != nil {
		return out, err
	}
	cfg := Config{
		Protocol: u.proto, Cluster: u.cfg,
		Profile: Profile{MaxDown: -1, Reorder: true, Byzantine: Byzantine{Nodes: slices.Clone(u.opts.Faulty)}},
		Clients: u.clients, Ops: u.ops, Trace: TraceFull, MaxEvents: math.MaxInt32, Monitors: monitors,
	}
	sc := &script{}
	w := newWorld(cfg, sc, false)
	w.script = sc
	err = w.runScript(boot, steps)
	out.Timed = w.result()
	return out, err
}

// record replays the path once more, noting what each step does.
func (u *Untimed) record(init int, actions []int) (*stepLog, []*stepLog, error) {
	choices, err := u.initChoices(init)
	if err != nil {
		return nil, nil, err
	}
	boot := &stepLog{a: uaction{kind: uBoot, choices: choices}, label: "boot"}
	s, _, _ := u.applyLogged(u.empty(), boot.a, nil, boot)
	var steps []*stepLog
	for i, want := range actions {
		a, ok := u.action(s, want)
		if !ok {
			return nil, nil, fmt.Errorf("step %d: action %d is not enabled", i+1, want)
		}
		l := &stepLog{a: a, label: u.describe(s, a)}
		switch a.kind {
		case uDeliver, uDrop, uMutate, uWithhold:
			l.msg = s.inFlight[a.msg]
		case uReplay:
			l.msg = s.sent[a.msg]
		}
		s, _, _ = u.applyLogged(s, a, nil, l)
		steps = append(steps, l)
	}
	return boot, steps, nil
}

// script is the chooser of a scripted run: the workload's choices of the current step, zero
// for everything else (the shortest delay, no fault, the shortest timer); the protocol's
// choices go through World.choice.
type script struct {
	protocol, workload []int
	err                error
}

func (sc *script) Choose(p Purpose, n int) int {
	if p == Workload && len(sc.workload) > 0 {
		v := sc.workload[0]
		sc.workload = sc.workload[1:]
		return v
	}
	return 0
}

func (sc *script) Flip(Purpose, float64) bool { return false }

// protocolChoice is the protocol's next choice, as the untimed step made it.
func (sc *script) protocolChoice(n int) int {
	if len(sc.protocol) == 0 {
		if sc.err == nil {
			sc.err = errors.New("the timed world asked for a protocol choice the untimed step did not make")
		}
		return 0
	}
	v := sc.protocol[0]
	sc.protocol = sc.protocol[1:]
	return v
}

func (sc *script) load(l *stepLog) {
	sc.protocol = slices.Clone(l.choices[Protocol])
	sc.workload = slices.Clone(l.choices[Workload])
}

// done checks that the step made exactly the untimed step's choices.
func (sc *script) done() error {
	switch {
	case sc.err != nil:
		return sc.err
	case len(sc.protocol) > 0:
		return fmt.Errorf("the untimed step made %d more protocol choices than the timed world asked for", len(sc.protocol))
	case len(sc.workload) > 0:
		return fmt.Errorf("the untimed step made %d more workload choices than the timed world asked for", len(sc.workload))
	}
	return nil
}

// runScript runs the world along the recorded steps, checking properties after each as the
// event loop does, and the monitors at the end.
func (w *World) runScript(boot *stepLog, steps []*stepLog) (err error) {
	sc := w.script
	defer func() {
		if r := recover(); r != nil {
			w.violate(failure(r))
		}
	}()
	sc.load(boot)
	w.start()
	if err := sc.done(); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	for i, st := range steps {
		if w.violation != nil {
			break
		}
		w.newOut = len(w.outputs)
		w.now += scriptStep // one step after another, as in the history of the untimed world
		sc.load(st)
		if err := w.perform(st); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, st.label, err)
		}
		if err := sc.done(); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, st.label, err)
		}
		w.events++
		w.check()
		w.endStep()
	}
	if w.violation == nil {
		for _, m := range w.monitors() {
			if v := m.End(w); v != nil {
				w.setViolation(v)
				break
			}
		}
	}
	return nil
}

// perform takes the timed world through one untimed step.
func (w *World) perform(st *stepLog) error {
	a := st.a
	switch a.kind {
	case uDeliver:
		e, err := w.take("the delivery of "+Summary(st.msg.m), w.isMessage(st.msg))
		if err != nil {
			return err
		}
		if a.keep { // a duplicating network: a copy stays in flight
			c := e
			c.msg = cloneAny(e.msg)
			if c.kind == evDeliver {
				w.inFlight[c.node]++
				w.slot(c.node).changes++
			}
			w.schedule(c)
		}
		if err := w.dispatchTaken(e); err != nil {
			return err
		}
	case uDrop:
		e, err := w.take("the delivery of "+Summary(st.msg.m), w.isMessage(st.msg))
		if err != nil {
			return err
		}
		if e.kind == evDeliver {
			w.inFlight[e.node]--
		}
		w.fault(KindDrop)
		w.recordMsg(Dropped, st.msg.to, st.msg.from, e.mid, e.msg)
		return nil
	case uTimer:
		s := w.slot(a.node)
		e, err := w.take("timer "+a.timer, func(e *event) bool {
			return e.kind == evTimer && e.node == a.node && e.name == a.timer && e.inc == s.inc && e.gen == s.timers[a.timer]
		})
		if err != nil {
			return err
		}
		if err := w.dispatchTaken(e); err != nil {
			return err
		}
	case uCrash:
		w.crash(a.node)
		return nil
	case uRestart:
		w.fault(KindRestart)
		w.record(Restart, a.node, 0, 0, nil)
		w.boot(w.slot(a.node))
	case uRequest:
		if err := w.takeClient(evClientNext, a.client, false, append(slices.Clone(st.choices[Workload]), int(a.node)-1)); err != nil {
			return err
		}
		if err := w.takeRequest(a.client, a.node); err != nil {
			return err
		}
	case uResend:
		if err := w.takeClient(evClientRetry, a.client, true, nil); err != nil {
			return err
		}
		if c := w.clients[a.client]; !(c.attempts > 1 && w.matching() > 1) {
			if err := w.takeRequest(a.client, c.target); err != nil {
				return err
			}
		}
	case uRetry:
		target := 0
		if a.node != 0 {
			target = int(a.node) - 1
		}
		if err := w.takeClient(evClientTimeout, a.client, true, []int{target}); err != nil {
			return err
		}
		if a.node != 0 {
			if err := w.takeRequest(a.client, a.node); err != nil {
				return err
			}
		}
	case uGiveUp:
		return w.takeClient(evClientTimeout, a.client, true, nil)
	case uMutate:
		e, err := w.take("the delivery of "+Summary(st.msg.m), w.isMessage(st.msg))
		if err != nil {
			return err
		}
		if r, ok := st.mutated.(node.Request); ok && e.kind == evRequest { // a request is held in the event's fields
			w.record(Mutation, st.msg.from, st.msg.to, 0, act{"mutate: " + Summary(e.request()) + " ->", st.mutated})
			e = requestEvent(e.at, e.node, e.cl, r)
		} else {
			w.record(Mutation, st.msg.from, st.msg.to, 0, act{"mutate: " + Summary(e.msg) + " ->", st.mutated})
			e.msg = st.mutated
		}
		w.schedule(e)
		return nil
	case uWithhold:
		e, err := w.take("the delivery of "+Summary(st.msg.m), w.isMessage(st.msg))
		if err != nil {
			return err
		}
		w.inFlight[e.node]--
		w.record(Mutation, st.msg.from, st.msg.to, 0, act{"withholds", e.msg})
		return nil
	case uReplay:
		v := cloneAny(st.msg.m)
		w.record(Mutation, st.msg.from, a.node, 0, act{"replay:", v})
		mid := w.trace.newMsg()
		w.recordMsg(Send, st.msg.from, a.node, mid, v)
		w.enqueue(st.msg.from, a.node, mid, v, 0)
		return nil
	default:
		return fmt.Errorf("no timed replay for action kind %d", a.kind)
	}
	return w.readReplies(st)
}

// isMessage matches the event that delivers m: a message between nodes, or a client's
// request in flight.
func (w *World) isMessage(m umsg) func(e *event) bool {
	return func(e *event) bool {
		if m.from == 0 {
			return e.kind == evRequest && e.node == m.to && HashOf(e.request()) == m.h
		}
		return e.kind == evDeliver && e.from == m.from && e.node == m.to && HashOf(e.msg) == m.h
	}
}

// takeClient takes and dispatches client cl's event of kind k (its current wait's, when
// current), with the workload's choices given.
func (w *World) takeClient(k evKind, cl int, current bool, workload []int) error {
	c := w.clients[cl]
	e, err := w.take(fmt.Sprintf("event %d of client c%d", k, c.id), func(e *event) bool {
		return e.kind == k && e.cl == cl && (!current || e.gen == c.wait)
	})
	if err != nil {
		return err
	}
	w.script.workload = workload
	return w.dispatchTaken(e)
}

// takeRequest takes and dispatches the arrival of client cl's current request at node to.
func (w *World) takeRequest(cl int, to node.ID) error {
	c := w.clients[cl]
	e, err := w.take(fmt.Sprintf("the arrival of client c%d's request at n%d", c.id, to), func(e *event) bool {
		if e.kind != evRequest {
			return false
		}
		r := e.request()
		return e.cl == cl && e.node == to && r.Client == c.id && r.Seq == c.seq
	})
	if err != nil {
		return err
	}
	return w.dispatchTaken(e)
}

// readReplies has the clients read the replies the step produced, at once, as the untimed
// world does, with the adversary's doing to the Byzantine nodes' ones.
func (w *World) readReplies(st *stepLog) error {
	bent := 0
	for {
		e, err := w.take("a reply", func(e *event) bool { return e.kind == evReply })
		if err != nil {
			return nil // none left
		}
		if !w.correct(e.node) && bent < len(st.bends) {
			b := st.bends[bent]
			bent++
			r := e.reply()
			switch {
			case b.withheld:
				w.record(Mutation, e.node, 0, r.req.Client, act{"withholds reply", r.result})
				continue
			case b.changed:
				w.record(Mutation, e.node, 0, r.req.Client, act{"mutate: reply " + Summary(r.result) + " ->", b.value})
				e.msg.(*reply).result = b.value // the event's own reply
			}
		}
		if err := w.dispatchTaken(e); err != nil {
			return err
		}
	}
}

// dispatchTaken dispatches an event taken out of the queue.
func (w *World) dispatchTaken(e event) error {
	w.choose.announce(&e)
	if !w.dispatch(&e) {
		return fmt.Errorf("event %d at n%d was stale in the timed world", e.kind, e.node)
	}
	return nil
}

// take removes from the queue the earliest event that matches, and moves virtual time to it
// if it was due later.
func (w *World) take(what string, match func(e *event) bool) (event, error) {
	q := &w.queue
	best := -1
	for j, k := range q.keys {
		if match(&q.slab[k.i]) && (best < 0 || k.less(q.keys[best])) {
			best = j
		}
	}
	if best < 0 {
		return event{}, fmt.Errorf("the timed world has no %s to take: the two worlds parted", what)
	}
	e := q.removeAt(best)
	w.now = max(w.now, e.at)
	return e, nil
}

// removeAt removes the event at position j of the heap.
func (q *queue) removeAt(j int) event {
	k := q.keys[j]
	last := len(q.keys) - 1
	q.keys[j] = q.keys[last]
	q.keys = q.keys[:last]
	if j < last {
		q.siftDown(j)
		q.siftUp(j)
	}
	e := q.slab[k.i]
	q.slab[k.i] = event{}
	q.free = append(q.free, k.i)
	return e
}

// SameSteps compares the traces of an untimed path and of its timed replay, step by step: each
// step must deliver, send, fire, output, reply and answer the same things at the same nodes
// (in any order within the step: the untimed world reads a reply during the step that made it,
// the timed world right after). The adversary's notes and the clients' timeouts are left out.
func SameSteps(untimed, timed []Entry) error {
	a, b := stepsOf(untimed), stepsOf(timed)
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y []string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if !slices.Equal(x, y) {
			return fmt.Errorf("step %d: the untimed world did\n  %s\nthe timed world\n  %s",
				i, strings.Join(x, "\n  "), strings.Join(y, "\n  "))
		}
	}
	return nil
}

// compared are the kinds of entries SameSteps compares.
var compared = map[What]bool{Boot: true, Deliver: true, Send: true, Timer: true, Request: true, Reply: true,
	Output: true, Answer: true, Invoke: true, Crash: true, Restart: true, Lost: true, Dropped: true}

func stepsOf(entries []Entry) [][]string {
	var out [][]string
	for _, e := range entries {
		if !compared[e.What] {
			continue
		}
		for len(out) <= e.Event {
			out = append(out, nil)
		}
		out[e.Event] = append(out[e.Event], fmt.Sprintf("%s n%d n%d c%d %s", e.What, e.Node, e.Peer, e.Client, Summary(e.Data)))
	}
	for _, s := range out {
		sort.Strings(s)
	}
	return out
}
