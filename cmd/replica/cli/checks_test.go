package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
)

func TestRunReportsLinearizabilityAndItsVisualization(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := replica(t, "run", "-protocol", "abd", "-bug", "no-writeback", "-seeds", "150",
		"-context", "5", "-json", "-out", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s%s", code, out, stderr)
	}
	var s struct {
		Linearizability struct{ Checked, Passed, Failed, Unknown int }
		Violations      []struct {
			Property  string
			Seed      uint64
			Time      float64
			Event     int
			Context   []string
			Capsule   string
			Artifacts []string
		}
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	l := s.Linearizability
	if l.Failed == 0 || l.Checked != l.Passed+l.Failed+l.Unknown {
		t.Errorf("linearizability counts %+v", l)
	}
	v := s.Violations[0]
	if v.Property != "linearizability" || v.Time <= 0 || v.Event <= 0 || len(v.Context) != 5 || v.Capsule == "" {
		t.Errorf("violation %+v", v)
	}
	if len(v.Artifacts) != 1 || !strings.HasSuffix(v.Artifacts[0], ".html") {
		t.Fatalf("artifacts %v: want the HTML visualization", v.Artifacts)
	}
	if _, err := os.Stat(v.Artifacts[0]); err != nil {
		t.Error(err)
	}
	// replay and show explain the violation as the campaign did, not only with its headline.
	for _, cmd := range []string{"replay", "show"} {
		code, out, _ := replica(t, cmd, v.Capsule)
		if !strings.Contains(out, "not linearizable as a register") || !strings.Contains(out, "longest legal order") {
			t.Errorf("%s (exit %d) does not explain the history:\n%s", cmd, code, out)
		}
	}

	code, out, _ = replica(t, "run", "-protocol", "abd", "-bug", "no-writeback", "-seeds", "150", "-out", dir)
	for _, want := range []string{"linearizability: 150 histories checked", "not linearizable as a register",
		"longest legal order", "the last 50 events before the violation", "explained in " + dir} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("text report (exit %d) lacks %q", code, want)
		}
	}
}

func TestRunCheckFlags(t *testing.T) {
	if code, _, stderr := replica(t, "run", "-context", "0"); code != 2 || !strings.Contains(stderr, "-context 0") {
		t.Errorf("-context 0: exit %d, %q", code, stderr)
	}
	code, out, stderr := replica(t, "run", "-seeds", "100", "-require-faults", "-json", "-out", t.TempDir())
	if code != 0 {
		t.Fatalf("the default campaign fails -require-faults: exit %d %s%s", code, out, stderr)
	}
	var s struct {
		Enabled []string `json:"enabled_faults"`
		Never   []string `json:"never_fired"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Enabled) < 10 || len(s.Never) != 0 {
		t.Errorf("enabled %v, never fired %v (%v)", s.Enabled, s.Never, err)
	}
}

func TestNoProgressReport(t *testing.T) {
	code, out, _ := replica(t, "run", "-protocol", "paxos", "-bug", "no-retry", "-seeds", "20", "-out", t.TempDir())
	if code != 1 || !strings.Contains(out, "progress-after-healing violated") || !strings.Contains(out, "no progress within 3s after healing at 1.800s") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// A capsule that could not be written (the disk filled up, the directory went away after the
// campaign checked it) is said so, not offered as a path to replay ("replica replay error: ...").
func TestRunSaysACapsuleCouldNotBeWritten(t *testing.T) {
	spec, err := scenarios.New(paxos.Protocol, scenarios.Options{Bug: "no-persist"})
	if err != nil {
		t.Fatal(err)
	}
	v := campaign.Violation{Property: "agreement", Message: "two values", Seed: 32,
		Capsule: "error: mkdir /proc/x: no such file or directory"}
	var out strings.Builder
	printSummary(&out, spec, []uint64{32}, campaign.Summary{SeedsRun: 1, Failures: 1, Violations: []campaign.Violation{v}}, false, nil)
	if s := out.String(); strings.Contains(s, "replica replay error") || strings.Contains(s, "capsule error") ||
		strings.Count(s, "no capsule: it could not be written: mkdir /proc/x: no such file or directory") != 2 {
		t.Errorf("summary:\n%s", s)
	}
}
