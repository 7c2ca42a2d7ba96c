package node

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Stack is the Node of a protocol built by Compose: its components, one per Part, and the
// queue of local events (requests and indications) raised during the step under way. The
// driver sees one node; the stack routes each input to the component it is for and then
// handles the local events until none is left.
//
// Between steps the queue is empty, so a stack's state is its components' states and nothing
// else: the explorer fingerprints and copies it like any node state.
type Stack struct {
	Parts []StackPart
	queue []local
}

// StackPart is one component of a running stack: its path in the tree ("" for the root),
// the name of the sub-component its messages travel over (Part.Over), and its state.
type StackPart struct {
	Path string
	Over string
	C    Node
}

// name is a part's name under its parent: the last element of its path.
func (p *StackPart) name() string { return p.Path[strings.LastIndexByte(p.Path, '/')+1:] }

// parentPath is the path of the part's parent ("" for a child of the root).
func parentPath(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return ""
}

// parent is the index of part i's parent, -1 for the root.
func (s *Stack) parent(i int) int {
	if i == 0 {
		return -1
	}
	return s.find(parentPath(s.Parts[i].Path))
}

// over is the index of the transport part i's messages travel over, -1 for none.
func (s *Stack) over(i int) int {
	p := &s.Parts[i]
	if p.Over == "" {
		return -1
	}
	return s.find(childPath(p.Path, p.Over))
}

func childPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

// local is a request or an indication waiting to be handled.
type local struct {
	to   int  // the part that handles it
	down bool // a request from the parent (otherwise an indication from a child)
	from string
	v    any
}

// maxLocalEvents bounds the local events of one step: components that request and indicate
// each other in a circle would otherwise never let the step end.
const maxLocalEvents = 1 << 16

// Component returns the component at path (the root is ""), or nil.
func (s *Stack) Component(path string) Node {
	if i := s.find(path); i >= 0 {
		return s.Parts[i].C
	}
	return nil
}

func (s *Stack) find(path string) int {
	for i := range s.Parts {
		if s.Parts[i].Path == path {
			return i
		}
	}
	return -1
}

// Size is the sum of the sizes of the components that report one (see Sizer).
func (s *Stack) Size() int {
	size := 0
	for _, p := range s.Parts {
		if sz, ok := p.C.(Sizer); ok {
			size += sz.Size()
		}
	}
	return size
}

// Start starts every component, sub-components before the components above them, so that
// what a component asks of its children while it starts finds them started; the requests
// and indications raised wait until every component has started.
func (s *Stack) Start(env Env) {
	if s.single() {
		s.Parts[0].C.Start(env)
		return
	}
	r := s.begin(env)
	for i := len(s.Parts) - 1; i >= 0; i-- {
		s.Parts[i].C.Start(r.env(i))
	}
	r.drain()
}

// Receive hands a message to the component it is for: the one its Envelope names, or the
// root for a bare message. A message for a path the stack does not have is dropped: no
// component of this stack sent it.
func (s *Stack) Receive(env Env, from ID, m Message) {
	if s.single() {
		s.Parts[0].C.Receive(env, from, m)
		return
	}
	i, inner := 0, m
	if e, ok := m.(Envelope); ok {
		if i = s.find(e.Path); i <= 0 {
			return // the root's messages travel bare; an Envelope never names it
		}
		inner = e.Msg
	}
	r := s.begin(env)
	s.Parts[i].C.Receive(r.env(i), from, inner)
	r.drain()
}

// Timer hands a timer to the component that set it.
func (s *Stack) Timer(env Env, name string) {
	if s.single() {
		s.Parts[0].C.Timer(env, name)
		return
	}
	path, inner := splitKey(name)
	i := s.find(path)
	if i < 0 {
		return
	}
	r := s.begin(env)
	s.Parts[i].C.Timer(r.env(i), inner)
	r.drain()
}

// Request hands a client's request to the root.
func (s *Stack) Request(env Env, req Request) {
	if s.single() {
		s.Parts[0].C.Request(env, req)
		return
	}
	r := s.begin(env)
	s.Parts[0].C.Request(r.env(0), req)
	r.drain()
}

// single reports whether the stack is one component, the root, which then runs on the
// driver's Env itself: a protocol of one component costs nothing for being a stack. (It has
// no parent to indicate to and no sub-component to ask, and its namespaces are the node's.)
func (s *Stack) single() bool { return len(s.Parts) == 1 }

// runner is one step of a stack: the driver's Env and the components' Envs, made as they
// are needed. It is not part of the stack's state.
type runner struct {
	s     *Stack
	outer Env
	made  uint8      // made&(1<<i): small[i] is set up
	small [8]compEnv // the Envs of the first eight components
	extra []*compEnv // the others'
}

// runners are reused from step to step: a step's Envs are valid only during the step (see
// Env), so nothing keeps one after it.
var runners = sync.Pool{New: func() any { return new(runner) }}

func (s *Stack) begin(env Env) *runner {
	r := runners.Get().(*runner)
	r.s, r.outer, r.made = s, env, 0
	return r
}

// end returns the runner to the pool, dropping what it refers to.
func (r *runner) end() {
	r.s, r.outer, r.extra = nil, nil, r.extra[:0]
	for i := range r.small {
		r.small[i] = compEnv{}
	}
	runners.Put(r)
}

func (r *runner) env(i int) *compEnv {
	var e *compEnv
	if i < len(r.small) {
		e = &r.small[i]
		if r.made&(1<<i) != 0 {
			return e
		}
		r.made |= 1 << i
	} else {
		for len(r.extra) <= i-len(r.small) {
			r.extra = append(r.extra, nil)
		}
		if e = r.extra[i-len(r.small)]; e != nil {
			return e
		}
		e = new(compEnv)
		r.extra[i-len(r.small)] = e
	}
	s := r.s
	*e = compEnv{r: r, p: &s.Parts[i], parent: s.parent(i), over: s.over(i), name: s.Parts[i].name()}
	return e
}

func (r *runner) enqueue(e local) { r.s.queue = append(r.s.queue, e) }

// drain handles the local events in the order they were raised, including those raised
// while handling them, until none is left.
func (r *runner) drain() {
	s := r.s
	for n := 0; n < len(s.queue); n++ {
		if n >= maxLocalEvents {
			s.queue = s.queue[:0]
			panic(fmt.Sprintf("node.Stack: more than %d requests and indications in one step (components asking each other in a circle?)", maxLocalEvents))
		}
		e := s.queue[n]
		s.queue[n] = local{} // let the value go
		r.handle(e)
	}
	s.queue = s.queue[:0]
	r.end()
}

func (r *runner) handle(e local) {
	p := &r.s.Parts[e.to]
	env := r.env(e.to)
	if e.down {
		p.C.Request(env, Request{Op: e.v})
		return
	}
	if d, ok := e.v.(LinkDeliver); ok && p.Over != "" && p.Over == e.from {
		p.C.Receive(env, d.From, d.Msg) // what its transport delivers is a message to it
		return
	}
	parent, ok := p.C.(Parent)
	if !ok {
		panic(fmt.Sprintf("node.Stack: the component at %q (%T) got an indication from its sub-component %q but has no Indication method", p.Path, p.C, e.from))
	}
	parent.Indication(env, e.from, e.v)
}

// compEnv is the Env of one component during a step: the driver's, within the component's
// namespaces, with requests and indications queued on the stack.
type compEnv struct {
	r      *runner
	p      *StackPart
	parent int    // index of the parent part, -1 for the root
	over   int    // index of the transport, -1 for none
	name   string // the part's name under its parent
}

func (e *compEnv) Self() ID         { return e.r.outer.Self() }
func (e *compEnv) Nodes() []ID      { return e.r.outer.Nodes() }
func (e *compEnv) Choose(n int) int { return e.r.outer.Choose(n) }
func (e *compEnv) Sync()            { e.r.outer.Sync() }

func (e *compEnv) Send(to ID, m Message) {
	refuseNil(m)
	if e.over >= 0 {
		e.r.enqueue(local{to: e.over, down: true, v: LinkSend{To: to, Msg: m}})
		return
	}
	e.r.outer.Send(to, e.wrap(m))
}

func (e *compEnv) Broadcast(m Message) {
	refuseNil(m)
	if e.over < 0 {
		e.r.outer.Broadcast(e.wrap(m))
		return
	}
	self := e.Self()
	for _, to := range e.Nodes() {
		if to != self {
			e.Send(to, m)
		}
	}
}

// wrap puts a message in the component's Envelope; the root's messages travel bare.
func (e *compEnv) wrap(m Message) Message {
	if e.p.Path == "" {
		return m
	}
	return Envelope{Path: e.p.Path, Msg: m}
}

func (e *compEnv) SetTimer(name string, min, max time.Duration) {
	e.r.outer.SetTimer(joinKey(e.p.Path, name), min, max)
}
func (e *compEnv) CancelTimer(name string)     { e.r.outer.CancelTimer(joinKey(e.p.Path, name)) }
func (e *compEnv) Store(key string, v any)     { e.r.outer.Store(joinKey(e.p.Path, key), v) }
func (e *compEnv) Load(key string) (any, bool) { return e.r.outer.Load(joinKey(e.p.Path, key)) }

func (e *compEnv) Output(v any) {
	if e.p.Path == "" {
		e.r.outer.Output(v)
		return
	}
	e.r.outer.Output(AtPath{Path: e.p.Path, Value: v})
}

// Reply answers a client's request, or the parent's: the parent gets an Answer.
func (e *compEnv) Reply(req Request, result any) {
	if req.Client != 0 || e.parent < 0 {
		e.r.outer.Reply(req, result)
		return
	}
	e.indicate(Answer{Op: req.Op, Result: result})
}

func (e *compEnv) indicate(ind any) {
	if e.parent >= 0 {
		e.r.enqueue(local{to: e.parent, from: e.name, v: ind})
	}
}

func (e *compEnv) ask(child string, r any) {
	i := e.r.s.find(childPath(e.p.Path, child))
	if i < 0 {
		panic(fmt.Sprintf("node: the component at %q asked its sub-component %q, which the stack does not have", e.p.Path, child))
	}
	e.r.enqueue(local{to: i, down: true, v: r})
}

// Timer names and storage keys of a component are its own: "[path]name" for a
// sub-component. The root's are unchanged, except that a root name which itself begins with
// "[" is written "[]name", so that the two kinds can never be confused.

func joinKey(path, name string) string {
	if path == "" && !strings.HasPrefix(name, "[") {
		return name
	}
	return "[" + path + "]" + name
}

func splitKey(key string) (path, name string) {
	if !strings.HasPrefix(key, "[") {
		return "", key
	}
	if i := strings.IndexByte(key, ']'); i > 0 {
		return key[1:i], key[i+1:]
	}
	return "", key
}

// refuseNil fails the step of a component that sends a nil message, as the world does for a
// node's own (it would travel wrapped, and arrive as nil).
func refuseNil(m Message) {
	if m == nil {
		panic("a component sent a nil message: a message must be a value of the protocol's own type")
	}
}
