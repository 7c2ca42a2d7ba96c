package sim

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Untimed is the world under untimed semantics: a transition system for exhaustive
// exploration of the same protocol code that campaigns simulate. Time is abstracted away: in
// every state, any message in flight may be delivered next and any armed timer may fire, and
// crashes, restarts and client requests are actions under budgets. A protocol's own choices
// (Env.Choose) branch the step that makes them.
//
// States are *UState values. Successors share every node but the one that stepped, which
// alone is cloned and re-fingerprinted. Untimed satisfies the explorer's Model interface
// (sim/explore) and its sometimes, progress and labelled extensions.
type Untimed struct {
	proto *node.Protocol
	cfg   node.Config
	opts  UntimedOptions
	ids   []node.ID
}

// UntimedOptions are the network semantics and budgets of an exploration.
type UntimedOptions struct {
	// Ordered makes each link deliver in the order sent; otherwise any message in flight
	// may overtake any other.
	Ordered bool
	// Duplicate adds, for each message, an action that delivers it and keeps it in flight,
	// so that it may be delivered again; Lossy adds an action that drops it.
	Duplicate, Lossy bool
	// Crashes and Requests are the budgets of node crashes and client requests.
	Crashes, Requests int
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
	return fmt.Sprintf("network=%s crashes=%d requests=%d", net, o.Crashes, o.Requests)
}

// UState is one state of the untimed world.
type UState struct {
	nodes    []*slot
	hashes   []uint64 // hashes[i]: fingerprint of nodes[i], computed when it last changed
	inFlight []umsg   // in canonical order (see sortFlight)
	crashes  int      // crash budget spent
	history  []node.Op
	outputs  []node.Output // every distinct output, in canonical order
	fresh    []node.Output // the outputs of the step that led here
	fp       uint64
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

// umsg is a message in flight, with its content's hash.
type umsg struct {
	from, to node.ID
	seq      int // per-link send order, for ordered links
	m        node.Message
	h        uint64
}

// uaction is one kind of action; with the protocol's choices it determines a transition.
type uaction struct {
	kind    uint8
	node    node.ID
	msg     int    // index into inFlight
	timer   string // timer name
	client  int    // request number
	keep    bool   // a duplicating network: the message stays in flight after delivery
	choices []int  // the protocol's choices during the step
}

const (
	uDeliver uint8 = iota
	uDrop
	uTimer
	uCrash
	uRestart
	uRequest
)

// NewUntimed returns the untimed world of protocol p in cluster cfg.
func NewUntimed(p *node.Protocol, cfg node.Config, opts UntimedOptions) *Untimed {
	u := &Untimed{proto: p, cfg: cfg, opts: opts}
	for i := 1; i <= cfg.N; i++ {
		u.ids = append(u.ids, node.ID(i))
	}
	return u
}

// Init returns the one initial state: every node booted.
func (u *Untimed) Init() []*UState { return []*UState{u.initial(nil)} }

func (u *Untimed) initial(tr *tracer) *UState {
	s := &UState{}
	for _, id := range u.ids {
		sl := &slot{id: id, rate: 1, timers: map[string]uint64{}, durable: map[string]any{}, pending: map[string]any{}}
		s.nodes = append(s.nodes, sl)
		s.hashes = append(s.hashes, 0)
	}
	for i, sl := range s.nodes {
		trace(tr, Boot, sl.id, 0, 0, nil)
		sl.state, sl.up = u.proto.New(u.cfg, sl.id), true
		u.step(s, i, nil, tr, func(n node.Node, env node.Env) { n.Start(env) })
	}
	s.fresh = nil
	u.seal(s)
	return s
}

// UntimedReplay is a path of the untimed world replayed with its whole trace.
type UntimedReplay struct {
	Trace     []Entry
	TraceHash uint64
	Steps     int
	// Violation is the first invariant broken along the path, where the replay stopped.
	Violation *Violation
}

// Replay follows a path (action numbers as Next yields them, from the initial state) with a
// full trace, checking the invariants after every step: the timeline of an explorer
// counterexample, as `replica replay` shows it.
func (u *Untimed) Replay(actions []int) (UntimedReplay, error) {
	tr := newTracer(TraceFull, 0)
	s := u.initial(&tr)
	var r UntimedReplay
	for step, want := range actions {
		if r.Violation = u.violation(s, step); r.Violation != nil {
			break
		}
		var chosen *uaction
		i := 0
		u.successors(s, nil, func(a uaction, _ *UState) bool {
			if i == want {
				chosen = &a
				return false
			}
			i++
			return true
		})
		if chosen == nil {
			return r, fmt.Errorf("step %d: action %d is not enabled (the state has %d successors)", step+1, want, i)
		}
		tr.step = step + 1
		s, _ = u.apply(s, *chosen, &tr)
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
	u.successors(s, nil, func(a uaction, next *UState) bool {
		ok := yield(i, next)
		i++
		return ok
	})
}

// successors enumerates the transitions of s: each enabled action, and for a step that makes
// protocol choices, each combination of them.
func (u *Untimed) successors(s *UState, tr *tracer, yield func(a uaction, next *UState) bool) {
	for _, a := range u.actions(s) {
		if !u.branch(s, a, tr, yield) {
			return
		}
	}
}

// actions lists the enabled actions of s, without the protocol's choices.
func (u *Untimed) actions(s *UState) []uaction {
	var as []uaction
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
			for _, name := range sortedTimers(sl) {
				as = append(as, uaction{kind: uTimer, node: sl.id, timer: name})
			}
		}
	}
	for _, sl := range s.nodes {
		switch {
		case sl.up && s.crashes < u.opts.Crashes:
			as = append(as, uaction{kind: uCrash, node: sl.id})
		case !sl.up:
			as = append(as, uaction{kind: uRestart, node: sl.id})
		}
	}
	if w := u.proto.Workload; w != nil && len(s.history) < u.opts.Requests {
		for _, sl := range s.nodes {
			if sl.up && u.target(sl.id) {
				as = append(as, uaction{kind: uRequest, node: sl.id, client: len(s.history) + 1})
			}
		}
	}
	return as
}

// target reports whether clients send requests to node id.
func (u *Untimed) target(id node.ID) bool {
	t := u.proto.Explore.Targets
	return len(t) == 0 || slices.Contains(t, id)
}

func sameMsg(a, b umsg) bool { return a.from == b.from && a.to == b.to && a.h == b.h }

func sortedTimers(sl *slot) []string {
	names := make([]string, 0, len(sl.timers))
	for name := range sl.timers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// branch applies a with every combination of the protocol choices its step makes: the step
// is re-run with each prefix of choices, the first run taking zero for every choice.
func (u *Untimed) branch(s *UState, a uaction, tr *tracer, yield func(a uaction, next *UState) bool) bool {
	next, asked := u.apply(s, a, tr)
	if !yield(a, next) {
		return false
	}
	for j := len(a.choices); j < len(asked); j++ {
		for v := 1; v < asked[j]; v++ {
			b := a
			b.choices = append(append(make([]int, 0, j+1), padChoices(a.choices, j)...), v)
			if !u.branch(s, b, tr, yield) {
				return false
			}
		}
	}
	return true
}

// padChoices is choices extended with zeros to length j.
func padChoices(choices []int, j int) []int {
	out := append([]int(nil), choices...)
	for len(out) < j {
		out = append(out, 0)
	}
	return out[:j]
}

// apply returns the state after action a, and the arities of the choices its step asked for.
func (u *Untimed) apply(s *UState, a uaction, tr *tracer) (*UState, []int) {
	next := &UState{
		nodes: slices.Clone(s.nodes), hashes: slices.Clone(s.hashes), inFlight: slices.Clone(s.inFlight),
		crashes: s.crashes, history: s.history, outputs: s.outputs,
	}
	i := int(a.node) - 1
	var asked []int
	switch a.kind {
	case uDeliver:
		m := next.inFlight[a.msg]
		if !a.keep {
			next.inFlight = slices.Delete(next.inFlight, a.msg, a.msg+1)
		}
		if !next.nodes[i].up {
			trace(tr, Lost, m.to, m.from, 0, m.m)
			break
		}
		trace(tr, Deliver, m.to, m.from, 0, m.m)
		asked = u.step(next, i, a.choices, tr, func(n node.Node, env node.Env) { n.Receive(env, m.from, m.m) })
	case uDrop:
		m := next.inFlight[a.msg]
		next.inFlight = slices.Delete(next.inFlight, a.msg, a.msg+1)
		trace(tr, Dropped, m.to, m.from, 0, m.m)
	case uTimer:
		trace(tr, Timer, a.node, 0, 0, a.timer)
		asked = u.step(next, i, a.choices, tr, func(n node.Node, env node.Env) {
			sl := env.(*uenv).s
			sl.own()
			delete(sl.timers, a.timer)
			n.Timer(env, a.timer)
		})
	case uCrash:
		next.crashes++
		sl := &slot{id: a.node, timers: map[string]uint64{}, durable: s.nodes[i].durable, pending: map[string]any{}}
		next.nodes[i] = sl // volatile state, timers and unsynced writes are gone
		next.hashes[i] = hashSlot(sl)
		trace(tr, Crash, a.node, 0, 0, nil)
	case uRestart:
		trace(tr, Restart, a.node, 0, 0, nil)
		asked = u.step(next, i, a.choices, tr, func(_ node.Node, env node.Env) {
			sl := env.(*uenv).s
			sl.state, sl.up = u.proto.New(u.cfg, a.node), true
			sl.state.Start(env)
		})
	case uRequest:
		w := u.proto.Workload
		c := node.ClientID(a.client)
		op := w.Next(c, 1, func(int) int { return 0 })
		req := node.Request{Client: c, Seq: 1, Op: op}
		next.history = append(slices.Clip(s.history), node.Op{Client: c, Seq: 1, Input: op})
		trace(tr, Request, a.node, 0, c, op)
		asked = u.step(next, i, a.choices, tr, func(n node.Node, env node.Env) { n.Request(env, req) })
	}
	u.seal(next)
	return next, asked
}

// step runs one input of node i in state s, on a private copy of the node.
func (u *Untimed) step(s *UState, i int, choices []int, tr *tracer, f func(n node.Node, env node.Env)) []int {
	old := s.nodes[i]
	sl := &slot{id: old.id, up: old.up, rate: 1, state: cloneNode(old.state), shared: true,
		timers: old.timers, durable: old.durable, pending: old.pending, durHash: old.durHash, durValid: old.durValid}
	s.nodes[i] = sl
	e := &uenv{u: u, st: s, s: sl, choices: choices, tr: tr}
	f(sl.state, e)
	s.hashes[i] = hashSlot(sl)
	return e.asked
}

func cloneNode(n node.Node) node.Node {
	if n == nil {
		return nil
	}
	return cloneAny(n).(node.Node)
}

func maps[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hashSlot fingerprints one node: whether it is up, its state, storage and armed timers.
func hashSlot(sl *slot) uint64 {
	h := NewHasher()
	h.Value(sl.up)
	h.Value(sl.state)
	if !sl.durValid {
		d := NewHasher()
		d.Value(sl.durable)
		sl.durHash, sl.durValid = d.Sum(), true
	}
	h.Uint64(sl.durHash)
	h.Uint64(uint64(len(sl.pending)))
	if len(sl.pending) > 0 {
		h.Value(sl.pending)
	}
	for _, name := range sortedTimers(sl) {
		h.String(name)
	}
	return h.Sum()
}

// seal puts a new state in canonical form and computes its fingerprint.
func (u *Untimed) seal(s *UState) {
	slices.SortStableFunc(s.inFlight, func(x, y umsg) int {
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
		// A duplicating network may deliver a message any number of times, so two copies
		// of one message are no different from one: messages in flight form a set (as in
		// TLA+ specifications, where msgs only grows). Without this, a node answering each
		// redelivery would fill the network with copies and the states would never end.
		s.inFlight = slices.CompactFunc(s.inFlight, sameMsg)
	}
	if u.opts.Ordered { // renumber each link's sequence from zero, so equal queues are equal states
		for i := range s.inFlight {
			if i == 0 || s.inFlight[i].from != s.inFlight[i-1].from || s.inFlight[i].to != s.inFlight[i-1].to {
				s.inFlight[i].seq = 0
			} else {
				s.inFlight[i].seq = s.inFlight[i-1].seq + 1
			}
		}
	}
	h := NewHasher()
	for _, x := range s.hashes {
		h.Uint64(x)
	}
	h.Uint64(uint64(len(s.inFlight)))
	for _, m := range s.inFlight {
		h.Uint64(uint64(m.from)<<32 | uint64(m.to))
		h.Uint64(m.h)
	}
	h.Uint64(uint64(s.crashes))
	h.Uint64(uint64(len(s.history)))
	for _, o := range s.outputs {
		h.Uint64(uint64(o.Node))
		if o.Path != "" {
			h.String(o.Path)
		}
		h.Value(o.Value)
	}
	s.fp = h.Sum()
}

// Fingerprint identifies a state.
func (u *Untimed) Fingerprint(s *UState) uint64 { return s.fp }

// Violated returns the first invariant of the protocol that s breaks.
func (u *Untimed) Violated(s *UState) string {
	v := u.view(s)
	for _, inv := range u.proto.Invariants {
		if inv.Check(v) != nil {
			return inv.Name
		}
	}
	return ""
}

// Why explains the violation of invariant name in s.
func (u *Untimed) Why(s *UState, name string) string {
	for _, inv := range u.proto.Invariants {
		if inv.Name == name {
			if err := inv.Check(u.view(s)); err != nil {
				return err.Error()
			}
		}
	}
	return ""
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
func (u *Untimed) Sometimes(s *UState, i int) bool { return u.proto.Sometimes[i].Reached(u.view(s)) }

// Progress reports whether the protocol has nothing pending in s.
func (u *Untimed) Progress(s *UState) bool {
	return u.proto.Progress == nil || len(u.proto.Progress(u.view(s))) == 0
}

// Label names action number action of s.
func (u *Untimed) Label(s *UState, action int) string {
	label := fmt.Sprintf("action %d", action)
	i := 0
	u.successors(s, nil, func(a uaction, _ *UState) bool {
		if i == action {
			label = u.describe(s, a)
			return false
		}
		i++
		return true
	})
	return label
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
		d = fmt.Sprintf("%s n%d <- n%d %s", verb, m.to, m.from, Summary(m.m))
	case uTimer:
		d = fmt.Sprintf("timer n%d %s", a.node, a.timer)
	case uCrash:
		d = fmt.Sprintf("crash n%d", a.node)
	case uRestart:
		d = fmt.Sprintf("restart n%d", a.node)
	case uRequest:
		d = fmt.Sprintf("request c%d -> n%d", a.client, a.node)
	}
	if len(a.choices) > 0 {
		d += fmt.Sprintf(" choices %v", a.choices)
	}
	return d
}

// view is the node.World of a state, for properties.
func (u *Untimed) view(s *UState) node.World { return uview{u, s} }

type uview struct {
	u *Untimed
	s *UState
}

func (v uview) Config() node.Config           { return v.u.cfg }
func (v uview) Now() time.Duration            { return 0 }
func (v uview) Correct(id node.ID) bool       { return true }
func (v uview) Outputs() []node.Output        { return v.s.outputs }
func (v uview) NewOutputs() []node.Output     { return v.s.fresh }
func (v uview) History() []node.Op            { return v.s.history }
func (v uview) Healed() (bool, time.Duration) { return false, 0 }
func (v uview) Up(id node.ID) bool            { return v.s.nodes[id-1].up }
func (v uview) State(id node.ID) node.Node {
	if sl := v.s.nodes[id-1]; sl.up {
		return sl.state
	}
	return nil
}

// trace records an entry when a tracer is on (replays), and does nothing while exploring.
func trace(tr *tracer, what What, id, peer node.ID, c node.ClientID, data any) {
	if tr != nil {
		tr.add(Entry{Event: tr.step, What: what, Node: id, Peer: peer, Client: c, Data: data})
	}
}

// uenv is the node.Env of a step under untimed semantics.
type uenv struct {
	u       *Untimed
	st      *UState
	s       *slot
	choices []int
	asked   []int
	tr      *tracer
}

func (e *uenv) Self() node.ID    { return e.s.id }
func (e *uenv) Nodes() []node.ID { return e.u.ids }

func (e *uenv) Send(to node.ID, m node.Message) {
	if to < 1 || int(to) > len(e.u.ids) {
		panic(fmt.Sprintf("node %d sent %s to unknown node %d", e.s.id, Summary(m), to))
	}
	m = cloneAny(m)
	trace(e.tr, Send, e.s.id, to, 0, m)
	seq := len(e.st.inFlight) + 1 // after every message already in flight; seal renumbers
	e.st.inFlight = append(e.st.inFlight, umsg{from: e.s.id, to: to, seq: seq, m: m, h: HashOf(m)})
}

func (e *uenv) Broadcast(m node.Message) {
	for _, to := range e.u.ids {
		if to != e.s.id {
			e.Send(to, m)
		}
	}
}

// Timers have no duration here: an armed timer may fire at any point.
func (e *uenv) SetTimer(name string, min, max time.Duration) {
	if _, armed := e.s.timers[name]; !armed {
		e.s.own()
		e.s.timers[name] = 1
	}
}

func (e *uenv) CancelTimer(name string) {
	if _, armed := e.s.timers[name]; armed {
		e.s.own()
		delete(e.s.timers, name)
	}
}
func (e *uenv) Store(key string, v any)            { e.s.store(key, v) }
func (e *uenv) Load(key string) (any, bool)        { return e.s.load(key) }
func (e *uenv) Sync()                              { e.s.sync() }
func (e *uenv) Reply(req node.Request, result any) { trace(e.tr, Reply, e.s.id, 0, req.Client, result) }

// Output adds v to the state's set of outputs; an output seen before adds nothing, so that
// states do not grow with repetitions.
func (e *uenv) Output(v any) {
	v = cloneAny(v)
	trace(e.tr, Output, e.s.id, 0, 0, v)
	path, value := node.SplitOutput(v) // a component's output, with its path
	o := node.Output{Node: e.s.id, Path: path, Value: value}
	h := outputHash(o)
	i := sort.Search(len(e.st.outputs), func(i int) bool { return outputLess(o, h, e.st.outputs[i]) })
	if i > 0 && e.st.outputs[i-1].Node == o.Node && outputHash(e.st.outputs[i-1]) == h {
		return
	}
	e.st.outputs = slices.Insert(slices.Clip(e.st.outputs), i, o)
	e.st.fresh = append(e.st.fresh, o)
}

func outputLess(o node.Output, h uint64, x node.Output) bool {
	if o.Node != x.Node {
		return o.Node < x.Node
	}
	return h < outputHash(x)
}

// Choose takes the step's next recorded choice, zero beyond them, and notes the arity so
// that the explorer branches on the alternatives.
func (e *uenv) Choose(n int) int {
	i := len(e.asked)
	e.asked = append(e.asked, max(n, 1))
	if i < len(e.choices) && e.choices[i] < n {
		return e.choices[i]
	}
	return 0
}
