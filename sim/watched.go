package sim

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica-io/replica/internal/machine"
	"github.com/replica-io/replica/protocols/node"
)

// The run watchdog. A step that loops without effects (a for loop that never ends, inside
// Receive) cannot be stopped from inside the run: the step budget counts effects, and Go
// cannot stop a goroutine. Watched runs the run on a goroutine of its own and waits at most
// its limit of wall time; a run still under way then is abandoned (it keeps its core busy
// until the process exits) and described by a Stuck: which event the run was in (its
// number, virtual time, node and what it delivered), and where its goroutine was, the
// protocol's own frames first. Every driver that runs protocol code in the timed world
// (campaigns, replay, simtest) watches its runs through Watched, so that they all say the
// same about the same run.
//
// While watched, the world publishes the event it is about to dispatch in a beacon, in a few
// atomic words; unwatched, it costs the loop a nil test per event. The watchdog reads the
// beacon a few times per limit, so that it can tell a run stuck in one event (the same
// event at every look for a while) from one that is only long (still moving at the end).

// PropHang names the failure of a run that did not finish within its wall-time limit.
const PropHang = "no-hang"

// Stuck describes a run that did not finish within its limit of wall time.
type Stuck struct {
	// Limit is the wall time the run was given.
	Limit time.Duration
	// Event and Time are the number of the event the run was in (as its trace entries number
	// them) and its virtual time.
	Event int
	Time  time.Duration
	// What the event was: "start" (a node's boot at the start of the run), "deliver",
	// "timer", "request", "restart", or one of the world's own: "reply" (a client reads a
	// reply), "client" (a client's next operation, timeout or retry), "fault", "resume",
	// "heal", "liveness"; "" when the run had not yet reached its first event.
	What string
	// Node is the node the event happened at (0: none); From the sender of a delivered
	// message, or the client of a request.
	Node node.ID
	From int
	// Detail is the delivered message's type, the timer's name, or the request's operation's
	// type.
	Detail string
	// For is how long the run had been in that event when the limit passed, at least: zero
	// when it was still moving from event to event (Moving), a run too long for its limit
	// rather than a step that loops.
	For    time.Duration
	Moving bool
	// In says where in the event the goroutine was: "step" (the node's own code, a step),
	// "check" (the properties and monitors judged after the step), or "" (elsewhere, the
	// world's or a workload's code).
	In string
	// Frames is the stuck goroutine's stack, innermost first, without the runtime's frames;
	// Protocol is how many of the first frames are outside this package: the protocol's code
	// (or a property's, a monitor's) where it loops. Frames is empty when the stack could not
	// be found.
	Frames   []Frame
	Protocol int
	// Memory is the process's resident memory, in bytes, when the watchdog found the run
	// in one event while the process was past its memory budget (Budget, WatchMemory): a
	// step that allocates without end, caught before the kernel would kill the process and
	// before Limit; 0 for a run that overstayed Limit.
	Memory, Budget int64
}

// Frame is a frame of a stuck goroutine's stack.
type Frame struct {
	Func string // the function, with its package path
	File string // the source file, whole path
	Line int
}

func (f Frame) String() string { return fmt.Sprintf("%s %s:%d", f.Func, filepath.Base(f.File), f.Line) }

// Top is the innermost frame of the protocol's own code: the first of the Protocol frames
// outside the standard library (a protocol loops in its code, which may call the standard
// library's), or the first frame when there is none; ok is false when there is no stack.
func (s *Stuck) Top() (f Frame, ok bool) {
	if i := s.own(0); i >= 0 {
		return s.Frames[i], true
	}
	if len(s.Frames) == 0 {
		return Frame{}, false
	}
	return s.Frames[0], true
}

// own is the index of the first of the Protocol frames from i on that is outside the
// standard library, or -1.
func (s *Stuck) own(i int) int {
	for ; i < s.Protocol && i < len(s.Frames); i++ {
		if !stdlib(s.Frames[i].Func) {
			return i
		}
	}
	return -1
}

// stdlib reports whether function name is the standard library's: its import path's first
// element has no dot (and it is not package main's).
func stdlib(name string) bool {
	first, _, nested := strings.Cut(name, "/")
	if !nested {
		first, _, _ = strings.Cut(name, ".")
		return first != "main"
	}
	return !strings.Contains(first, ".")
}

// EventString describes the event the run was in, as "event 37 at 125ms, n2: deliver
// counter.Report from n1".
func (s *Stuck) EventString() string {
	if s.What == "" {
		return "before its first event"
	}
	var what string
	switch s.What {
	case "deliver":
		what = fmt.Sprintf("deliver %s from n%d", s.Detail, s.From)
	case "timer":
		what = fmt.Sprintf("timer %q", s.Detail)
	case "request":
		what = fmt.Sprintf("request %s from client c%d", s.Detail, s.From)
	default:
		what = s.What
	}
	if s.Node != 0 {
		what = fmt.Sprintf("n%d: %s", s.Node, what)
	}
	return fmt.Sprintf("event %d at %s, %s", s.Event, fmtTime(s.Time), what)
}

// Message says what happened in a sentence: which step of which node did not return, and
// where it loops.
func (s *Stuck) Message() string {
	var b strings.Builder
	switch {
	case s.Moving:
		fmt.Fprintf(&b, "the run did not finish within %v of wall time, and was still moving from event to event (at %s): "+
			"a run too long for its limit, or one that never ends", s.Limit, s.EventString())
	case s.Memory > 0 && s.In == "step" && s.Node != 0:
		fmt.Fprintf(&b, "n%d's step took memory without end, in %s: the process held %s, past its budget of %s, while the step ran",
			s.Node, s.EventString(), fmtBytes(s.Memory), fmtBytes(s.Budget))
	case s.Memory > 0:
		fmt.Fprintf(&b, "the run took memory without end, in %s: the process held %s, past its budget of %s",
			s.EventString(), fmtBytes(s.Memory), fmtBytes(s.Budget))
	case s.In == "step" && s.Node != 0:
		fmt.Fprintf(&b, "n%d's step did not return within %v of wall time, in %s", s.Node, s.Limit, s.EventString())
	case s.In == "check":
		fmt.Fprintf(&b, "the checks after %s did not return within %v of wall time", s.EventString(), s.Limit)
	default:
		fmt.Fprintf(&b, "the run did not finish within %v of wall time; it was in %s", s.Limit, s.EventString())
	}
	if s.Moving {
		return b.String()
	}
	if top, ok := s.Top(); ok {
		fmt.Fprintf(&b, ": it loops in %s (%s:%d)", top.Func, filepath.Base(top.File), top.Line)
		if i := s.own(0); i >= 0 {
			if j := s.own(i + 1); j >= 0 {
				fmt.Fprintf(&b, ", called from %s", s.Frames[j].Func)
			}
		}
	} else {
		b.WriteString(": a step loops without end")
	}
	return b.String()
}

func (s *Stuck) Error() string { return PropHang + ": " + s.Message() }

// Stack is the stuck goroutine's frames, one a line, for a report's details.
func (s *Stuck) Stack() []string {
	if len(s.Frames) == 0 {
		return []string{"(the stuck goroutine's stack was not found)"}
	}
	out := []string{fmt.Sprintf("the stuck goroutine (in that event for at least %v):", s.For.Round(time.Millisecond))}
	for i, f := range s.Frames {
		mark := "  "
		if i < s.Protocol {
			mark = "> " // the protocol's own frames
		}
		out = append(out, mark+f.String())
	}
	return out
}

// Violation is the stuck run as a violation of PropHang, its stack in the details.
func (s *Stuck) Violation() *Violation {
	return &Violation{Property: PropHang, Message: s.Message(), Time: s.Time, Event: s.Event, Details: s.Stack()}
}

// Watched runs cfg as Run does, on a goroutine of its own, and waits at most limit of wall
// time for it (no limit: limit <= 0). A run that takes longer is abandoned, and described by
// the Stuck returned (the Result is then empty): its goroutine cannot be stopped, and keeps
// running until the process exits. A panic that escapes the run (a chooser's: Run recovers
// the protocol's) is raised again on the caller's goroutine.
func Watched(cfg Config, c Chooser, limit time.Duration) (Result, *Stuck) {
	if limit <= 0 {
		return Run(cfg, c), nil
	}
	r := &watchedRun{cfg: cfg, c: c, pooled: true}
	stuck := r.watch(limit)
	return r.r, stuck
}

// SimulateWatched is Simulate under the watchdog of Watched: the world is nil when the run
// did not finish.
func SimulateWatched(cfg Config, c Chooser, limit time.Duration) (*World, Result, *Stuck) {
	if limit <= 0 {
		w, r := Simulate(cfg, c)
		return w, r, nil
	}
	r := &watchedRun{cfg: cfg, c: c}
	if stuck := r.watch(limit); stuck != nil {
		return nil, Result{}, stuck
	}
	return r.w, r.r, nil
}

// watchedRun is a run under the watchdog, all it needs in one allocation: what it runs, its
// beacon, and what it leaves, which its goroutine writes before it says it is done.
type watchedRun struct {
	cfg    Config
	c      Chooser
	pooled bool // Run's world (its memory given back), not Simulate's (kept: w)
	b      beacon
	done   chan struct{}
	w      *World
	r      Result
	panic  any
	failed bool // it panicked (panic may be nil)
}

func (r *watchedRun) run() {
	defer func() {
		if p := recover(); p != nil {
			r.panic, r.failed = p, true
		}
		r.done <- struct{}{}
	}()
	w := newWorld(r.cfg, r.c, r.pooled)
	w.beacon = &r.b
	w.runGuarded()
	r.r = w.result()
	if r.pooled {
		w.release()
	} else {
		r.w = w
	}
}

// beacon is where a watched world says which event it is in: the event's number, node, peer
// and kind packed in one word (zero before the first), its virtual time in another, and what
// it delivers (a message's type, a timer's name) in two more, written only when they change.
type beacon struct {
	at     atomic.Uint64 // event<<32 | node<<20 | from<<8 | kind+1
	now    atomic.Int64
	typ    atomic.Value // reflect.Type
	timer  atomic.Pointer[string]
	lastN  string             // the run goroutine's own: the timer name last published
	timers map[string]*string // the timer names published, each once
}

// Kinds of the beacon beside the queue's: a boot at the start of the run.
const evBoot evKind = 255

// publish says that the world is in event e, which its trace numbers events.
func (b *beacon) publish(events int, e *event) {
	from := uint64(e.from)
	switch e.kind {
	case evDeliver, evRequest:
		m := e.msg
		if e.kind == evRequest {
			from = e.inc // the client
		} else if env, ok := m.(node.Envelope); ok {
			m = env.Msg
		}
		t := reflect.TypeOf(m)
		if t == nil {
			t = noMessageType
		}
		b.typ.Store(t) // always a *reflect.rtype, which is all an atomic.Value asks
	case evTimer:
		if e.name != b.lastN {
			b.lastN = e.name
			b.timer.Store(b.name(e.name))
		}
	}
	b.now.Store(int64(e.at))
	b.at.Store(uint64(min(events, 1<<32-1))<<32 | uint64(e.node&0xfff)<<20 | (from&0xfff)<<8 | uint64(e.kind) + 1)
}

func (b *beacon) name(s string) *string {
	if b.timers == nil {
		b.timers = map[string]*string{}
	}
	p, ok := b.timers[s]
	if !ok {
		p = &s
		b.timers[s] = p
	}
	return p
}

// snapshot is what the beacon said at one look.
type snapshot struct {
	at  uint64
	now int64
}

func (b *beacon) look() snapshot { return snapshot{b.at.Load(), b.now.Load()} }

// stuck describes the event of snapshot s.
func (b *beacon) stuck(s snapshot) *Stuck {
	st := &Stuck{Time: time.Duration(s.now)}
	if s.at == 0 {
		return st
	}
	kind := evKind(s.at&0xff - 1)
	st.Event = int(s.at >> 32)
	st.Node = node.ID(s.at >> 20 & 0xfff)
	st.From = int(s.at >> 8 & 0xfff)
	st.What = eventKinds[kind]
	switch kind {
	case evDeliver, evRequest:
		if t, ok := b.typ.Load().(reflect.Type); ok {
			st.Detail = messageKind(t)
		}
	case evTimer:
		if p := b.timer.Load(); p != nil {
			st.Detail = *p
		}
	}
	if kind != evDeliver && kind != evRequest {
		st.From = 0
	}
	return st
}

var eventKinds = map[evKind]string{
	evDeliver: "deliver", evTimer: "timer", evRequest: "request", evReply: "reply",
	evClientNext: "client", evClientTimeout: "client", evClientRetry: "client", evFaultTick: "fault",
	evRestart: "restart", evResume: "resume", evHealPartition: "heal", evLiveness: "liveness", evBoot: "start",
}

// noMessage stands for the type of a nil message or operation in the beacon.
type noMessage struct{}

var noMessageType = reflect.TypeOf(noMessage{})

// messageKind is a type as a message kind: its package's name and its own, "counter.Report".
func messageKind(t reflect.Type) string {
	if t == nil || t == noMessageType {
		return "nil"
	}
	return t.String()
}

// watch runs r on a goroutine of its own and waits for it at most limit (see Watched).
func (r *watchedRun) watch(limit time.Duration) *Stuck {
	r.done = make(chan struct{}, 1)
	rn := takeRunner()
	rn.jobs <- r
	start := time.Now()
	every := max(limit/8, time.Millisecond)
	budget := memoryBudget()
	if budget > 0 {
		every = min(every, 250*time.Millisecond) // memory can grow by a gigabyte a second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	b := &r.b
	seen, since := b.look(), start
	extended := false
	for {
		select {
		case <-r.done:
			return r.finished()
		case now := <-tick.C:
			s := b.look()
			if s != seen {
				seen, since = s, now
			}
			var rss int64
			if budget > 0 && since != now { // in one event since the last look
				if rss, _ = machine.Resident(); rss <= budget {
					rss = 0
				}
			}
			if now.Sub(start) < limit && rss == 0 {
				continue
			}
			if since == now && !extended && rss == 0 {
				// It moved since the last look: one more look tells a step that has just
				// begun to loop from a run that is only long.
				extended = true
				continue
			}
			select { // it may have finished just now
			case <-r.done:
				return r.finished()
			default:
			}
			st := b.stuck(s)
			st.Limit = limit
			if rss > 0 {
				st.Memory, st.Budget = rss, budget
			}
			if since == now {
				st.Moving = true
			} else {
				st.For = now.Sub(since)
			}
			st.Frames, st.Protocol, st.In = stuckStack(rn.id)
			return st
		}
	}
}

// finished raises again on the caller's goroutine a panic that escaped the run.
func (r *watchedRun) finished() *Stuck {
	if r.failed {
		panic(r.panic)
	}
	return nil
}

// A runner is a goroutine that runs watched runs one after another. A new goroutine for every
// run would grow its stack from the smallest again each time, which cost a calm Paxos run a
// tenth of its instructions; a runner's stack stays grown. A runner goes back to the idle
// ones after each run, but for one that did not finish, which keeps it. Each knows its
// goroutine's number, by which the watchdog finds its stack.
type runner struct {
	jobs chan *watchedRun
	id   int
}

var idle struct {
	sync.Mutex
	runners []*runner
}

// maxIdle bounds the idle runners kept; one more exits after its run.
const maxIdle = 64

// takeRunner returns an idle runner, or a new one.
func takeRunner() *runner {
	idle.Lock()
	if n := len(idle.runners); n > 0 {
		rn := idle.runners[n-1]
		idle.runners = idle.runners[:n-1]
		idle.Unlock()
		return rn
	}
	idle.Unlock()
	rn := &runner{jobs: make(chan *watchedRun)}
	started := make(chan struct{})
	go rn.loop(started)
	<-started
	return rn
}

func (rn *runner) loop(started chan<- struct{}) {
	rn.id = goid()
	close(started)
	for r := range rn.jobs {
		r.run()
		idle.Lock()
		if len(idle.runners) >= maxIdle {
			idle.Unlock()
			return
		}
		idle.runners = append(idle.runners, rn)
		idle.Unlock()
	}
}

// stuckStack finds the stack of goroutine id, a runner's, and returns its frames (see
// Stuck.Frames), how many of the first are the protocol's, and where in its event it is
// (see Stuck.In).
func stuckStack(id int) (frames []Frame, protocol int, in string) {
	var all []byte
	for n := 1 << 20; n <= 64<<20; n *= 4 {
		all = make([]byte, n)
		if k := runtime.Stack(all, true); k < n {
			all = all[:k]
			break
		}
	}
	var block []byte
	for _, g := range bytes.Split(all, []byte("\n\n")) {
		if stackID(g) == id {
			block = g
			break
		}
	}
	if block == nil {
		return nil, 0, ""
	}
	frames = parseStack(block)
	protocol = len(frames)
	for i, f := range frames {
		if isSim(f.Func) {
			protocol = i
			break
		}
	}
	if protocol == 0 || protocol == len(frames) {
		return frames, protocol, "" // the simulator's own code, or a stack it does not know
	}
	switch f := frames[protocol].Func; {
	case inStep(f):
		in = "step"
	case strings.Contains(f, "(*World).check"):
		in = "check"
	}
	return frames, protocol, in
}

// inStep reports whether sim function name steps a node (the innermost of this package's
// frames below the protocol's code).
func inStep(name string) bool {
	for _, m := range []string{".(*stepCore).step", ".(*stepCore).receive", ".(*stepCore).fire",
		".(*stepCore).request", ".(*stepCore).boot", ".(*World).stepDisk", ".(*stepCore).stepDisk"} {
		if strings.HasPrefix(name, simPackage+m) {
			return true
		}
	}
	return false
}

// isSim reports whether function name is this package's (not its tests').
func isSim(name string) bool { return strings.HasPrefix(name, simPackage+".") }

// goid is the calling goroutine's number.
func goid() int {
	var buf [64]byte
	return stackID(buf[:runtime.Stack(buf[:], false)])
}

// stackID is the number of the goroutine whose stack block g is ("goroutine 7 [running]:").
func stackID(g []byte) int {
	rest, ok := bytes.CutPrefix(g, []byte("goroutine "))
	if !ok {
		return -1
	}
	if i := bytes.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	id, err := strconv.Atoi(string(rest))
	if err != nil {
		return -1
	}
	return id
}

// parseStack reads the frames of a goroutine's stack block, without the runtime's.
func parseStack(block []byte) []Frame {
	lines := strings.Split(string(block), "\n")
	var out []Frame
	for i := 1; i+1 < len(lines); i++ {
		fn, loc := lines[i], lines[i+1]
		if strings.HasPrefix(fn, "created by ") || !strings.HasPrefix(loc, "\t") {
			continue
		}
		i++
		if j := strings.LastIndexByte(fn, '('); j > 0 && strings.HasSuffix(fn, ")") {
			fn = fn[:j]
		}
		if strings.HasPrefix(fn, "runtime.") {
			continue
		}
		loc = strings.TrimPrefix(loc, "\t")
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		f := Frame{Func: fn, File: loc}
		if j := strings.LastIndexByte(loc, ':'); j >= 0 {
			if n, err := strconv.Atoi(loc[j+1:]); err == nil {
				f.File, f.Line = loc[:j], n
			}
		}
		out = append(out, f)
	}
	return out
}

// WatchMemory sets the memory budget of the watchdog of Watched, in bytes, for the whole
// process (memory is the process's, whichever run takes it): a run found in one event at two
// of the watchdog's looks while the process holds more is stuck, at once. The default is
// machine.SafeMemory (a safe share of the machine, read at the first watched run); 0 or less
// turns the check off.
func WatchMemory(bytes int64) {
	watchBudget.once.Do(func() {})
	watchBudget.bytes.Store(max(bytes, 0))
}

var watchBudget struct {
	once  sync.Once
	bytes atomic.Int64
}

func memoryBudget() int64 {
	watchBudget.once.Do(func() { watchBudget.bytes.Store(machine.SafeMemory()) })
	return watchBudget.bytes.Load()
}

// fmtBytes writes a size in MiB or GiB.
func fmtBytes(b int64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
