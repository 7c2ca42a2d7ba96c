package multipaxos_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/links"
	"github.com/replica-io/replica/protocols/multipaxos"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t testing.TB, p *node.Protocol, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := scenarios.Validate(p); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: p, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestTheStackIsAssembledFromTheLibrary(t *testing.T) {
	want := []string{"log", "log/omega", "log/omega/fd", "log/paxos", "log/paxos/links"}
	if got := multipaxos.Protocol.Components; !slices.Equal(got, want) {
		t.Errorf("components %v, want %v", got, want)
	}
	for _, prop := range []string{"exactly-once", "log/log-agreement", "log/paxos/agreement", "log/paxos/links/no-duplication"} {
		if !slices.ContainsFunc(multipaxos.Protocol.Invariants, func(i node.Invariant) bool { return i.Name == prop }) {
			t.Errorf("the stack does not check its component's property %s", prop)
		}
	}
}

func TestTheStackHolds(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "swarm"} {
		if seed, r, failed := simtest.Find(spec(t, multipaxos.Protocol, "", sc), simtest.Seeds(15)); failed {
			t.Errorf("%s seed %d: %v", sc, seed, r.Violation)
		}
	}
}

// Each component's seeded bug shows, inside the stack, as a violation of that component's
// own property, and its run replays.
func TestEveryComponentsBugIsFoundAsItsOwnProperty(t *testing.T) {
	want := map[string]string{
		"no-session":      "exactly-once",
		"skip-gap":        "log/log-agreement",
		"self-leader":     "log/omega/eventual-leadership",
		"short-timeout":   "log/omega/fd/eventual-strong-accuracy",
		"shared-acceptor": "log/paxos/validity",
		"no-dedup":        "log/paxos/links/no-duplication",
	}
	for _, b := range multipaxos.Protocol.Bugs {
		s := spec(t, multipaxos.Protocol, b.Name, b.Scenario)
		seed, r, found := simtest.Find(s, simtest.Seeds(60))
		if !found {
			t.Errorf("%s: not found in 60 seeds of %s", b.Name, b.Scenario)
			continue
		}
		if r.Violation.Property != want[b.Name] {
			t.Errorf("%s seed %d: %v, want a violation of %s", b.Name, seed, r.Violation, want[b.Name])
		}
		again, rec := s.Replay(r.Choices)
		if again.TraceHash != r.TraceHash || rec.Diverged() || again.Violation == nil {
			t.Errorf("%s seed %d does not replay", b.Name, seed)
		}
	}
	if len(want) != len(multipaxos.Protocol.Bugs) {
		t.Errorf("the stack lists %d bugs, the test knows %d", len(multipaxos.Protocol.Bugs), len(want))
	}
}

// Swapping a component is one line: here the consensus runs over the bare, lossy network
// instead of perfect links (its proposers retry, and the log catches up), and still holds.
func TestSwappingAComponentIsOneLine(t *testing.T) {
	var parts []node.Part
	for _, pt := range multipaxos.Parts {
		if pt.Module == links.Module {
			continue
		}
		if pt.Path == "log/paxos" {
			pt.Over = "" // the one line
		}
		parts = append(parts, pt)
	}
	p := *multipaxos.Protocol
	p.Name, p.Invariants, p.Sometimes, p.Liveness, p.Mutators, p.Bugs = "multipaxos-lossy", nil, nil, nil, nil, nil
	swapped := node.Compose(&p, parts...)
	if slices.Contains(swapped.Components, "log/paxos/links") {
		t.Fatal("the links are still there")
	}
	if seed, r, failed := simtest.Find(spec(t, swapped, "", "default"), simtest.Seeds(10)); failed {
		t.Errorf("seed %d: %v", seed, r.Violation)
	}
	if _, ok := slices.BinarySearch(swapped.Components, "log/paxos"); !ok || strings.Contains(strings.Join(swapped.Components, " "), "links") {
		t.Errorf("components %v", swapped.Components)
	}
}
