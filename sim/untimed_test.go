package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

func paxosUntimed(bug string) *sim.Untimed {
	cfg := node.Config{N: 3, Bug: bug, Params: paxos.Protocol.Explore.Params}
	return sim.NewUntimed(paxos.Protocol, cfg, sim.UntimedOptions{Crashes: 1, Requests: 2})
}

// follow walks the untimed world along actions named by their labels, and returns the
// action numbers of the path; it stops at the first label that is not enabled.
func follow(u *sim.Untimed, labels []string) (path []int, missing string) {
	s := u.Init()[0]
	for _, want := range labels {
		found := false
		u.Next(s, func(a int, next *sim.UState) bool {
			if u.Label(s, a) == want {
				path, s, found = append(path, a), next, true
				return false
			}
			return true
		})
		if !found {
			return path, want
		}
	}
	return path, ""
}

// noPersistRace is the shortest way for no-persist to choose two values: n3 promises ballot
// 1.1, then 1.2, crashes and reboots having forgotten 1.2, and accepts 1.1 after all; 1.1 is
// chosen by n1 and n3, and 1.2, whose phase 1 saw nothing accepted, by n2 and n3.
var noPersistRace = []string{
	"request c1 -> n1 Value(101)",
	"request c2 -> n2 Value(201)",
	"deliver n3 <- n1 Prepare{B:1.1}",
	"deliver n1 <- n3 Promise{B:1.1 Accepted:0.0 Value:0}",
	"deliver n3 <- n2 Prepare{B:1.2}",
	"crash n3",
	"restart n3",
	"deliver n3 <- n1 Accept{B:1.1 Value:101}",
	"deliver n1 <- n3 Accepted{B:1.1 Value:101}",
	"deliver n2 <- n3 Promise{B:1.2 Accepted:0.0 Value:0}",
	"deliver n3 <- n2 Accept{B:1.2 Value:201}",
	"deliver n2 <- n3 Accepted{B:1.2 Value:201}",
}

func TestUntimedFindsTheNoPersistRace(t *testing.T) {
	u := paxosUntimed(paxos.BugNoPersist)
	path, missing := follow(u, noPersistRace)
	if missing != "" {
		t.Fatalf("after %d steps, %q is not enabled", len(path), missing)
	}
	r, err := u.Replay(0, path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil || r.Violation.Property != "agreement" || r.Steps != len(path) {
		t.Fatalf("the race does not break agreement: %+v", r.Violation)
	}
	if !strings.Contains(r.Violation.Message, "n2 decided 201, but n1 decided 101") {
		t.Errorf("violation %q", r.Violation.Message)
	}
	again, _ := u.Replay(0, path)
	if again.TraceHash != r.TraceHash || len(again.Trace) != len(r.Trace) {
		t.Error("two replays of one path give different traces")
	}
}

func TestUntimedCorrectPaxosRefusesTheRace(t *testing.T) {
	// With its promise durable, n3 answers the old Accept with a Nack after its reboot, so
	// it never sends the Accepted that would choose 1.1.
	path, missing := follow(paxosUntimed(""), noPersistRace)
	if want := "deliver n1 <- n3 Accepted{B:1.1 Value:101}"; missing != want {
		t.Fatalf("the correct protocol followed the race to step %d (missing %q), want it to stop at %q", len(path), missing, want)
	}
}

func TestUntimedReplayRefusesADisabledAction(t *testing.T) {
	if _, err := paxosUntimed("").Replay(0, []int{0, 99}); err == nil || !strings.Contains(err.Error(), "not enabled") {
		t.Errorf("replaying a path through a disabled action: %v", err)
	}
}

func TestUntimedNextIsDeterministic(t *testing.T) {
	u := paxosUntimed("")
	s := u.Init()[0]
	for depth := 0; depth < 10; depth++ {
		var a, b []uint64
		var first *sim.UState
		u.Next(s, func(_ int, n *sim.UState) bool {
			a = append(a, u.Fingerprint(n))
			if first == nil {
				first = n
			}
			return true
		})
		u.Next(s, func(_ int, n *sim.UState) bool { b = append(b, u.Fingerprint(n)); return true })
		if len(a) == 0 {
			return
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("depth %d: successor %d differs between two expansions", depth, i)
			}
		}
		s = first
	}
}

// TestUntimedNetworkSemantics: in every network semantics a lone proposer still decides, and
// the state space stays finite (a duplicating network keeps messages as a set).
func TestUntimedNetworkSemantics(t *testing.T) {
	params := map[string]int{paxos.ParamProposers: 1, paxos.ParamMaxRound: 1}
	for _, opts := range []sim.UntimedOptions{
		{Requests: 1}, {Requests: 1, Ordered: true}, {Requests: 1, Ordered: true, Duplicate: true},
		{Requests: 1, Lossy: true}, // (unordered and duplicating: 156,854 states, too slow for a unit test)
	} {
		u := sim.NewUntimed(paxos.Protocol, node.Config{N: 3, Params: params}, opts)
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1, MaxStates: 500_000})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Complete || len(r.Witnesses) != 1 || r.Witnesses[0].Path == nil {
			t.Errorf("%s: complete=%v (stopped: %s), decided reached: %v", opts, r.Complete, r.Stopped, r.Witnesses)
		}
	}
}
