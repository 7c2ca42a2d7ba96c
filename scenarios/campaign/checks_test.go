package campaign

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/abd"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

// custom is a spec of protocol with a scenario made for the test.
func custom(t *testing.T, protocol, bug string, sc *scenarios.Scenario) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve(protocol, bug, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Scenario = sc
	return s
}

func TestRequireFaultsFailsACampaignWhoseFaultNeverFired(t *testing.T) {
	// Crashes are on, but the fault scheduler's first draw comes long after the fault phase
	// ends: a green campaign that never crashed anything.
	sc := &scenarios.Scenario{Name: "crashes-in-name-only", Faults: 4, Liveness: 10,
		Profile: func(t node.Timing) sim.Profile {
			return sim.Profile{Delay: sim.Delay{Min: t.Delay / 5, Typical: t.Delay}, Drop: 0.05,
				FaultEvery: time.Hour, Crash: 1, MaxDown: -1}
		}}
	spec := custom(t, "paxos", "", sc)
	lax := run(t, &Campaign{Spec: spec, Seeds: seeds(30)})
	if lax.Failures != 0 || lax.Failed() {
		t.Fatalf("without -require-faults the campaign should pass: %+v", lax)
	}
	if !slices.Equal(lax.EnabledFaults, []string{"drop", "crash", "restart"}) || !slices.Equal(lax.NeverFired, []string{"crash", "restart"}) {
		t.Errorf("enabled %v, never fired %v; want drop, crash, restart enabled and crash, restart never fired",
			lax.EnabledFaults, lax.NeverFired)
	}
	strict := run(t, &Campaign{Spec: spec, Seeds: seeds(30), RequireFaults: true})
	if !strict.Failed() || len(strict.CoverageFailures) != 2 ||
		!strings.Contains(strict.CoverageFailures[0], "fault kind crash is enabled by the profile but fired in none of 30 runs") {
		t.Errorf("with -require-faults: failed %v, coverage failures %q", strict.Failed(), strict.CoverageFailures)
	}
	// And a campaign whose faults all fire passes it.
	if s := run(t, &Campaign{Spec: paxosSpec(t, ""), Seeds: seeds(100), RequireFaults: true}); s.Failed() {
		t.Errorf("the default campaign fails -require-faults: never fired %v", s.NeverFired)
	}
}

func TestSometimesFlagsAnInvariantThatHoldsVacuously(t *testing.T) {
	// Every message is lost and nothing heals: no node ever decides, so agreement and
	// validity hold in every run, and only the required "decided" says the campaign proved
	// nothing.
	sc := &scenarios.Scenario{Name: "deaf", Faults: 4,
		Profile: func(t node.Timing) sim.Profile {
			return sim.Profile{Delay: sim.Delay{Min: t.Delay / 5, Typical: t.Delay}, Drop: 1}
		}}
	s := run(t, &Campaign{Spec: custom(t, "paxos", "", sc), Seeds: seeds(50)})
	if s.Failures != 0 {
		t.Fatalf("the invariants failed: %+v", s.Violations)
	}
	if s.Sometimes["decided"] != 0 || !s.Failed() || len(s.CoverageFailures) != 1 ||
		!strings.Contains(s.CoverageFailures[0], `required sometimes-property "decided" was reached in none of 50 runs`) {
		t.Errorf("sometimes %v, failed %v, coverage failures %q", s.Sometimes, s.Failed(), s.CoverageFailures)
	}
	// A sometimes-property that is not required is coverage only.
	p := *custom(t, "paxos", "", sc).Protocol
	p.Sometimes = []node.Sometimes{{Name: "decided", Reached: p.Sometimes[0].Reached}}
	spec := custom(t, "paxos", "", sc)
	spec.Protocol = &p
	if s := run(t, &Campaign{Spec: spec, Seeds: seeds(10)}); s.Failed() {
		t.Errorf("a campaign failed on a sometimes-property that is not required: %q", s.CoverageFailures)
	}
}

func TestLinearizabilityIsCountedAndExplained(t *testing.T) {
	clean := run(t, &Campaign{Spec: custom(t, "abd", "", mustScenario(t, "default")), Seeds: seeds(40)})
	if l := clean.Linearizability; clean.Failed() || l == nil || l.Checked != 40 || l.Passed+l.Unknown != 40 {
		t.Fatalf("clean abd: failed %v, linearizability %+v", clean.Failed(), l)
	}

	dir := t.TempDir()
	spec, err := scenarios.Resolve("abd", abd.BugNoWriteback, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	spec.Context = 7
	c := &Campaign{Spec: spec, Seeds: seeds(150), OutDir: dir}
	s := run(t, c)
	if s.Linearizability == nil || s.Linearizability.Failed == 0 {
		t.Fatalf("no-writeback: linearizability %+v in 150 seeds", s.Linearizability)
	}
	if v := s.Violations[0]; len(v.Context)+len(v.Nodes)+len(v.Details) != 0 {
		t.Errorf("a result keeps more than the violation's headline: %+v", v)
	}
	c.Detail(&s, 1)
	v := s.Violations[0]
	if v.Property != checker.PropLinearizable || len(v.Context) != 7 || len(v.Nodes) != 3 || len(v.Details) == 0 {
		t.Errorf("report: property %s, %d context events (want 7), %d nodes, details %q", v.Property, len(v.Context), len(v.Nodes), v.Details)
	}
	if len(v.Artifacts) != 1 || !strings.HasSuffix(v.Artifacts[0], ".linearizability.html") ||
		strings.TrimSuffix(v.Artifacts[0], ".linearizability.html") != strings.TrimSuffix(v.Capsule, ".capsule") {
		t.Fatalf("artifacts %v beside capsule %s: want the HTML visualization", v.Artifacts, v.Capsule)
	}
	if _, err := os.Stat(v.Artifacts[0]); err != nil {
		t.Error(err)
	}
}

func mustScenario(t *testing.T, name string) *scenarios.Scenario {
	sc, err := scenarios.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestAScenarioDeclaresSometimesPropertiesToo(t *testing.T) {
	sc := *mustScenario(t, "default")
	crashedThenDecided := func(w node.World) bool { // a decision by a node that is down now
		for _, o := range w.Outputs() {
			if w.State(o.Node) == nil {
				return true
			}
		}
		return false
	}
	sc.Checks.Sometimes = []node.Sometimes{
		{Name: "decider-down", Required: true, Reached: crashedThenDecided},
		{Name: "never", Required: true, Reached: func(node.World) bool { return false }},
	}
	s := run(t, &Campaign{Spec: custom(t, "paxos", "", &sc), Seeds: seeds(100)})
	if s.Sometimes["decider-down"] == 0 || s.Sometimes["decided"] != 100 {
		t.Errorf("sometimes %v: want the scenario's property counted beside the protocol's", s.Sometimes)
	}
	if !s.Failed() || len(s.CoverageFailures) != 1 || !strings.Contains(s.CoverageFailures[0], `"never"`) {
		t.Errorf("coverage failures %q: want the scenario's unreached required property", s.CoverageFailures)
	}
}

// TestALongDurationIsNotAFailure: runs that use up their event budget while virtual time
// advances are counted apart, not failed, and write no capsule.
func TestALongDurationIsNotAFailure(t *testing.T) {
	sc := *mustScenario(t, "default")
	sc.MaxEvents = 500
	spec := custom(t, "paxos", "", &sc)
	spec.Faults = time.Hour
	dir := t.TempDir()
	s := run(t, &Campaign{Spec: spec, Seeds: seeds(5), OutDir: dir})
	if s.Failures != 0 || s.Exhausted != 5 || s.Failed() {
		t.Errorf("failures %d, exhausted %d, failed %v: %+v", s.Failures, s.Exhausted, s.Failed(), s.Violations)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("capsules written for runs that did not fail: %v", entries)
	}
}
