package sim_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/internal/machine"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// spinner's nodes ping each other on a timer; with loopAt > 0, node 2 loops without end in
// the step that delivers its loopAt-th message, until the test that made it lets go.
type spinner struct {
	Loop     int
	Received int
	Sleep    time.Duration // every step sleeps this long: a slow run, not a stuck one
	Hoard    bool          // at Loop, take memory without end instead of spinning
	stop     *atomic.Bool
}

type ping struct{ N int }

func (s *spinner) Start(env node.Env) { env.SetTimer("tick", time.Millisecond, 2*time.Millisecond) }
func (s *spinner) Timer(env node.Env, name string) {
	time.Sleep(s.Sleep)
	env.Broadcast(ping{s.Received})
	env.SetTimer("tick", time.Millisecond, 2*time.Millisecond)
}
func (s *spinner) Request(node.Env, node.Request) {}
func (s *spinner) Receive(env node.Env, from node.ID, m node.Message) {
	s.Received++
	if s.Loop > 0 && env.Self() == 2 && s.Received == s.Loop {
		if s.Hoard {
			hoardForever(s.stop)
		}
		spinForever(s.stop)
	}
}

// hoardForever appends to the queue it goes over, as a buggy step does: memory without end
// (until stop, or 2 GiB if the watchdog missed it).
func hoardForever(stop *atomic.Bool) {
	queue := []int{0}
	for i := 0; i < len(queue) && len(queue) < 1<<28 && !stop.Load(); i++ {
		queue = append(queue, i)
	}
}

// spinForever loops without effects, as a buggy step does (until stop, for the test's sake).
func spinForever(stop *atomic.Bool) {
	for x := 0; x >= 0 && !stop.Load(); {
		x = (x + 1) % 7
	}
}

func spinnerConfig(t *testing.T, loopAt int, sleep time.Duration, invariant func(w node.World) error) sim.Config {
	stop := new(atomic.Bool)
	t.Cleanup(func() { stop.Store(true) }) // the abandoned goroutine ends with the test
	p := &node.Protocol{Name: "spinner", DefaultN: 3, MinN: 3,
		New:    func(node.Config, node.ID) node.Node { return &spinner{Loop: loopAt, Sleep: sleep, stop: stop} },
		Quorum: func(n int) int { return n },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
	if invariant != nil {
		p.Invariants = []node.Invariant{{Name: "spin-check", Check: invariant}}
	}
	return sim.Config{Protocol: p, Cluster: node.Config{N: 3}, Faults: 200 * time.Millisecond,
		Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 2 * time.Millisecond}}}
}

// A run whose step loops is reported by Watched at the event the same seed's trace shows
// for that delivery in a run that does not loop: its number, time, node and sender, and the
// protocol's own frame where it loops.
func TestWatchedNamesTheStuckStep(t *testing.T) {
	const loopAt, seed = 5, 3
	calm := spinnerConfig(t, 0, 0, nil)
	calm.Trace = sim.TraceFull
	full := sim.Run(calm, sim.NewSeeded(seed))
	var want *sim.Entry
	n := 0
	for i, e := range full.Trace {
		if e.What == sim.Deliver && e.Node == 2 {
			if n++; n == loopAt {
				want = &full.Trace[i]
				break
			}
		}
	}
	if want == nil {
		t.Fatalf("node 2 received only %d messages in the run that does not loop", n)
	}
	if r, stuck := sim.Watched(calm, sim.NewSeeded(seed), time.Minute); stuck != nil || r.TraceHash != full.TraceHash {
		t.Fatalf("a run that finishes: stuck %v, trace %x, want %x", stuck, r.TraceHash, full.TraceHash)
	}

	start := time.Now()
	_, stuck := sim.Watched(spinnerConfig(t, loopAt, 0, nil), sim.NewSeeded(seed), 200*time.Millisecond)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Watched returned after %v, for a limit of 200ms", took)
	}
	if stuck == nil {
		t.Fatal("a looping run finished")
	}
	if stuck.Event != want.Event || stuck.Time != want.Time || stuck.Node != 2 || stuck.From != int(want.Peer) ||
		stuck.What != "deliver" || stuck.Detail != "sim_test.ping" || stuck.In != "step" || stuck.Moving {
		t.Errorf("stuck at %+v, want event %d at %v, n2 delivering sim_test.ping from n%d, in its step",
			*stuck, want.Event, want.Time, want.Peer)
	}
	top, ok := stuck.Top()
	if !ok || !strings.HasSuffix(top.Func, "sim_test.spinForever") || !strings.HasSuffix(top.File, "watched_test.go") ||
		stuck.Protocol < 2 || !strings.HasSuffix(stuck.Frames[stuck.Protocol-1].Func, "sim_test.(*spinner).Receive") {
		t.Errorf("frames %v (%d the protocol's), want spinForever called from (*spinner).Receive first", stuck.Frames, stuck.Protocol)
	}
	if stuck.For < 100*time.Millisecond {
		t.Errorf("in the step for %v, want most of the limit", stuck.For)
	}
	v := stuck.Violation()
	msg := v.Error()
	for _, s := range []string{"no-hang violated", "n2's step did not return within 200ms of wall time, in event", "n2: deliver sim_test.ping from n",
		"it loops in github.com/replica-io/replica/sim_test.spinForever (watched_test.go:", "called from github.com/replica-io/replica/sim_test.(*spinner).Receive"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
	if v.Event != want.Event || v.Time != want.Time || len(v.Details) < 3 ||
		!strings.Contains(strings.Join(v.Details, "\n"), "\n> github.com/replica-io/replica/sim_test.spinForever watched_test.go:") {
		t.Errorf("violation at event %d, %v, details %q", v.Event, v.Time, v.Details)
	}
}

// A property that loops is named as the checks after the step, not as the node's step.
func TestWatchedNamesALoopingProperty(t *testing.T) {
	stop := new(atomic.Bool)
	t.Cleanup(func() { stop.Store(true) })
	cfg := spinnerConfig(t, 0, 0, func(w node.World) error {
		if len(w.Outputs()) == 0 && w.Now() > 20*time.Millisecond {
			spinForever(stop)
		}
		return nil
	})
	_, stuck := sim.Watched(cfg, sim.NewSeeded(1), 200*time.Millisecond)
	if stuck == nil || stuck.In != "check" || stuck.Time <= 20*time.Millisecond || stuck.Event == 0 ||
		!strings.Contains(stuck.Message(), "the checks after event") {
		t.Fatalf("stuck %+v: %s", stuck, stuck.Message())
	}
}

// A run that is only slow, still moving from event to event at its limit, is told apart.
func TestWatchedTellsASlowRunFromAStuckOne(t *testing.T) {
	_, stuck := sim.Watched(spinnerConfig(t, 0, 3*time.Millisecond, nil), sim.NewSeeded(1), 100*time.Millisecond)
	if stuck == nil || !stuck.Moving || !strings.Contains(stuck.Message(), "still moving from event to event") {
		t.Fatalf("stuck %+v", stuck)
	}
}

// A step that takes memory without end is stuck as soon as the process passes the watchdog's
// memory budget, long before the wall-time limit, at the event where it began.
func TestWatchedStopsAStepThatTakesMemoryWithoutEnd(t *testing.T) {
	const loopAt, seed = 5, 3
	now, _ := machine.Resident()
	sim.WatchMemory(now + 256<<20)
	defer sim.WatchMemory(machine.SafeMemory())
	cfg := spinnerConfig(t, loopAt, 0, nil)
	stop := new(atomic.Bool)
	t.Cleanup(func() { stop.Store(true) })
	cfg.Protocol.New = func(node.Config, node.ID) node.Node { return &spinner{Loop: loopAt, Hoard: true, stop: stop} }
	start := time.Now()
	_, stuck := sim.Watched(cfg, sim.NewSeeded(seed), time.Minute)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Watched returned after %v", took)
	}
	if stuck == nil || stuck.Memory <= now+256<<20 || stuck.Node != 2 || stuck.What != "deliver" || stuck.In != "step" {
		t.Fatalf("stuck %+v: want n2's delivery, caught past the budget", stuck)
	}
	if msg := stuck.Message(); !strings.Contains(msg, "n2's step took memory without end, in event") || !strings.Contains(msg, "sim_test.hoardForever") {
		t.Errorf("message %q", msg)
	}
}
