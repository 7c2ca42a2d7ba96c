package sim

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// stormy is a profile with every network and node fault, so that a toy run holds every kind
// of entry.
var stormy = Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 20 * time.Millisecond, TailProb: 0.1},
	Drop: 0.1, Duplicate: 0.1, Reorder: true, FaultEvery: 5 * time.Millisecond, Down: 10 * time.Millisecond,
	Crash: 1, Pause: 1, Split: 1, Isolate: 1, OneWay: 1, Partial: 1, MaxDown: -1}

// recording is an observer that keeps what it saw.
type recording struct{ seen []Observation }

func (r *recording) Observe(o Observation) { r.seen = append(r.seen, o) }

// checkNumbering checks that a trace numbers its events 0, 1, 2, ... without gaps.
func checkNumbering(t *testing.T, trace []Entry) {
	t.Helper()
	if len(trace) == 0 || trace[0].Event != 0 {
		t.Fatalf("the trace does not start with event 0: %v", trace[:min(len(trace), 1)])
	}
	for i := 1; i < len(trace); i++ {
		if d := trace[i].Event - trace[i-1].Event; d != 0 && d != 1 {
			t.Fatalf("the event numbers skip from %d to %d:\n%s\n%s", trace[i-1].Event, trace[i].Event, trace[i-1], trace[i])
		}
	}
}

// checkIdentities checks that every delivery, block, loss, drop and duplication of a message
// names a send of it from the same link, with the same content.
func checkIdentities(t *testing.T, trace []Entry) {
	t.Helper()
	sends := map[int]Entry{}
	deliveries := map[int]int{}
	for _, e := range trace {
		switch {
		case e.What == Send:
			if e.Msg == 0 || sends[e.Msg].Msg != 0 {
				t.Fatalf("send without a number of its own: %s (msg %d)", e, e.Msg)
			}
			sends[e.Msg] = e
		case e.Peer != 0 && (e.What == Deliver || e.What == Blocked || e.What == Lost || e.What == Dropped || e.What == Dup):
			s, ok := sends[e.Msg]
			if !ok || s.Node != e.Peer || s.Peer != e.Node || HashOf(s.Data) != HashOf(e.Data) {
				t.Fatalf("%s (msg %d) matches no send of it (%s)", e, e.Msg, s)
			}
			if e.What != Dup && e.What != Dropped {
				deliveries[e.Msg]++
			}
		}
	}
	for id, n := range deliveries {
		if n > 2 {
			t.Errorf("message %d (%s) arrived %d times", id, sends[id], n)
		}
	}
}

func TestEventsAreNumberedWithoutGaps(t *testing.T) {
	cfg := toyConfig(stormy)
	for seed := uint64(0); seed < 20; seed++ {
		obs := &recording{}
		cfg.Observer = obs
		r := Run(cfg, NewSeeded(seed))
		checkNumbering(t, r.Trace)
		checkIdentities(t, r.Trace)
		// The observer sees each numbered event once, after the step, in order.
		next := 0
		for _, o := range obs.seen {
			if !o.Traced {
				continue
			}
			if o.Event != next {
				t.Fatalf("seed %d: observed event %d, want %d", seed, o.Event, next)
			}
			next++
			for _, e := range r.Trace {
				if e.Event == o.Event && e.Node != 0 && !slices.Contains(o.Touched, e.Node) {
					t.Fatalf("seed %d: event %d names n%d, not among the touched %v", seed, o.Event, e.Node, o.Touched)
				}
			}
		}
		if next != r.Trace[len(r.Trace)-1].Event+1 {
			t.Errorf("seed %d: observed %d events, the trace has %d", seed, next, r.Trace[len(r.Trace)-1].Event+1)
		}
	}
}

// TestViolationCitesItsEvent: the event a violation cites is the one whose entries end the
// trace, the step after which it was found.
func TestViolationCitesItsEvent(t *testing.T) {
	p := *toyProtocol
	p.Invariants = []node.Invariant{{Name: "few-ticks", Check: func(w node.World) error {
		if s, ok := w.State(1).(*toy); ok && s.counter >= 3 {
			return errors.New("n1 ticked three times")
		}
		return nil
	}}}
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond}, FaultEvery: 2 * time.Millisecond})
	cfg.Protocol = &p
	r := Run(cfg, NewSeeded(1))
	if r.Violation == nil {
		t.Fatal("no violation")
	}
	last := r.Trace[len(r.Trace)-1]
	if r.Violation.Event != last.Event || last.What != Send {
		t.Errorf("the violation cites event %d, the trace ends with event %d: %s", r.Violation.Event, last.Event, last)
	}
	ctx := r.Violation.Context
	if ctx[len(ctx)-1].Event != r.Violation.Event {
		t.Errorf("the violation's context ends at event %d, not %d", ctx[len(ctx)-1].Event, r.Violation.Event)
	}
}

func TestBetweenTellsCrashesAndRestarts(t *testing.T) {
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond}, FaultEvery: 10 * time.Millisecond,
		Down: 5 * time.Millisecond, Crash: 1, MaxDown: -1})
	w, r := Simulate(cfg, NewSeeded(3))
	var crash, restart Entry
	for _, e := range r.Trace {
		if e.What == Crash && crash.Node == 0 {
			crash = e
		}
		if e.What == Restart && crash.Node != 0 && e.Node == crash.Node && restart.Node == 0 {
			restart = e
		}
	}
	if restart.Node == 0 {
		t.Fatal("no crash and restart in the run")
	}
	got := w.Between(crash.Node, crash.Time, restart.Time)
	want := "crashed at " + fmtTime(crash.Time) + " and restarted at " + fmtTime(restart.Time)
	if got != want {
		t.Errorf("Between = %q, want %q", got, want)
	}
	if got := w.Between(crash.Node, 0, crash.Time-1); got != "" {
		t.Errorf("Between before the first crash = %q, want nothing", got)
	}
	if got := w.Between(crash.Node, 0, r.Virtual); !strings.Contains(got, "crashed") {
		t.Errorf("Between over the whole run = %q", got)
	}
	if got := node.Between(w, crash.Node, crash.Time, restart.Time); got != want {
		t.Errorf("node.Between = %q, want %q", got, want)
	}
}
