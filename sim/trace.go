package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// What is the kind of a trace entry.
type What uint8

const (
	Boot What = iota
	Deliver
	Send
	Timer
	Request
	Reply
	Output
	Answer  // a client reads a reply
	Lost    // a message or request reached a node that is down
	Dropped // the network lost a message
	Dup     // the network duplicated a message
	Blocked // a partition stopped a message
	Crash
	Restart
	Pause
	Resume
	Partition
	Heal
	Skew
	GiveUp   // a client stopped waiting and retries, or abandons the operation
	Invoke   // a client invokes an operation
	Phase    // the run changes phase (faults heal, liveness is demanded)
	Mutation // a Byzantine node's message was changed
	numWhats
)

var whatNames = [numWhats]string{
	"boot", "deliver", "send", "timer", "request", "reply", "output", "answer", "lost",
	"drop", "dup", "blocked", "crash", "restart", "pause", "resume", "partition", "heal",
	"skew", "timeout", "invoke", "phase", "mutate",
}

func (w What) String() string { return whatNames[w] }

// Whats lists every kind of trace entry, in order.
func Whats() []What {
	out := make([]What, numWhats)
	for i := range out {
		out[i] = What(i)
	}
	return out
}

// IsFault tells the entries that are injected faults, for marking them in timelines.
func (w What) IsFault() bool {
	switch w {
	case Dropped, Dup, Blocked, Crash, Restart, Pause, Resume, Partition, Heal, Skew, Mutation:
		return true
	}
	return false
}

// Entry is one line of a run's trace: what happened, at which event and virtual time, at
// which node, with which peer or client, and the message or value involved.
//
// Events are numbered without gaps: 0 is the start of the run (the nodes' boots), then 1, 2,
// ... for each step that left entries, and a violation cites the number of the event after
// which it was found. (The world also takes steps that leave no trace, a fault draw that
// drew no fault or a reply that came too late, say: they count against the run's event
// budget but get no number, so that the numbers a timeline shows are the ones reports cite.)
type Entry struct {
	Event  int           // the event it belongs to
	Time   time.Duration // virtual time
	What   What
	Node   node.ID       // the node it happened at (0: none)
	Peer   node.ID       // the other node: sender of a delivery, receiver of a send
	Client node.ClientID // the client involved, if any
	// Msg identifies a message between nodes: its send, its drop or duplication, and every
	// delivery, block or loss of it carry the same number, counted from 1 in the order of
	// sending. Zero for entries about no such message. It is derived from the run, so it is
	// not part of the trace hash.
	Msg  int
	Data any // the message, timer name, output or description
}

// String formats the entry as one timeline line.
func (e Entry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6d %12s  ", e.Event, fmtTime(e.Time))
	mark := " "
	if e.What.IsFault() {
		mark = "!"
	}
	b.WriteString(mark)
	fmt.Fprintf(&b, " %-9s", e.What)
	switch {
	case e.What == Send:
		fmt.Fprintf(&b, " n%d -> n%d", e.Node, e.Peer)
	case e.What == Deliver || e.What == Dropped || e.What == Dup || e.What == Blocked || (e.What == Lost && e.Peer != 0):
		fmt.Fprintf(&b, " n%d <- n%d", e.Node, e.Peer)
	case e.Client != 0 && e.Node != 0:
		fmt.Fprintf(&b, " n%d  c%d", e.Node, e.Client)
	case e.Client != 0:
		fmt.Fprintf(&b, " c%d", e.Client)
	case e.Node != 0:
		fmt.Fprintf(&b, " n%d", e.Node)
	}
	if e.Data != nil {
		b.WriteString("  ")
		b.WriteString(Summary(e.Data))
	}
	return b.String()
}

// Summary formats a message or value for a timeline: its String method if it has one, else
// its type name and fields.
func Summary(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	case node.Envelope:
		return x.Path + ":" + Summary(x.Msg)
	}
	s := fmt.Sprintf("%+v", v)
	t := fmt.Sprintf("%T", v)
	if i := strings.LastIndex(t, "."); i >= 0 {
		t = t[i+1:]
	}
	if strings.HasPrefix(s, "{") {
		return t + s
	}
	return t + "(" + s + ")"
}

func fmtTime(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

// TraceMode says how much of a trace a run keeps. Every run computes its trace hash; only
// replays and timelines need the entries themselves.
type TraceMode int

const (
	TraceHash TraceMode = iota // the hash only, and the last entries for violation reports
	TraceFull                  // every entry
)

// tracer folds entries into the trace hash, numbers events, and keeps the entries a report
// needs.
type tracer struct {
	hash    Hasher
	mode    TraceMode
	full    []Entry
	ring    []Entry // the last len(ring) entries, for the context of a violation
	ringPos int
	count   int
	step    int // the step entries belong to, for drivers without a World (untimed replays)

	// Event numbering (see Entry): event is the number of the latest entry's event, raw the
	// step index its driver gave it, open whether that step is still going on. A step ends
	// when the driver says so (endStep) or when entries come with another step index.
	event int
	raw   int
	open  bool

	msgs    int                  // messages numbered so far (see Entry.Msg)
	unnamed map[msgKey]*inFlight // messages sent without a number (untimed replays), by link and content
	lives   [][]life             // lives[id]: node id's crashes, restarts, pauses and resumes
	touched []node.ID            // the nodes the current step's entries name, when touching
	// touching says whether anyone reads touched: an observer of a timed run. Without one,
	// keeping the list was a sixth of what an entry cost besides its hash.
	touching bool
}

// newTracer returns a tracer that keeps the last len(ring) entries in ring.
func newTracer(mode TraceMode, ring []Entry) tracer {
	return tracer{hash: NewHasher(), mode: mode, ring: ring, event: -1}
}

// addAt adds the entry at e, which it may change (its event number): the step core builds
// each entry in place and hands it over without a copy.
func (t *tracer) addAt(e *Entry) {
	t.hash.Uint64(uint64(e.Event)) // the driver's own step index: trace hashes stay as they were
	t.hash.Uint64(uint64(e.Time))
	t.hash.Uint64(uint64(e.What)<<48 | uint64(e.Node)<<32 | uint64(e.Peer)<<16 | uint64(e.Client))
	t.hash.Value(e.Data)
	t.count++
	if !t.open || e.Event != t.raw {
		t.event++
		t.open, t.raw = true, e.Event
	}
	e.Event = t.event
	t.note(e.Node, e.What, e.Time)
	if t.mode == TraceFull {
		if e.Msg == 0 {
			t.name(e)
		}
		t.full = append(t.full, *e)
	}
	if len(t.ring) > 0 {
		t.ring[t.ringPos] = *e
		if t.ringPos++; t.ringPos == len(t.ring) { // no division for every entry
			t.ringPos = 0
		}
	}
}

// endStep ends the current step: the next entry belongs to the next event. It returns the
// nodes the step's entries named, and whether it left any entry at all. A caller that keeps
// touched says so (keep): otherwise the tracer reuses its memory for the next step's.
func (t *tracer) endStep(keep bool) (touched []node.ID, traced bool) {
	traced = t.open
	touched = t.touched
	if keep {
		t.touched = nil
	} else {
		t.touched = t.touched[:0]
	}
	t.open = false
	return touched, traced
}

// lastEvent is the number of the latest event that left entries: the one a violation found
// now cites.
func (t *tracer) lastEvent() int { return max(t.event, 0) }

// nextEvent is the number the entries of the driver's step raw will carry: the current
// event's, if that step has traced already, else the next one.
func (t *tracer) nextEvent(raw int) int {
	if t.open && t.raw == raw {
		return t.event
	}
	return t.event + 1
}

// newMsg numbers a message as it is sent.
func (t *tracer) newMsg() int {
	t.msgs++
	return t.msgs
}

// note keeps what the tracer tells about the run besides its entries: which nodes the
// current step touched, and each node's crashes and restarts (for Between).
func (t *tracer) note(id node.ID, what What, at time.Duration) {
	if id == 0 {
		return
	}
	if t.touching && !slices.Contains(t.touched, id) {
		t.touched = append(t.touched, id)
	}
	switch what {
	case Crash, Restart, Pause, Resume:
		for len(t.lives) <= int(id) {
			t.lives = append(t.lives, nil)
		}
		t.lives[id] = append(t.lives[id], life{at, what})
	}
}

// life is one change in whether a node runs.
type life struct {
	at   time.Duration
	what What
}

// msgKey names a message by its link and content.
type msgKey struct {
	from, to node.ID
	h        uint64
}

// inFlight holds the numbers of the copies of one message on one link that were sent and
// not yet delivered, oldest first, and the last one delivered.
type inFlight struct {
	sent []int
	last int
}

// name gives a number to an entry about a message that came without one. The untimed world's
// messages have no identity: two messages with the same content on the same link are one and
// the same to it, and it delivers the oldest first, so matching by link and content, oldest
// first, is exact. A delivery with no copy left in flight is a duplicating network's second
// delivery of the last one.
func (t *tracer) name(e *Entry) {
	if e.Peer == 0 || e.Node == 0 {
		return
	}
	switch e.What {
	case Send:
		k := msgKey{e.Node, e.Peer, HashOf(e.Data)}
		if t.unnamed == nil {
			t.unnamed = map[msgKey]*inFlight{}
		}
		f := t.unnamed[k]
		if f == nil {
			f = &inFlight{}
			t.unnamed[k] = f
		}
		e.Msg = t.newMsg()
		f.sent = append(f.sent, e.Msg)
	case Deliver, Dropped, Lost, Blocked:
		f := t.unnamed[msgKey{e.Peer, e.Node, HashOf(e.Data)}]
		switch {
		case f == nil:
		case len(f.sent) > 0:
			e.Msg, f.sent = f.sent[0], f.sent[1:]
			f.last = e.Msg
		default:
			e.Msg = f.last
		}
	}
}

// last returns the last entries kept in the ring, oldest first.
func (t *tracer) last() []Entry {
	n := min(t.count, len(t.ring))
	out := make([]Entry, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, t.ring[(t.ringPos-n+i+len(t.ring))%len(t.ring)])
	}
	return out
}
