package sim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Untimed is the world under untimed semantics: a transition system for exhaustive
// exploration of the same protocol code that campaigns simulate, stepped by the same step core
// (stepCore). Time is abstracted away: in every state any message in flight may be delivered
// next and any armed timer may fire; crashes, restarts, client requests, client timeouts and
// the Byzantine nodes' deviations are actions under budgets. Every choice a step makes (the
// protocol's Env.Choose, the workload's draws, a mutator's) branches it.
//
// States are *UState values. Successors share every node but the ones that stepped, which
// alone are cloned and re-fingerprinted. Untimed satisfies the explorer's Model interface
// (sim/explore) and its sometimes, progress, labelled and symmetric extensions.
type Untimed struct {
	proto   *node.Protocol
	cfg     node.Config
	opts    UntimedOptions
	ids     []node.ID
	targets []node.ID
	faulty  []bool // nil when no node is Byzantine
	clients int
	ops     int
	maxSize int // the protocol's bound on a node's Size; 0: none
	// unordered: the protocol declares node.Explore.UnorderedOutputs, so the fingerprint
	// forgets how different nodes' outputs interleave (see hashOutputs).
	unordered bool

	history   *HistoryCheck
	verdicts  sync.Map // history hash -> error (nil: the history passed)
	keys      sync.Map // history hash -> historyKey
	permKeys  sync.Map // history hash and renaming -> historyKey renamed (symmetry)
	alts      sync.Map // history hash -> its neighbours with its key (testHistoryOrder)
	perms     [][]node.ID
	truncated atomic.Bool

	// Memory reused from step to step (see Recycle): the states the explorer found visited,
	// the step makers, and the lists of enabled actions. A pool is per processor, so each
	// worker mostly gets back what it gave.
	spares, steps, lists, slots sync.Pool
	// judges holds the protocol's properties bound to a view (see judgeView).
	judges sync.Pool
}

// UntimedOptions are the network semantics and budgets of an exploration.
type UntimedOptions struct {
	// Ordered makes each link deliver in the order sent; otherwise any message in flight
	// may overtake any other.
	Ordered bool
	// Duplicate adds, for each message, an action that delivers it and keeps it in flight,
	// so that it may be delivered again; Lossy adds an action that drops it.
	Duplicate, Lossy bool
	// Crashes and Requests are the budgets of node crashes and client operations;
	// Timeouts the budget of client timeouts (a client that stops waiting and sends its
	// operation again elsewhere, or gives up on it).
	Crashes, Requests, Timeouts int
	// Clients overrides the workload's number of clients when positive.
	Clients int
	// Targets are the nodes clients send requests to; empty means the protocol's
	// Explore.Targets, or every node.
	Targets []node.ID
	// Faulty lists the Byzantine nodes, Byzantine the budget of their deviations: messages
	// mutated (which, sent to one peer and not another, is equivocation), replayed or
	// withheld, and replies altered or withheld.
	Faulty    []node.ID
	Byzantine int
	// Symmetry prepares the world for symmetry reduction (Canonical): the protocol must
	// declare Explore.Symmetric.
	Symmetry bool
	// ExactHistory keeps the clients' history in each state as it happened, its order and
	// times, instead of only what linearizability can tell of them (histsum.go): more
	// states for the same verdicts, for comparisons. It changes the history's part of a
	// state only (an idle client's last target is never part of one).
	ExactHistory bool
}

// String names the options, for reports and capsules.
func (o UntimedOptions) String() string {
	net := "unordered"
	if o.Ordered {
		net = "ordered"
	}
	if o.Duplicate {
		net += ",duplicating"
	}
	if o.Lossy {
		net += ",lossy"
	}
	s := fmt.Sprintf("network=%s crashes=%d requests=%d", net, o.Crashes, o.Requests)
	if o.Timeouts > 0 {
		s += fmt.Sprintf(" timeouts=%d", o.Timeouts)
	}
	if o.Clients > 0 {
		s += fmt.Sprintf(" clients=%d", o.Clients)
	}
	if len(o.Targets) > 0 {
		s += " targets=" + nodeList(o.Targets)
	}
	if len(o.Faulty) > 0 {
		s += fmt.Sprintf(" byzantine=%d faulty=%s", o.Byzantine, nodeList(o.Faulty))
	}
	if o.ExactHistory {
		s += " exact-history"
	}
	return s
}

func nodeList(ids []node.ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(int(id))
	}
	return strings.Join(parts, ",")
}

// HistoryCheck judges a client history as a whole: a linearizability checker, wired in by
// package scenarios (sim does not import the checkers). Check returns an error describing
// the violation.
type HistoryCheck struct {
	Property string
	Check    func(history []node.Op) error
	// Linearizability says that Check is linearizability against the workload's Spec: the
	// explorer then keeps of a history only what that check can tell of it (histsum.go).
	// Any other check (another specification, a weaker consistency model) keeps every
	// history whole, order and times.
	Linearizability bool
}

// MaxInitial bounds the initial states an exploration enumerates: a protocol whose Start
// makes choices has one initial state per combination. Past it, the exploration is incomplete
// (Truncated).
const MaxInitial = 1 << 16

// UState is one state of the untimed world. Its parts are hashed apart (each node, each
// message, the clients and history, the outputs), so that a successor re-hashes only what
// its step changed.
type UState struct {
	nodes    []*slot
	hashes   []uint64 // hashes[i]: fingerprint of nodes[i], computed when it last changed
	inFlight []umsg   // in canonical order (see seal)
	clients  []*client
	byID     []int
	history  []node.Op
	outputs  []node.Output // every output, in the order made
	sent     []umsg        // the Byzantine nodes' messages, for replays: a set, in canonical order

	fresh int32 // outputs[len(outputs)-fresh:] are the step's that led here
	// own has bit i set when nodes[i] is the slot the step that led here copied: the
	// state's alone until it has successors (Recycle). It fits where the int32s leave room.
	own      uint32
	clock    int32 // the history's logical clock (see stamp)
	crashes  int32 // budgets spent
	timeouts int32
	byz      int32

	clientsHash, historyHash, outputsHash uint64
	// historyKey is the history's part of the fingerprint: its operations and what
	// linearizability can still tell of their order (histsum.go), not the order itself.
	historyKey uint64
	// fail is the failure of the step that led here (a panic, an exceeded step budget, a
	// value that is not plain): the state is the violation, and has no successors.
	fail *Violation
	// verdict is the first property the step that led here broke ("" for none), with why;
	// reached has a bit per sometimes-property that holds. Properties read the step's own
	// outputs (NewOutputs), so they are judged when the step is taken, and the fingerprint
	// holds the verdict rather than which outputs were new: two paths to one state are one
	// state when they are judged alike.
	verdict, why string
	reached      uint64
	fp           uint64
}

// String names a state in messages (the explorer's nondeterminism guard, say) by its
// fingerprint and what is in flight: the nodes' states are too large to print.
func (s *UState) String() string {
	up := 0
	for _, sl := range s.nodes {
		if sl.up {
			up++
		}
	}
	return fmt.Sprintf("%016x (%d of %d nodes up, %d messages in flight)", s.fp, up, len(s.nodes), len(s.inFlight))
}

// umsg is a message in flight, with its content's hash. A client's request put in flight (a
// retry to every node) comes from node 0.
type umsg struct {
	from, to node.ID
	seq      int // per-link send order, for ordered links
	m        node.Message
	h        uint64
}

// uaction is one kind of action; with the choices its step makes it determines a transition.
type uaction struct {
	kind    uint8
	node    node.ID
	msg     int    // index into inFlight, or into sent for a replay
	keep    bool   // a duplicating network: the message stays in flight after delivery
	timer   string // timer name
	client  int    // the client's index
	choices []int  // the choices of the step
}

const (
	uDeliver uint8 = iota
	uDrop
	uTimer
	uCrash
	uRestart
	uRequest  // a client submits an operation to node
	uResend   // a client sends its operation again, to the node a decline named
	uRetry    // a client times out and sends its operation again, to node (0: every node)
	uGiveUp   // a client times out for the last time: the outcome is unknown
	uMutate   // a Byzantine node's message in flight is changed by a mutator
	uReplay   // a Byzantine node sends one of its messages again, to node
	uWithhold // a Byzantine node's message in flight is never sent
	uBoot     // every node starts (the step to an initial state)
)

// NewUntimed returns the untimed world of protocol p in cluster cfg.
func NewUntimed(p *node.Protocol, cfg node.Config, opts UntimedOptions) *Untimed {
	u := &Untimed{proto: p, cfg: cfg, opts: opts, unordered: p.Explore.UnorderedOutputs}
	for i := 1; i <= cfg.N; i++ {
		u.ids = append(u.ids, node.ID(i))
	}
	u.targets = opts.Targets
	if len(u.targets) == 0 {
		u.targets = p.Explore.Targets
	}
	if len(u.targets) == 0 {
		u.targets = u.ids
	}
	if len(opts.Faulty) > 0 {
		u.faulty = make([]bool, cfg.N)
		for _, id := range opts.Faulty {
			u.faulty[id-1] = true
		}
	}
	u.clients, u.ops = workloadSize(p, opts.Clients, 0)
	if p.MaxSize != nil {
		u.maxSize = p.MaxSize(cfg)
	}
	if opts.Symmetry {
		u.perms = u.symmetries()
	}
	return u
}

// CheckHistory has the world judge the client history of every state with c (see
// HistoryCheck). A history that is not linearizable stays so whatever comes after it, so
// judging every state finds a violation at the first state that has one, and a path ends
// in a state judged like any other.
func (u *Untimed) CheckHistory(c *HistoryCheck) { u.history = c }

// Truncated reports whether Init stopped at MaxInitial initial states.
func (u *Untimed) Truncated() bool { return u.truncated.Load() }

// Options returns the options the world was made with.
func (u *Untimed) Options() UntimedOptions { return u.opts }

// Init returns the initial states: every node booted, one state per combination of the
// choices their Start makes (a protocol that makes none has one initial state).
func (u *Untimed) Init() []*UState {
	var out []*UState
	u.branch(nil, func(choices []int) (*UState, []int, bool) {
		return u.apply(u.empty(), uaction{kind: uBoot, choices: choices}, nil)
	}, func(_ []int, s *UState) bool {
		if len(out) == MaxInitial {
			u.truncated.Store(true)
			return false
		}
		out = append(out, s)
		return true
	})
	return out
}

// empty is the state before boot: every node down, with empty storage.
func (u *Untimed) empty() *UState {
	s := &UState{}
	for _, id := range u.ids {
		s.nodes = append(s.nodes, &slot{id: id, rate: 1, timers: map[string]uint64{}, durable: map[string]any{}, pending: map[string]any{}})
		s.hashes = append(s.hashes, 0)
	}
	for i := range u.clients {
		s.clients = append(s.clients, &client{index: i, op: -1})
		s.byID = append(s.byID, i)
		s.clients[i].id = node.ClientID(i + 1)
	}
	return s
}

// UntimedReplay is a path of the untimed world replayed with its whole trace.
type UntimedReplay struct {
	Trace     []Entry
	TraceHash uint64
	Steps     int
	// Violation is the first property broken along the path, where the replay stopped.
	Violation *Violation
	// Actions describes the path's steps, as Label does.
	Actions []string
}

// Replay follows a path (an initial state's index and action numbers as Next yields them)
// with a full trace, checking the properties after every step: the timeline of an explorer
// counterexample, as `replica replay` shows it.
func (u *Untimed) Replay(init int, actions []int) (UntimedReplay, error) {
	tr := newTracer(TraceFull, nil)
	var r UntimedReplay
	s, err := u.initial(init, &tr)
	if err != nil {
		return r, err
	}
	for step, want := range actions {
		if r.Violation = u.violation(s, step); r.Violation != nil {
			break
		}
		a, ok := u.action(s, want)
		if !ok {
			return r, fmt.Errorf("step %d: action %d is not enabled", step+1, want)
		}
		r.Actions = append(r.Actions, u.describe(s, a))
		tr.step = step + 1
		next := s
		u.branchOne(s, a, &tr, func(n *UState) { next = n })
		s = next
		r.Steps = step + 1
	}
	if r.Violation == nil {
		r.Violation = u.violation(s, r.Steps)
	}
	if r.Violation != nil {
		r.Violation.Context = tr.full[max(0, len(tr.full)-DefaultContext):]
		for _, sl := range s.nodes {
			r.Violation.Nodes = append(r.Violation.Nodes, describeSlot(sl))
		}
	}
	r.Trace, r.TraceHash = tr.full, tr.hash.Sum()
	return r, nil
}

// initial rebuilds initial state number i, tracing its boot.
func (u *Untimed) initial(i int, tr *tracer) (*UState, error) {
	choices, err := u.initChoices(i)
	if err != nil {
		return nil, err
	}
	s, _, _ := u.apply(u.empty(), uaction{kind: uBoot, choices: choices}, tr)
	return s, nil
}

// initChoices returns the choices of the boot that makes initial state number i.
func (u *Untimed) initChoices(i int) ([]int, error) {
	var choices []int
	n := 0
	u.branch(nil, func(c []int) (*UState, []int, bool) {
		return u.apply(u.empty(), uaction{kind: uBoot, choices: c}, nil)
	}, func(c []int, _ *UState) bool {
		if n == i {
			choices = slices.Clone(c)
		}
		n++
		return n <= i
	})
	if n <= i {
		return nil, fmt.Errorf("initial state %d of %d", i, n)
	}
	return choices, nil
}

func (u *Untimed) violation(s *UState, step int) *Violation {
	name := u.Violated(s)
	if name == "" {
		return nil
	}
	return &Violation{Property: name, Message: u.Why(s, name), Event: step}
}

// Next yields every successor of s, in a deterministic order.
func (u *Untimed) Next(s *UState, yield func(action int, next *UState) bool) {
	i := 0
	u.successors(s, nil, func(_ uaction, next *UState) bool {
		ok := yield(i, next)
		i++
		return ok
	})
}

// action returns the action numbered want in s, with its choices.
func (u *Untimed) action(s *UState, want int) (uaction, bool) {
	var chosen uaction
	found := false
	i := 0
	u.successors(s, nil, func(a uaction, _ *UState) bool {
		if i == want {
			chosen, found = a, true
			return false
		}
		i++
		return true
	})
	return chosen, found
}

// successors enumerates the transitions of s: each enabled action, and for a step that makes
// choices, each combination of them.
func (u *Untimed) successors(s *UState, tr *tracer, yield func(a uaction, next *UState) bool) {
	if s.fail != nil {
		return
	}
	list, _ := u.lists.Get().(*[]uaction)
	if list == nil {
		list = new([]uaction)
	}
	as := u.appendActions(s, (*list)[:0])
	defer func() { // a yield may stop the search by a panic (the step watchdog's)
		clear(as)
		*list = as[:0]
		u.lists.Put(list)
	}()
	for _, a := range as {
		ok := u.branch(a.choices, func(choices []int) (*UState, []int, bool) {
			b := a
			b.choices = choices
			return u.apply(s, b, tr)
		}, func(choices []int, next *UState) bool {
			b := a
			b.choices = slices.Clone(choices)
			return yield(b, next)
		})
		if !ok {
			return
		}
	}
}

// branchOne applies a, with exactly its choices.
func (u *Untimed) branchOne(s *UState, a uaction, tr *tracer, got func(*UState)) {
	if next, _, ok := u.apply(s, a, tr); ok {
		got(next)
	}
}

// branch runs a step with every combination of the choices it makes: the step is re-run
// with each prefix of choices, the first run taking zero for every choice beyond it. apply
// returns the state, the arities of the choices the step asked for, and false for a step
// that turned out not to be possible (a mutator that applies to no message).
func (u *Untimed) branch(prefix []int, apply func(choices []int) (*UState, []int, bool), yield func(choices []int, s *UState) bool) bool {
	next, asked, ok := apply(prefix)
	if ok && !yield(prefix, next) {
		return false
	}
	for j := len(prefix); j < len(asked); j++ {
		for v := 1; v < asked[j]; v++ {
			c := append(padChoices(prefix, j), v)
			if !u.branch(c, apply, yield) {
				return false
			}
		}
	}
	return true
}

// padChoices is choices extended with zeros to length j.
func padChoices(choices []int, j int) []int {
	out := make([]int, j, j+1)
	copy(out, choices)
	return out
}

// actions lists the enabled actions of s, without their choices.
func (u *Untimed) actions(s *UState) []uaction { return u.appendActions(s, nil) }

// appendActions appends the enabled actions of s to as.
func (u *Untimed) appendActions(s *UState, as []uaction) []uaction {
	var timers [8]string // on the stack, for the few timers a node has armed
	for i, m := range s.inFlight {
		if i > 0 && sameMsg(m, s.inFlight[i-1]) {
			continue // identical copies lead to identical states
		}
		if u.opts.Ordered && i > 0 && m.from == s.inFlight[i-1].from && m.to == s.inFlight[i-1].to {
			continue // only the oldest message of a link may arrive
		}
		as = append(as, uaction{kind: uDeliver, node: m.to, msg: i})
		if u.opts.Duplicate { // delivered, and still in flight for another delivery
			as = append(as, uaction{kind: uDeliver, node: m.to, msg: i, keep: true})
		}
		if u.opts.Lossy {
			as = append(as, uaction{kind: uDrop, node: m.to, msg: i})
		}
	}
	for _, sl := range s.nodes {
		if sl.up {
			for _, name := range sortedTimers(sl, timers[:0]) {
				as = append(as, uaction{kind: uTimer, node: sl.id, timer: name})
			}
		}
	}
	for _, sl := range s.nodes {
		switch {
		case sl.up && int(s.crashes) < u.opts.Crashes:
			as = append(as, uaction{kind: uCrash, node: sl.id})
		case !sl.up:
			as = append(as, uaction{kind: uRestart, node: sl.id})
		}
	}
	as = u.clientActions(s, as)
	return u.byzantineActions(s, as)
}

// clientActions adds the clients' actions: an idle client's next operation (while the
// request budget lasts), a resend after a decline, and timeouts (while their budget lasts).
//
// Of the clients that have not submitted anything yet, only the first is offered: they differ
// in their IDs alone, so a path that starts client 3 before client 2 is a path that starts
// client 2 first with the two renamed. (This assumes a protocol does not order clients by ID
// number; it may use them as keys.)
func (u *Untimed) clientActions(s *UState, as []uaction) []uaction {
	if u.proto.Workload == nil {
		return as
	}
	if len(s.history) < u.opts.Requests {
		freshOffered := false
		for _, c := range s.clients {
			if c.op >= 0 || c.done >= u.ops {
				continue
			}
			if c.seq == 0 && c.done == 0 {
				if freshOffered {
					continue
				}
				freshOffered = true
			}
			for _, t := range u.targets {
				if s.nodes[t-1].up {
					as = append(as, uaction{kind: uRequest, node: t, client: c.index})
				}
			}
		}
	}
	for _, c := range s.clients {
		if c.op >= 0 && c.resend && (s.nodes[c.target-1].up || c.attempts > 1 && u.matching() > 1) {
			as = append(as, uaction{kind: uResend, node: c.target, client: c.index})
		}
	}
	if int(s.timeouts) >= u.opts.Timeouts {
		return as
	}
	for _, c := range s.clients {
		switch {
		case c.op < 0, c.resend: // idle, or about to send again: not waiting
		case c.attempts >= u.attempts():
			as = append(as, uaction{kind: uGiveUp, client: c.index})
		case u.matching() > 1:
			as = append(as, uaction{kind: uRetry, client: c.index})
		default:
			for _, t := range u.targets {
				if s.nodes[t-1].up {
					as = append(as, uaction{kind: uRetry, node: t, client: c.index})
				}
			}
		}
	}
	return as
}

func (u *Untimed) attempts() int {
	if a := u.proto.Workload.Attempts; a > 0 {
		return a
	}
	return maxAttempts
}

func (u *Untimed) matching() int {
	if m := u.proto.Workload.Matching; m != nil {
		return max(1, m(u.cfg))
	}
	return 1
}

func sameMsg(a, b umsg) bool { return a.from == b.from && a.to == b.to && a.h == b.h }

// sortedTimers appends the names of node sl's armed timers to names, sorted. Callers pass a
// small array on the stack: this runs for every node of every state expanded and sealed.
func sortedTimers(sl *slot, names []string) []string {
	for name := range sl.timers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// apply returns the state after action a, the arities of the choices its step asked for, and
// whether the action could be taken at all.
func (u *Untimed) apply(s *UState, a uaction, tr *tracer) (next *UState, asked []int, ok bool) {
	return u.applyLogged(s, a, tr, nil)
}

// applyLogged is apply, noting what the step does in log when it is not nil.
func (u *Untimed) applyLogged(s *UState, a uaction, tr *tracer, log *stepLog) (next *UState, asked []int, ok bool) {
	x := u.newStep(s, a.choices, tr)
	x.log = log
	// Nothing holds the step maker once its state is sealed (the state takes its slices, not
	// it), so the next step reuses its memory. This defer runs after the one below.
	defer u.steps.Put(x)
	defer func() {
		if r := recover(); r != nil {
			prop, msg := failure(r)
			next, asked, ok = x.failed(prop, msg), x.asked, true
		}
	}()
	if !x.act(a) {
		return nil, x.asked, false
	}
	return x.seal(), x.asked, true
}

// ustep is one step of the untimed world in the making: the step core loaded with the state
// it starts from, and the untimed meaning of time.
type ustep struct {
	stepCore
	u        *Untimed
	from     *UState
	inFlight []umsg
	sent     []umsg
	choices  []int // the step's choices, zero beyond them
	asked    []int // the arity of each choice the step asked for
	clock    int32
	crashes  int32
	timeouts int32
	byz      int32
	tr       *tracer
	log      *stepLog // what a step recorded for a timed replay does (nil: not recorded)
	// spare is the memory the successor is built in: a recycled state (see Recycle) or a
	// new one. Its arrays of nodes and messages in flight are this step's copies, and seal
	// fills it.
	spare *UState
}

// newStep loads state s into a step core whose effects mean untimed things.
func (u *Untimed) newStep(s *UState, choices []int, tr *tracer) *ustep {
	x, _ := u.steps.Get().(*ustep)
	if x == nil {
		x = new(ustep)
	}
	spare, _ := u.spares.Get().(*UState)
	if spare == nil {
		spare = new(UState)
	}
	*x = ustep{u: u, from: s, choices: choices, tr: tr, spare: spare,
		inFlight: append(spare.inFlight, s.inFlight...), sent: slices.Clip(s.sent),
		clock: s.clock, crashes: s.crashes, timeouts: s.timeouts, byz: s.byz}
	x.stepCore = stepCore{
		proto: u.proto, cluster: u.cfg, ids: u.ids, nodes: append(spare.nodes, s.nodes...), stepBudget: DefaultStepBudget,
		outputs: slices.Clip(s.outputs), newOut: len(s.outputs), history: slices.Clip(s.history),
		clients: s.clients, byID: slices.Clip(s.byID), faulty: u.faulty, cow: true, spareSlots: &u.slots,
		trace: tr, ownCopies: true,
	}
	if tr != nil {
		x.events = tr.step
	}
	x.env.k = &x.stepCore
	x.time = x
	return x
}

// act takes action a; false means it cannot be taken after all.
func (x *ustep) act(a uaction) bool {
	switch a.kind {
	case uBoot: // every node starts: the initial states
		for _, id := range x.ids {
			s := x.mutable(id, false)
			x.record(Boot, id, 0, 0, nil)
			x.stepCore.boot(s, x.proto.New(x.cluster, id))
		}
	case uDeliver:
		m := x.inFlight[a.msg]
		if !a.keep {
			x.inFlight = slices.Delete(x.inFlight, a.msg, a.msg+1)
		}
		x.deliver(m)
	case uDrop:
		m := x.inFlight[a.msg]
		x.inFlight = slices.Delete(x.inFlight, a.msg, a.msg+1)
		x.record(Dropped, m.to, m.from, 0, m.m)
	case uTimer:
		x.fire(x.mutable(a.node, true), a.timer)
	case uCrash:
		x.crashes++
		x.crash(x.mutable(a.node, false))
	case uRestart:
		s := x.mutable(a.node, false)
		x.record(Restart, a.node, 0, 0, nil)
		x.stepCore.boot(s, x.proto.New(x.cluster, a.node))
	case uRequest:
		x.invoke(a.client, x.workloadChoice)
		c := x.client(a.client)
		c.target, c.attempts = a.node, 1
		x.request(x.mutable(a.node, true), c.req)
	case uResend:
		c := x.client(a.client)
		c.resend = false
		if c.attempts > 1 && x.matching() > 1 { // as the timed client, after a timeout
			x.requestAll(c)
			break
		}
		x.request(x.mutable(c.target, true), c.req)
	case uRetry:
		x.timeouts++
		c := x.client(a.client)
		c.attempts++
		c.resend = false
		x.record(GiveUp, 0, 0, c.id, "retry")
		if a.node != 0 {
			c.target = a.node
			x.request(x.mutable(a.node, true), c.req)
			break
		}
		x.requestAll(c)
	case uGiveUp:
		x.timeouts++
		c := x.client(a.client)
		x.record(GiveUp, 0, 0, c.id, "outcome unknown")
		x.finishOp(c)
		x.newClientID(c)
	case uMutate, uReplay, uWithhold:
		return x.deviate(a)
	}
	return true
}

// requestAll puts client c's request in flight to every node: they arrive one by one, in any
// order (a client that wants matching answers from several nodes).
func (x *ustep) requestAll(c *client) {
	for _, id := range x.ids {
		x.inFlight = append(x.inFlight, umsg{from: 0, to: id, seq: len(x.inFlight) + 1, m: c.req, h: HashOf(c.req)})
	}
}

// deliver hands a message in flight to its node; a node that is down loses it.
func (x *ustep) deliver(m umsg) {
	if !x.nodes[m.to-1].up {
		if req, ok := m.m.(node.Request); ok && m.from == 0 {
			x.record(Lost, m.to, 0, req.Client, req.Op) // as the timed world loses a request
			return
		}
		x.record(Lost, m.to, m.from, 0, m.m)
		return
	}
	s := x.mutable(m.to, true)
	if m.from == 0 { // a client's request
		x.request(s, m.m.(node.Request))
		return
	}
	x.receive(s, m.from, 0, m.m) // untimed messages have no number: the trace names them (tracer.name)
}

// The untimed meaning of time.

// send keeps m in flight until an action delivers it (or drops it, on a lossy network).
func (x *ustep) send(from, to node.ID, m node.Message) {
	m = cloneAny(m)
	x.record(Send, from, to, 0, m)
	h := HashOf(m)
	seq := len(x.inFlight) + 1 // after every message already in flight; seal renumbers
	x.inFlight = append(x.inFlight, umsg{from: from, to: to, seq: seq, m: m, h: h})
	x.remember(umsg{from: from, to: to, m: m, h: h})
}

// setTimer arms the timer: it may fire at any point from now on.
func (x *ustep) setTimer(s *slot, name string, min, max time.Duration) {
	if _, armed := s.timers[name]; !armed {
		s.ownMaps(mapTimers)
		s.timers[name] = 1
	}
}

// choice is the protocol's Env.Choose: the step's next choice (see pick).
func (x *ustep) choice(n int) int { return x.pick(Protocol, n) }

func (x *ustep) workloadChoice(n int) int  { return x.pick(Workload, n) }
func (x *ustep) adversaryChoice(n int) int { return x.pick(Adversary, n) }

// pick takes the step's next choice, zero beyond them, and notes the arity so that the
// explorer branches on the alternatives. Every choice of a step, whatever decides it, is one
// sequence; a step being recorded for a timed replay notes what each was for.
func (x *ustep) pick(p Purpose, n int) int {
	n = max(n, 1)
	i := len(x.asked)
	x.asked = append(x.asked, n)
	v := 0
	if i < len(x.choices) && x.choices[i] < n {
		v = x.choices[i]
	}
	if x.log != nil {
		x.log.choices[p] = append(x.log.choices[p], v)
	}
	return v
}

// replied: the client reads a reply at once. An answer that arrives sooner only narrows the
// operation's interval in the history, so a history that is not linearizable with later
// answers is not with earlier ones either; and every later point at which the client could
// go on is an action of its own.
func (x *ustep) replied(cl int, from node.ID, req node.Request, result any) {
	if !x.correct(from) && int(x.byz) < x.u.opts.Byzantine {
		var ok bool
		if result, ok = x.bendReply(from, req, result); !ok {
			return
		}
	}
	x.answer(cl, from, req, result)
}

func (x *ustep) redirect(c *client) { c.resend = true }

// finished: a decline that came before the answer is void with the operation it declined.
func (x *ustep) finished(c *client)   { c.resend = false }
func (x *ustep) stepped(s *slot)      {}
func (x *ustep) stamp() time.Duration { x.clock++; return time.Duration(x.clock) }

// failed returns the state of a step that failed: it is the violation, with no successors.
func (x *ustep) failed(property, msg string) *UState {
	s := *x.from
	s.fail = &Violation{Property: property, Message: msg}
	s.verdict, s.why, s.reached = property, msg, 0
	h := NewHasher()
	h.Uint64(x.from.fp)
	h.String(property)
	h.String(msg)
	s.fp = h.Sum()
	return &s
}

// seal turns the step into a state in canonical form, with its fingerprint.
func (x *ustep) seal() *UState {
	u, p := x.u, x.from
	s := x.spare
	*s = UState{
		nodes: x.nodes, hashes: append(s.hashes, p.hashes...), inFlight: x.inFlight, clients: x.clients,
		byID: x.byID, history: x.history, outputs: x.outputs, sent: x.sent,
		fresh: int32(len(x.outputs) - x.newOut), own: uint32(x.owned), clock: x.clock,
		crashes: x.crashes, timeouts: x.timeouts, byz: x.byz,
		clientsHash: p.clientsHash, historyHash: p.historyHash, outputsHash: p.outputsHash,
		historyKey: p.historyKey,
	}
	for i := range s.nodes {
		if x.owned&(1<<i) != 0 {
			s.hashes[i] = hashSlot(s.nodes[i], nil)
		}
	}
	if x.ownedCl || len(x.byID) != len(p.byID) || p.clientsHash == 0 {
		s.clientsHash = hashClients(s.clients, s.byID, nil)
	}
	if x.ownedH || len(x.history) != len(p.history) || p.historyHash == 0 {
		s.historyHash = hashHistory(s.history, nil)
		s.historyKey = u.cachedHistoryKey(s.history, s.historyHash)
	}
	if len(x.outputs) != len(p.outputs) || p.outputsHash == 0 {
		s.outputsHash = u.hashOutputs(p.outputsHash, s.outputs[:len(p.outputs)], s.outputs[len(p.outputs):], nil)
	}
	s.inFlight = u.canonicalFlight(s.inFlight)
	u.judgeStep(s)
	u.testUnordered(s, len(p.outputs))
	u.testHistoryOrder(s, x.ownedH || len(x.history) != len(p.history))
	s.fp = u.fingerprint(s, s.hashes, s.clientsHash, s.historyKey, s.outputsHash, nil)
	return s
}

// unorderedSample is the shift that samples the states testUnordered checks among those whose
// step made no output: one in 2^(64-61). Tests set it to 64 to check every state.
var unorderedSample uint = 61

// testUnordered tests a protocol's claim that its verdicts do not depend on how different
// nodes' outputs interleave (node.Explore.UnorderedOutputs). It judges a state again with its
// earlier outputs grouped by node, in increasing and in decreasing order of node, orders the
// fingerprint does not tell apart from the state's own, and marks the state broken where a
// verdict differs; the step's own outputs (NewOutputs) stay last, as they are. It does so for
// every state whose step made outputs, where a property over outputs changes its verdict,
// and for one in eight of the others (checking them all cost a third more time on Paxos).
// It runs before the fingerprint, so that the mark is part of the state.
//
// It tests two orders of the many a state may stand for: it catches a property that reads
// which node output first, not every property that reads the order.
func (u *Untimed) testUnordered(s *UState, earlier int) {
	if !u.unordered || s.verdict != "" || earlier < 2 {
		return
	}
	if int(s.fresh) == 0 {
		key := s.outputsHash ^ s.historyKey ^ s.clientsHash
		for _, h := range s.hashes {
			key = key*0x100000001b3 ^ h
		}
		if (key*0x9e3779b97f4a7c15)>>unorderedSample != 0 {
			return
		}
	}
	prefix := s.outputs[:earlier]
	if !slices.ContainsFunc(prefix, func(o node.Output) bool { return o.Node != prefix[0].Node }) {
		return // one node's outputs: nothing to reorder
	}
	// One copy of the state and of its outputs serves both orders: this runs for a good
	// share of the successors, most of which are dropped as visited.
	t := *s
	t.outputs = slices.Clone(s.outputs)
	for _, dir := range [...]int{1, -1} {
		grouped := t.outputs[:earlier]
		copy(grouped, prefix)
		slices.SortStableFunc(grouped, func(a, b node.Output) int { return dir * (int(a.Node) - int(b.Node)) })
		if p, msg := u.judge(&t); p != "" {
			s.verdict = PropUnordered
			s.why = fmt.Sprintf("the protocol declares Explore.UnorderedOutputs, but %s fails when the same outputs come grouped by node (%s), and holds in the order they were made", p, msg)
			return
		}
	}
}

// judgeStep judges the state a step led to: its verdict and the sometimes-properties reached.
func (u *Untimed) judgeStep(s *UState) {
	s.verdict, s.why = u.judge(s)
	s.reached = u.reachedIn(s)
}

// reachedIn has a bit set for each sometimes-property that holds in s.
func (u *Untimed) reachedIn(s *UState) (reached uint64) {
	if len(u.proto.Sometimes) == 0 {
		return 0
	}
	j := u.bind(s)
	defer u.unbind(j)
	for i := range min(j.props.Sometimes(), 64) {
		if holds(&j.props, i) {
			reached |= 1 << i
		}
	}
	return reached
}

// holds reports whether the sometimes-property i of props holds (one that panics does not:
// the panic is reported as a violation by judge).
func holds(props *node.Bound, i int) (reached bool) {
	defer func() {
		if recover() != nil {
			reached = false
		}
	}()
	return props.Reached(i)
}

// judgeView is the protocol's properties bound to a view whose state is set before each
// judgement. Binding makes the scoped views of a stack's components once (node.Bound), where
// calling the properties with a fresh view made them again for every state judged: a fifth
// of the bytes Paxos's exploration allocated.
type judgeView struct {
	view  uview
	props node.Bound
}

// bind returns a judgeView of s, for one goroutine until unbind.
func (u *Untimed) bind(s *UState) *judgeView {
	j, _ := u.judges.Get().(*judgeView)
	if j == nil {
		j = &judgeView{view: uview{u: u}}
		j.props.Bind(u.proto, &j.view)
	}
	j.view.s = s
	return j
}

// unbind gives j back to the pool, without the state it judged, which a pooled view would
// otherwise keep alive.
func (u *Untimed) unbind(j *judgeView) {
	j.view.s = nil
	u.judges.Put(j)
}

// canonicalFlight sorts the messages in flight: by link, then in send order on an ordered
// network, else by content. A duplicating network keeps them as a set: it may deliver a
// message any number of times, so two copies are no different from one (as in TLA+
// specifications, where msgs only grows); without this, a node answering each redelivery
// would fill the network with copies and the states would never end.
func (u *Untimed) canonicalFlight(f []umsg) []umsg {
	slices.SortStableFunc(f, func(x, y umsg) int {
		switch {
		case x.from != y.from:
			return cmp.Compare(x.from, y.from)
		case x.to != y.to:
			return cmp.Compare(x.to, y.to)
		case u.opts.Ordered:
			return cmp.Compare(x.seq, y.seq)
		}
		return cmp.Compare(x.h, y.h)
	})
	if u.opts.Duplicate {
		f = slices.CompactFunc(f, sameMsg)
	}
	if u.opts.Ordered { // renumber each link's sequence from zero, so equal queues are equal states
		for i := range f {
			if i == 0 || f[i].from != f[i-1].from || f[i].to != f[i-1].to {
				f[i].seq = 0
			} else {
				f[i].seq = f[i-1].seq + 1
			}
		}
	}
	return f
}

// fingerprint folds a state's parts together; perm, when not nil, renames the nodes (and
// the node hashes and part hashes given must be those of the renamed parts).
func (u *Untimed) fingerprint(s *UState, hashes []uint64, clients, history, outputs uint64, flight []umsg) uint64 {
	if flight == nil {
		flight = s.inFlight
	}
	h := NewHasher()
	for _, x := range hashes {
		h.Uint64(x)
	}
	h.Uint64(uint64(len(flight)))
	for _, m := range flight {
		h.Uint64(uint64(m.from)<<32 | uint64(m.to))
		h.Uint64(m.h)
	}
	h.Uint64(uint64(s.crashes)<<40 | uint64(s.timeouts)<<20 | uint64(s.byz))
	h.Uint64(clients)
	h.Uint64(history) // not the logical clock: histsum.go
	h.Uint64(outputs)
	h.Uint64(uint64(len(s.outputs)))
	h.String(s.verdict)
	h.Uint64(s.reached)
	h.Uint64(uint64(len(s.sent)))
	for _, m := range s.sent {
		h.Uint64(uint64(m.from))
		h.Uint64(m.h)
	}
	return h.Sum()
}

// hashSlot fingerprints one node: whether it is up, its state, storage and armed timers.
// perm, when not nil, renames node IDs (symmetry).
func hashSlot(sl *slot, perm []node.ID) uint64 {
	// A Hasher escapes to the heap (see hasherPool), and this runs for every node that
	// stepped in every successor: a pooled one saves an allocation each time.
	h := hasherPool.Get().(*Hasher)
	*h = NewHasher()
	h.perm = perm
	h.Value(sl.up)
	h.Value(sl.state)
	if perm != nil {
		h.Uint64(hashRenamed(sl.durable, perm))
	} else {
		if !sl.durValid {
			sl.durHash, sl.durValid = HashOf(sl.durable), true
		}
		h.Uint64(sl.durHash)
	}
	h.Uint64(uint64(len(sl.pending)))
	if len(sl.pending) > 0 {
		h.Value(sl.pending)
	}
	var timers [8]string
	for _, name := range sortedTimers(sl, timers[:0]) {
		h.String(name)
	}
	sum := h.Sum()
	*h = Hasher{} // let go of what it points to
	hasherPool.Put(h)
	return sum
}

func hashClients(cs []*client, byID []int, perm []node.ID) uint64 {
	h := NewHasher()
	h.perm = perm
	for _, c := range cs {
		// Where the client's operation sits in the history is not part of the state: the
		// history's order is not (histsum.go).
		k := *c
		k.op = min(k.op, 0)
		if k.op < 0 { // idle: where it sent its last operation no longer matters
			k.req, k.target, k.attempts = node.Request{}, 0, 0
		}
		h.Value(k)
	}
	h.Uint64(uint64(len(byID)))
	for _, i := range byID {
		h.Int(i)
	}
	return h.Sum()
}

func hashHistory(ops []node.Op, perm []node.ID) uint64 {
	h := NewHasher()
	h.perm = perm
	h.Uint64(uint64(len(ops)))
	for i := range ops {
		h.Value(ops[i])
	}
	return h.Sum()
}

// hashOutputs extends the hash of the outputs prior with more of them, outs. With
// unordered outputs (node.Explore.UnorderedOutputs), each output is hashed with its node and
// its rank among that node's outputs, and the hashes are summed, so that the interleaving of
// different nodes' outputs is forgotten and each node's own order kept.
func (u *Untimed) hashOutputs(prev uint64, prior, outs []node.Output, perm []node.ID) uint64 {
	if !u.unordered {
		return hashOutputSequence(prev, outs, perm)
	}
	for i, o := range outs {
		rank := 0
		for _, q := range prior {
			if q.Node == o.Node {
				rank++
			}
		}
		for _, q := range outs[:i] {
			if q.Node == o.Node {
				rank++
			}
		}
		h := NewHasher()
		h.perm = perm
		h.Uint64(uint64(h.rename(o.Node)))
		h.Uint64(uint64(rank))
		if o.Path != "" {
			h.String(o.Path)
		}
		h.Value(o.Value)
		prev += h.Sum()
	}
	return prev
}

// hashOutputSequence extends the hash of a sequence of outputs with more of them.
func hashOutputSequence(prev uint64, outs []node.Output, perm []node.ID) uint64 {
	h := Hasher{h: prev, perm: perm}
	for _, o := range outs {
		h.Uint64(uint64(h.rename(o.Node)))
		if o.Path != "" { // a component's output: two components' equal values stay two
			h.String(o.Path)
		}
		h.Value(o.Value)
	}
	return h.h
}

// remember adds a Byzantine node's message to what it may replay.
func (x *ustep) remember(m umsg) {
	if x.u.opts.Byzantine == 0 || m.from == 0 || x.correct(m.from) || len(x.sent) >= maxReplay {
		return
	}
	i, found := slices.BinarySearchFunc(x.sent, m, compareSent)
	if !found {
		x.sent = slices.Insert(slices.Clip(x.sent), i, umsg{from: m.from, m: m.m, h: m.h})
	}
}

// Recycle takes back a successor the explorer found visited, which nothing else holds (see
// explore.Recycler): the next step builds its successor in it. A successor owns its UState
// and the arrays of its nodes, their hashes and its messages in flight (newStep and seal
// copy them); its slots, clients, history and outputs it may share with its parent, so only
// those three arrays are kept, emptied, with the slots the step copied (UState.own), which
// no other state holds while this one has no successors. A failed step's state shares all.
func (u *Untimed) Recycle(s *UState) {
	if s.fail != nil {
		return
	}
	for i, sl := range s.nodes {
		if i < 32 && s.own&(1<<i) != 0 {
			*sl = slot{} // drop what it points to: its maps may be the parent's
			u.slots.Put(sl)
		}
	}
	clear(s.nodes)
	clear(s.inFlight[:cap(s.inFlight)]) // messages that left the array still point to theirs
	*s = UState{nodes: s.nodes[:0], hashes: s.hashes[:0], inFlight: s.inFlight[:0]}
	u.spares.Put(s)
}

// Fingerprint identifies a state.
func (u *Untimed) Fingerprint(s *UState) uint64 { return s.fp }

// Violated returns the first property that s breaks: the failure of the step that led to it,
// an invariant of the protocol, the protocol's memory bound, or the history check.
func (u *Untimed) Violated(s *UState) string { return s.verdict }

// Why explains the violation of property name in s.
func (u *Untimed) Why(s *UState, name string) string {
	if s.verdict != name {
		return ""
	}
	return s.why
}

// judge finds the first property s breaks, as the timed world checks them after a step: a
// property that panics is a violation too.
func (u *Untimed) judge(s *UState) (property, msg string) { return u.judgeWith(s, true) }

// judgeWith is judge, with or without the history check.
func (u *Untimed) judgeWith(s *UState, history bool) (property, msg string) {
	if s.fail != nil {
		return s.fail.Property, s.fail.Message
	}
	defer func() {
		if r := recover(); r != nil {
			property, msg = failure(r)
		}
	}()
	j := u.bind(s)
	defer u.unbind(j) // after a panic too: a property's panic leaves the binding as it was
	for i := range j.props.Invariants() {
		if err := j.props.Check(i); err != nil {
			return u.proto.Invariants[i].Name, err.Error()
		}
	}
	if u.maxSize > 0 {
		for _, sl := range s.nodes {
			if z, ok := sl.state.(node.Sizer); ok && sl.up {
				if size := z.Size(); size > u.maxSize {
					return PropMemory, fmt.Sprintf("n%d's state size reached %d, over its bound of %d", sl.id, size, u.maxSize)
				}
			}
		}
	}
	if history && u.history != nil && len(s.history) > 0 {
		if err := u.judgeHistory(s); err != nil {
			return u.history.Property, err.Error()
		}
	}
	return "", ""
}

// judgeHistory checks the history of s, once per distinct history.
func (u *Untimed) judgeHistory(s *UState) error {
	if v, ok := u.verdicts.Load(s.historyHash); ok {
		if v == nil {
			return nil
		}
		return v.(error)
	}
	err := u.history.Check(s.history)
	if err == nil {
		u.verdicts.Store(s.historyHash, nil)
	} else {
		u.verdicts.Store(s.historyHash, err)
	}
	return err
}

// SometimesProperties names the protocol's sometimes-properties.
func (u *Untimed) SometimesProperties() []string {
	var names []string
	for _, p := range u.proto.Sometimes {
		names = append(names, p.Name)
	}
	return names
}

// Sometimes reports whether s satisfies sometimes-property i.
func (u *Untimed) Sometimes(s *UState, i int) bool {
	if i < 64 {
		return s.reached&(1<<i) != 0
	}
	j := u.bind(s)
	defer u.unbind(j)
	return s.fail == nil && holds(&j.props, i)
}

// Progress reports whether the protocol has nothing pending in s.
func (u *Untimed) Progress(s *UState) (done bool) {
	defer func() {
		if recover() != nil {
			done = false
		}
	}()
	return s.fail == nil && (u.proto.Progress == nil || len(u.proto.Progress(uview{u, s})) == 0)
}

// Label names action number action of s.
func (u *Untimed) Label(s *UState, action int) string {
	if a, ok := u.action(s, action); ok {
		return u.describe(s, a)
	}
	return fmt.Sprintf("action %d", action)
}

// Enabled names the actions enabled in s without taking them (Label takes every action up
// to the one it names): for a report on a state whose expansion did not return, one of whose
// steps loops.
func (u *Untimed) Enabled(s *UState) []string {
	var out []string
	for _, a := range u.actions(s) {
		out = append(out, u.describe(s, a))
	}
	return out
}

func (u *Untimed) describe(s *UState, a uaction) string {
	var d string
	switch a.kind {
	case uDeliver, uDrop:
		m := s.inFlight[a.msg]
		verb := "deliver"
		switch {
		case a.kind == uDrop:
			verb = "drop"
		case a.keep:
			verb = "deliver a copy of"
		}
		if m.from == 0 {
			req := m.m.(node.Request)
			d = fmt.Sprintf("%s n%d <- c%d request %s", verb, m.to, req.Client, Summary(req.Op))
		} else {
			d = fmt.Sprintf("%s n%d <- n%d %s", verb, m.to, m.from, Summary(m.m))
		}
		if a.kind == uDeliver && !s.nodes[m.to-1].up {
			d += fmt.Sprintf(" (lost: n%d is down)", m.to) // as deliver does
		}
	case uTimer:
		d = fmt.Sprintf("timer n%d %s", a.node, a.timer)
	case uCrash:
		d = fmt.Sprintf("crash n%d", a.node)
	case uRestart:
		d = fmt.Sprintf("restart n%d", a.node)
	case uRequest:
		c := s.clients[a.client]
		d = fmt.Sprintf("request c%d -> n%d %s", c.id, a.node, u.nextOp(c, a.choices))
	case uResend:
		d = fmt.Sprintf("resend c%d -> n%d", s.clients[a.client].id, a.node)
	case uRetry:
		if a.node == 0 {
			d = fmt.Sprintf("timeout c%d, retry at every node", s.clients[a.client].id)
		} else {
			d = fmt.Sprintf("timeout c%d, retry at n%d", s.clients[a.client].id, a.node)
		}
	case uGiveUp:
		d = fmt.Sprintf("timeout c%d, gives up", s.clients[a.client].id)
	case uMutate:
		m := s.inFlight[a.msg]
		d = fmt.Sprintf("byzantine n%d mutates n%d -> n%d %s", m.from, m.from, m.to, Summary(m.m))
	case uReplay:
		m := s.sent[a.msg]
		d = fmt.Sprintf("byzantine n%d replays %s to n%d", m.from, Summary(m.m), a.node)
	case uWithhold:
		m := s.inFlight[a.msg]
		d = fmt.Sprintf("byzantine n%d withholds n%d -> n%d %s", m.from, m.from, m.to, Summary(m.m))
	}
	if len(a.choices) > 0 {
		d += fmt.Sprintf(" choices %v", a.choices)
	}
	return d
}

// nextOp describes the operation client c submits next with the choices of a request.
func (u *Untimed) nextOp(c *client, choices []int) (op string) {
	defer func() {
		if recover() != nil {
			op = "?"
		}
	}()
	i := 0
	in := u.proto.Workload.Next(c.id, c.seq+1, func(n int) int {
		v := 0
		if i < len(choices) && choices[i] < n {
			v = choices[i]
		}
		i++
		return v
	})
	return Summary(in)
}

// view is the node.World of a state, as properties see it.
func (u *Untimed) view(s *UState) node.World { return uview{u, s} }

// uview is the node.World of a state, for properties.
type uview struct {
	u *Untimed
	s *UState
}

func (v uview) Config() node.Config           { return v.u.cfg }
func (v uview) Now() time.Duration            { return 0 }
func (v uview) Correct(id node.ID) bool       { return v.u.faulty == nil || !v.u.faulty[id-1] }
func (v uview) Outputs() []node.Output        { return v.s.outputs }
func (v uview) NewOutputs() []node.Output     { return v.s.outputs[len(v.s.outputs)-int(v.s.fresh):] }
func (v uview) History() []node.Op            { return v.s.history }
func (v uview) Healed() (bool, time.Duration) { return false, 0 }
func (v uview) Up(id node.ID) bool            { return v.s.nodes[id-1].up }
func (v uview) State(id node.ID) node.Node {
	if sl := v.s.nodes[id-1]; sl.up {
		return sl.state
	}
	return nil
}
