package fd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/fd"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

var timing = node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond}

// alone runs the detector as a protocol of its own.
func alone(m *node.Module) *node.Protocol {
	return node.Compose(&node.Protocol{Name: "fd", DefaultN: 3, MinN: 2, Quorum: func(n int) int { return n/2 + 1 }, Timing: timing},
		node.Part{Module: m})
}

func spec(t *testing.T, p *node.Protocol, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: p, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestDetectorIsEventuallyPerfect(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "swarm"} {
		if seed, r, failed := simtest.Find(spec(t, alone(fd.Module), "", sc), simtest.Seeds(25)); failed {
			t.Errorf("%s seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestShortTimeoutPassesEventuallyAndFailsEventuallyAlways(t *testing.T) {
	// The same properties judged as plain "eventually": the flapping detector passes.
	plain := *fd.Module
	plain.Liveness = nil
	for _, l := range fd.Module.Liveness {
		l.Stable = 0
		plain.Liveness = append(plain.Liveness, l)
	}
	if seed, r, failed := simtest.Find(spec(t, alone(&plain), fd.BugShortTimeout, "default"), simtest.Seeds(30)); failed {
		t.Fatalf("the plain check failed short-timeout at seed %d (%v): the test means to show that it passes", seed, r.Violation)
	}
	seed, r, failed := simtest.Find(spec(t, alone(fd.Module), fd.BugShortTimeout, "default"), simtest.Seeds(30))
	if !failed {
		t.Fatal("eventually-always did not catch short-timeout in 30 seeds")
	}
	v := r.Violation
	if v.Property != "eventual-strong-accuracy" || !strings.Contains(v.Message, "pending again") || !strings.Contains(v.Message, "which is up") {
		t.Errorf("seed %d: %v, want a relapse of eventual-strong-accuracy naming a live peer suspected", seed, v)
	}
}
