package checker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
)

func TestLivenessFailureListsWhatIsPending(t *testing.T) {
	p := toyProtocol("")
	p.Progress = func(w node.World) []string { return []string{"the impossible"} }
	cfg := toyConfig(p, NewLiveness)
	cfg.Liveness = 50 * time.Millisecond
	r := sim.Run(cfg, sim.NewSeeded(1))
	if r.Violation == nil || r.Violation.Property != PropProgress {
		t.Fatalf("violation %v, want %s", r.Violation, PropProgress)
	}
	if want := "no progress within 50ms after healing at 0.100s"; !strings.Contains(r.Violation.Message, want) {
		t.Errorf("message %q lacks %q", r.Violation.Message, want)
	}
	if !slices.Equal(r.Violation.Pending, []string{"the impossible"}) {
		t.Errorf("pending %v", r.Violation.Pending)
	}
	if r.Violation.Time != 150*time.Millisecond {
		t.Errorf("reported at %v, want at the bound, 150ms", r.Violation.Time)
	}
}

func TestLivenessStopsTheRunAtProgress(t *testing.T) {
	p := toyProtocol("")
	ready := false
	p.Progress = func(w node.World) []string {
		if ready = ready || w.Now() >= 130*time.Millisecond; ready {
			return nil
		}
		return []string{"not yet"}
	}
	cfg := toyConfig(p, NewLiveness)
	cfg.Liveness = time.Second
	r := sim.Run(cfg, sim.NewSeeded(1))
	if r.Violation != nil {
		t.Fatalf("violation %v", r.Violation)
	}
	if r.Progress < 30*time.Millisecond || r.Progress > 40*time.Millisecond || r.Virtual > 140*time.Millisecond {
		t.Errorf("progress %v after healing, run ended at %v: want progress ~30ms after healing at 100ms, and the run stopped there",
			r.Progress, r.Virtual)
	}
}

func TestLivenessWithoutHealingIsSilent(t *testing.T) {
	p := toyProtocol("")
	p.Progress = func(w node.World) []string { return []string{"forever"} }
	r := sim.Run(toyConfig(p, NewLiveness), sim.NewSeeded(1)) // no liveness phase
	if r.Violation != nil {
		t.Fatalf("a run without a liveness phase failed liveness: %v", r.Violation)
	}
}

// lossy is a fault phase that promises progress: messages are lost now and then, but the
// network never splits and no node goes down.
func lossy(bug string, watchdog time.Duration) sim.Config {
	return sim.Config{Protocol: paxos.Protocol, Cluster: node.Config{N: 3, Bug: bug},
		Profile:  sim.Profile{Delay: sim.Delay{Min: 2 * time.Millisecond, Typical: 10 * time.Millisecond}, Drop: 0.3},
		Faults:   5 * time.Second,
		Monitors: []func() sim.Monitor{NewWatchdog(watchdog, nil)}}
}

func TestWatchdogCatchesAStallDuringFaults(t *testing.T) {
	found := 0
	for seed := uint64(0); seed < 50; seed++ {
		r := sim.Run(lossy(paxos.BugNoRetry, time.Second), sim.NewSeeded(seed))
		if r.Violation == nil {
			continue
		}
		found++
		v := r.Violation
		if v.Property != PropWatchdog || !strings.Contains(v.Message, "no progress for 1s during the fault phase") ||
			len(v.Pending) == 0 {
			t.Fatalf("seed %d: %v (pending %v), want a watchdog report listing what is pending", seed, v, v.Pending)
		}
		if v.Time > 5*time.Second {
			t.Errorf("seed %d: the watchdog fired at %v, after the fault phase", seed, v.Time)
		}
	}
	if found < 10 {
		t.Errorf("the watchdog caught no-retry's stall in %d of 50 seeds", found)
	}
}

func TestWatchdogLetsAProgressingProtocolBe(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		if r := sim.Run(lossy("", time.Second), sim.NewSeeded(seed)); r.Violation != nil {
			t.Fatalf("seed %d: %v", seed, r.Violation)
		}
	}
}

func TestWatchdogUsesTheProtocolsMeasure(t *testing.T) {
	// Work always pending: with a measure that moves until 100ms, the watchdog fires once
	// the 200ms bound has passed after that, whatever the clients see.
	p := toyProtocol("")
	p.Progress = func(w node.World) []string { return []string{"always"} }
	advance := func(w node.World) int { return int(min(w.Now(), 100*time.Millisecond)) }
	cfg := toyConfig(p, NewWatchdog(200*time.Millisecond, advance))
	cfg.Faults = time.Second
	r := sim.Run(cfg, sim.NewSeeded(1))
	if r.Violation == nil || r.Violation.Property != PropWatchdog {
		t.Fatalf("violation %v, want %s", r.Violation, PropWatchdog)
	}
	if r.Violation.Time <= 300*time.Millisecond || r.Violation.Time > 310*time.Millisecond {
		t.Errorf("fired at %v, want at the first step past 300ms", r.Violation.Time)
	}
	if want := "nothing advanced since 0.100s"; !strings.Contains(r.Violation.Message, want) {
		t.Errorf("message %q lacks %q", r.Violation.Message, want)
	}
}

func TestWatchdogJudgesTheFaultPhaseWhenItEnds(t *testing.T) {
	// The fault phase ends 150ms into a stall with a 100ms bound: the healing step reports it.
	p := toyProtocol("quiet") // no step happens between the start and healing
	p.Progress = func(w node.World) []string { return []string{"always"} }
	cfg := toyConfig(p, NewWatchdog(100*time.Millisecond, func(node.World) int { return 0 }))
	cfg.Faults, cfg.Liveness = 150*time.Millisecond, time.Second
	r := sim.Run(cfg, sim.NewSeeded(1))
	if r.Violation == nil || r.Violation.Property != PropWatchdog || r.Violation.Time != 150*time.Millisecond {
		t.Fatalf("violation %v, want %s at the healing step, 150ms", r.Violation, PropWatchdog)
	}
}
