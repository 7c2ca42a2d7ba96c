package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// toy is a protocol for testing the world itself. Every node outputs what it recovers from
// storage when it starts; node 1 sends a Ping to every peer on its "tick" timer, and peers
// answer with a Pong; a node outputs every message it receives.
type toy struct {
	id      node.ID
	counter int
}

type (
	Ping struct{ N int }
	Pong struct{ N int }
)

func (t *toy) Start(env node.Env) {
	t.id = env.Self()
	synced, _ := env.Load("synced")
	unsynced, _ := env.Load("unsynced")
	env.Output(fmt.Sprintf("start synced=%v unsynced=%v", synced, unsynced))
	if t.id == 1 {
		env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
	}
}

func (t *toy) Receive(env node.Env, from node.ID, m node.Message) {
	env.Output(fmt.Sprintf("%T from %d", m, from))
	if p, ok := m.(Ping); ok {
		env.Send(from, Pong(p))
	}
}

func (t *toy) Timer(env node.Env, name string) {
	t.counter++
	env.Store("synced", t.counter)
	env.Sync()
	env.Store("unsynced", t.counter)
	env.Broadcast(Ping{N: t.counter})
	env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
}

func (t *toy) Request(env node.Env, req node.Request) { env.Reply(req, req.Op) }

var toyProtocol = &node.Protocol{
	Name: "toy", New: func(node.Config, node.ID) node.Node { return &toy{} },
	DefaultN: 3, MinN: 1, Quorum: func(n int) int { return n/2 + 1 },
	Timing: node.Timing{Delay: time.Millisecond, Settle: 50 * time.Millisecond},
}

func toyConfig(p Profile) Config {
	return Config{Protocol: toyProtocol, Cluster: node.Config{N: 3}, Profile: p,
		Faults: 100 * time.Millisecond, Trace: TraceFull}
}

// drive builds a world and starts it, for tests that step it by hand.
func drive(cfg Config) *World {
	w := newWorld(cfg, NewSeeded(1), false)
	w.start()
	return w
}

func outputsOf(w *World, id node.ID) []string {
	var out []string
	for _, o := range w.outputs {
		if o.Node == id {
			out = append(out, o.Value.(string))
		}
	}
	return out
}

func TestCrashLosesUnsyncedWrites(t *testing.T) {
	w := drive(toyConfig(Profile{Delay: Delay{Min: time.Millisecond}}))
	// Node 1 ticked twice: the second tick's Sync made synced=2 and the first tick's
	// unsynced=1 durable; its own unsynced=2 is still volatile.
	w.loop(25 * time.Millisecond)
	w.crash(1)
	w.restart(event{node: 1, inc: w.slot(1).inc})
	got := outputsOf(w, 1)
	want := "start synced=2 unsynced=1"
	if got[len(got)-1] != want {
		t.Fatalf("after restart node 1 output %q, want %q", got[len(got)-1], want)
	}
	if w.faults[KindCrash] != 1 || w.faults[KindRestart] != 1 {
		t.Errorf("fault counts %v: want one crash and one restart", w.faults)
	}
}

func TestCrashedNodeLosesTimersAndMessages(t *testing.T) {
	w := drive(toyConfig(Profile{Delay: Delay{Min: time.Millisecond}}))
	w.loop(5 * time.Millisecond)
	w.crash(2)
	w.loop(50 * time.Millisecond)
	if got := outputsOf(w, 2); len(got) != 1 { // only the first start
		t.Errorf("a crashed node produced output: %v", got)
	}
	if w.ArmedTimers(2) != 0 {
		t.Errorf("a crashed node has %d timers armed", w.ArmedTimers(2))
	}
	lost := 0
	for _, e := range w.trace.full {
		if e.What == Lost && e.Node == 2 {
			lost++
		}
	}
	if lost == 0 {
		t.Error("pings to the crashed node were not recorded as lost")
	}
}

func TestPartitionBlocksOneWay(t *testing.T) {
	w := drive(toyConfig(Profile{Delay: Delay{Min: time.Millisecond}, Down: time.Hour}))
	w.partition(KindPartitionOneWay, "n1 cannot send to n3", func(a, b node.ID) bool { return a == 1 && b == 3 })
	w.loop(35 * time.Millisecond)
	if got := outputsOf(w, 3); slices.Contains(got, "sim.Ping from 1") {
		t.Errorf("node 3 received a ping across a cut link: %v", got)
	}
	if got := outputsOf(w, 2); !slices.Contains(got, "sim.Ping from 1") {
		t.Errorf("node 2 did not receive pings over a working link: %v", got)
	}
	if w.faults[KindBlocked] == 0 {
		t.Error("blocked messages were not counted")
	}
	w.heal()
	w.loop(60 * time.Millisecond)
	if got := outputsOf(w, 3); !slices.Contains(got, "sim.Ping from 1") {
		t.Errorf("node 3 still gets no pings after healing: %v", got)
	}
}

func TestFixedCutLinksHealWithTheFaultPhase(t *testing.T) {
	p := *toyProtocol
	p.Progress = func(w node.World) []string { // demand 50ms of running after healing
		if w.Now() < 150*time.Millisecond {
			return []string{"time"}
		}
		return nil
	}
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond}, Cut: []Link{{1, 2}}})
	cfg.Protocol = &p
	cfg.Liveness = 100 * time.Millisecond
	w, _ := Simulate(cfg, NewSeeded(1))
	var before, after int
	for _, o := range w.outputs {
		if o.Node == 2 && o.Value == "sim.Ping from 1" {
			if o.Time < cfg.Faults {
				before++
			} else {
				after++
			}
		}
	}
	if before != 0 || after == 0 {
		t.Errorf("pings over the cut link 1>2: %d during the fault phase, %d after healing; want 0 and some", before, after)
	}
}

func TestPausedNodeCatchesUpOnResume(t *testing.T) {
	w := drive(toyConfig(Profile{Delay: Delay{Min: time.Millisecond}, Down: 30 * time.Millisecond}))
	s := w.slot(2)
	s.paused, s.resumeAt = true, 30*time.Millisecond
	w.schedule(event{at: s.resumeAt, kind: evResume, node: 2, inc: s.inc})
	w.loop(29 * time.Millisecond)
	if got := outputsOf(w, 2); len(got) != 1 {
		t.Errorf("a paused node stepped: %v", got)
	}
	w.loop(31 * time.Millisecond)
	if got := outputsOf(w, 2); !slices.Contains(got, "sim.Ping from 1") {
		t.Errorf("after resuming, node 2 did not get the pings sent while it was paused: %v", got)
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 20 * time.Millisecond, TailProb: 0.1},
		Drop: 0.1, Duplicate: 0.1, Reorder: true, FaultEvery: 10 * time.Millisecond, Down: 10 * time.Millisecond,
		Crash: 1, Pause: 1, Split: 1, Isolate: 1, OneWay: 1, Partial: 1, MaxDown: -1, Skew: 0.3})
	for seed := uint64(0); seed < 50; seed++ {
		a := Run(cfg, NewSeeded(seed))
		b := Run(cfg, NewSeeded(seed))
		if a.TraceHash != b.TraceHash || a.Events != b.Events {
			t.Fatalf("seed %d: two runs differ: %x/%d vs %x/%d", seed, a.TraceHash, a.Events, b.TraceHash, b.Events)
		}
		c := Run(cfg, NewRecorded(a.Choices))
		if c.TraceHash != a.TraceHash {
			t.Fatalf("seed %d: replaying the recorded choices gives trace %x, want %x", seed, c.TraceHash, a.TraceHash)
		}
	}
	if Run(cfg, NewSeeded(1)).TraceHash == Run(cfg, NewSeeded(2)).TraceHash {
		t.Error("seeds 1 and 2 gave the same trace: the seed does not reach the run")
	}
}

func TestEveryFaultKindFires(t *testing.T) {
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 20 * time.Millisecond, TailProb: 0.1},
		Drop: 0.1, Duplicate: 0.1, Reorder: true, FaultEvery: 5 * time.Millisecond, Down: 10 * time.Millisecond,
		Crash: 1, Pause: 1, Split: 1, Isolate: 1, OneWay: 1, Partial: 1, MaxDown: -1, Skew: 0.3})
	var total Counts
	for seed := uint64(0); seed < 30; seed++ {
		total.Add(Run(cfg, NewSeeded(seed)).Faults)
	}
	for _, k := range cfg.Profile.Enabled() {
		if total[k] == 0 {
			t.Errorf("fault kind %s is enabled but never fired in 30 runs", k)
		}
	}
}

func TestZeroChoicesMeanNoFaults(t *testing.T) {
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 20 * time.Millisecond, TailProb: 0.5},
		Drop: 0.5, Duplicate: 0.5, Reorder: true, FaultEvery: 5 * time.Millisecond, Down: 10 * time.Millisecond,
		Crash: 1, Pause: 1, Split: 1, Isolate: 1, OneWay: 1, Partial: 1, MaxDown: -1, Skew: 0.3})
	r := Run(cfg, NewRecorded(nil)) // every choice zero
	if r.Faults.Total() != 0 {
		t.Errorf("an all-zero choice sequence injected faults: %v", r.Faults)
	}
}

// panicky panics when it receives a message: the campaign must survive it.
type panicky struct{ toy }

func (p *panicky) Receive(env node.Env, from node.ID, m node.Message) { panic("boom") }

// chatty sends without end in one step.
type chatty struct{ toy }

func (c *chatty) Receive(env node.Env, from node.ID, m node.Message) {
	for {
		env.Send(from, Pong{})
	}
}

// echo keeps one message bouncing between two nodes forever.
type echo struct{ toy }

func (e *echo) Start(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, Ping{})
	}
}
func (e *echo) Receive(env node.Env, from node.ID, m node.Message) { env.Send(from, m) }

func TestBadProtocolsFailTheirRun(t *testing.T) {
	tests := []struct {
		name string
		new  func() node.Node
		prop string
	}{
		{"panic", func() node.Node { return &panicky{} }, PropPanic},
		{"endless step", func() node.Node { return &chatty{} }, PropStepBudget},
		{"endless run", func() node.Node { return &echo{} }, PropEventBudget},
	}
	for _, tt := range tests {
		p := *toyProtocol
		p.New = func(node.Config, node.ID) node.Node { return tt.new() }
		cfg := toyConfig(Profile{})
		cfg.Protocol = &p
		cfg.Faults = time.Hour
		cfg.MaxEvents = 10_000
		cfg.StepBudget = 1000
		r := Run(cfg, NewSeeded(7))
		if r.Violation == nil || r.Violation.Property != tt.prop {
			t.Errorf("%s: violation %v, want %s", tt.name, r.Violation, tt.prop)
		}
		if tt.prop == PropPanic && !strings.Contains(r.Violation.Message, "(*panicky).Receive") {
			t.Errorf("the panic report does not name where the protocol panicked: %s", r.Violation.Message)
		}
	}
}
