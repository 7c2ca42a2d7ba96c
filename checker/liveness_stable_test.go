package checker

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// detector is a toy heartbeat failure detector for the liveness tests: every node sends a
// heartbeat every 20ms and suspects a peer it has not heard from for timeout. Its suspicions
// clear when a heartbeat arrives, so with a timeout below the heartbeat period it suspects
// every live peer again and again, between heartbeats.
type detector struct {
	timeout   time.Duration
	suspected []bool // suspected[p]
}

type heartbeat struct{}

const period = 20 * time.Millisecond

func (d *detector) Start(env node.Env) {
	d.suspected = make([]bool, len(env.Nodes())+1)
	env.SetTimer("beat", period, period)
	for _, p := range env.Nodes() {
		if p != env.Self() {
			env.SetTimer(fmt.Sprint("watch/", p), d.timeout, d.timeout)
		}
	}
}

func (d *detector) Receive(env node.Env, from node.ID, m node.Message) {
	d.suspected[from] = false
	env.SetTimer(fmt.Sprint("watch/", from), d.timeout, d.timeout)
}

func (d *detector) Timer(env node.Env, name string) {
	if name == "beat" {
		env.Broadcast(heartbeat{})
		env.SetTimer("beat", period, period)
		return
	}
	var p node.ID
	fmt.Sscanf(name, "watch/%d", &p)
	d.suspected[p] = true
}

func (d *detector) Request(env node.Env, req node.Request) {}

// falseSuspicions lists the up nodes that an up node suspects.
func falseSuspicions(w node.World) []string {
	var out []string
	for id, d := range node.States[*detector](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if w.Up(p) && d.suspected[p] {
				out = append(out, fmt.Sprintf("n%d suspects n%d, which is up", id, p))
			}
		}
	}
	return out
}

func detectorProtocol(timeout time.Duration, stable time.Duration) *node.Protocol {
	p := &node.Protocol{
		Name: "detector", New: func(node.Config, node.ID) node.Node { return &detector{timeout: timeout} },
		DefaultN: 3, MinN: 1, Quorum: func(n int) int { return n },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 50 * time.Millisecond},
	}
	if stable == 0 {
		p.Progress = falseSuspicions // the plain check: stops at the first instant nothing is pending
	} else {
		p.Liveness = []node.Liveness{{Name: "no-false-suspicion", Pending: falseSuspicions, Stable: stable}}
	}
	return p
}

func detectorConfig(p *node.Protocol, liveness time.Duration) sim.Config {
	cfg := toyConfig(p, NewLiveness)
	cfg.Profile.Delay = sim.Delay{Min: time.Millisecond, Typical: 2 * time.Millisecond}
	cfg.Liveness = liveness
	return cfg
}

func TestEventuallyAlwaysCatchesWhatPlainProgressPasses(t *testing.T) {
	// A timeout of 15ms below the heartbeat period of 20ms: between heartbeats, every node
	// suspects its live peers, then trusts them again when the next heartbeat comes.
	for seed := uint64(1); seed <= 5; seed++ {
		plain := sim.Run(detectorConfig(detectorProtocol(15*time.Millisecond, 0), time.Second), sim.NewSeeded(seed))
		if plain.Violation != nil {
			t.Fatalf("seed %d: the plain progress check failed the buggy detector (%v); the test means to show it passes", seed, plain.Violation)
		}
		r := sim.Run(detectorConfig(detectorProtocol(15*time.Millisecond, 200*time.Millisecond), time.Second), sim.NewSeeded(seed))
		v := r.Violation
		if v == nil || v.Property != "no-false-suspicion" {
			t.Fatalf("seed %d: violation %v, want no-false-suspicion", seed, v)
		}
		if !strings.Contains(v.Message, "then broke") || !strings.Contains(v.Message, "pending again: n") ||
			!strings.Contains(v.Message, "which is up") || len(v.Pending) == 0 {
			t.Errorf("seed %d: %q (pending %v): want the relapse and what became pending again", seed, v.Message, v.Pending)
		}
	}
}

func TestEventuallyAlwaysPassesAStableDetectorAndWatchesTheWholeWindow(t *testing.T) {
	cfg := detectorConfig(detectorProtocol(60*time.Millisecond, 200*time.Millisecond), time.Second)
	r := sim.Run(cfg, sim.NewSeeded(3))
	if r.Violation != nil {
		t.Fatalf("a detector whose timeout covers its period failed: %v", r.Violation)
	}
	if r.Virtual < cfg.Faults+200*time.Millisecond || r.Virtual > cfg.Faults+300*time.Millisecond {
		t.Errorf("the run ended at %v: want it to go on for the 200ms window after healing at %v, and stop soon after", r.Virtual, cfg.Faults)
	}
}

func TestEventuallyAlwaysWindowMustFitTheLivenessPhase(t *testing.T) {
	// The property holds from healing on, but the window (500ms) outlasts the phase (300ms):
	// the run may not pass as if the window had been watched.
	r := sim.Run(detectorConfig(detectorProtocol(60*time.Millisecond, 500*time.Millisecond), 300*time.Millisecond), sim.NewSeeded(3))
	v := r.Violation
	if v == nil || v.Property != "no-false-suspicion" {
		t.Fatalf("violation %v, want no-false-suspicion", v)
	}
	for _, want := range []string{"too late to be judged", "longer than the whole liveness phase"} {
		if !strings.Contains(v.Message, want) {
			t.Errorf("message %q lacks %q", v.Message, want)
		}
	}
}

func TestEventuallyPropertyNeverReachedNamesItself(t *testing.T) {
	p := toyProtocol("")
	p.Liveness = []node.Liveness{{Name: "elected", Pending: func(node.World) []string { return []string{"no leader"} }}}
	cfg := toyConfig(p, NewLiveness)
	cfg.Liveness = 50 * time.Millisecond
	r := sim.Run(cfg, sim.NewSeeded(1))
	v := r.Violation
	if v == nil || v.Property != "elected" || !strings.Contains(v.Message, "never held within 50ms after healing") ||
		!strings.Contains(v.Message, "pending: no leader") {
		t.Fatalf("violation %v, want elected never held, pending listed", v)
	}
}

func TestEventuallyAlwaysHoldsForGoodWhenNothingIsLeftToHappen(t *testing.T) {
	// A quiet toy has no events after healing: what holds then can no longer change.
	p := toyProtocol("quiet")
	p.Liveness = []node.Liveness{{Name: "calm", Pending: func(node.World) []string { return nil }, Stable: time.Hour}}
	cfg := toyConfig(p, NewLiveness)
	cfg.Liveness = time.Second
	if r := sim.Run(cfg, sim.NewSeeded(1)); r.Violation != nil {
		t.Fatalf("violation %v", r.Violation)
	}
}

func TestExplorationLivenessSaysWhatIsNotChecked(t *testing.T) {
	p := detectorProtocol(15*time.Millisecond, 200*time.Millisecond)
	got := ExplorationLiveness(p)
	if len(got) != 1 || !strings.Contains(got[0], "no-false-suspicion (eventually always, for 200ms)") {
		t.Errorf("ExplorationLiveness = %q", got)
	}
}
