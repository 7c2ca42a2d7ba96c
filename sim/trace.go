package sim

import (
	"fmt"
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

// IsFault tells the entries that are injected faults, for marking them in timelines.
func (w What) IsFault() bool {
	switch w {
	case Dropped, Dup, Blocked, Crash, Restart, Pause, Resume, Partition, Heal, Skew, Mutation:
		return true
	}
	return false
}

// Entry is one line of a run's trace: what happened, at which step and virtual time, at which
// node, with which peer or client, and the message or value involved.
type Entry struct {
	Event  int           // the index of the step it belongs to
	Time   time.Duration // virtual time
	What   What
	Node   node.ID       // the node it happened at (0: none)
	Peer   node.ID       // the other node: sender of a delivery, receiver of a send
	Client node.ClientID // the client involved, if any
	Data   any           // the message, timer name, output or description
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

// tracer folds entries into the trace hash and keeps the entries a report needs.
type tracer struct {
	hash    Hasher
	mode    TraceMode
	full    []Entry
	ring    []Entry // the last len(ring) entries, for the context of a violation
	ringPos int
	count   int
	step    int // the step entries belong to, for drivers without a World (untimed replays)
}

func newTracer(mode TraceMode, context int) tracer {
	return tracer{hash: NewHasher(), mode: mode, ring: make([]Entry, context)}
}

func (t *tracer) add(e Entry) {
	t.hash.Uint64(uint64(e.Event))
	t.hash.Uint64(uint64(e.Time))
	t.hash.Uint64(uint64(e.What)<<48 | uint64(e.Node)<<32 | uint64(e.Peer)<<16 | uint64(e.Client))
	t.hash.Value(e.Data)
	t.count++
	if t.mode == TraceFull {
		t.full = append(t.full, e)
	}
	if len(t.ring) > 0 {
		t.ring[t.ringPos] = e
		t.ringPos = (t.ringPos + 1) % len(t.ring)
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
