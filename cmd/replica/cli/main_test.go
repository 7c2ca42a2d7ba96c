package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/replica-io/replica/scenarios/campaign"
)

// replica runs the command line in-process and returns its exit status and output.
func replica(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	dir := t.TempDir()
	capsulePath := findCapsule(t, dir)
	data, _ := os.ReadFile(capsulePath)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	edited := append([]byte(nil), data...)
	for i := len(edited) / 2; i < len(edited); i++ {
		if edited[i] >= '0' && edited[i] <= '9' {
			edited[i] = '0' + (edited[i]-'0'+1)%10
			break
		}
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "-protocol", "no-such-protocol"}, `unknown protocol "no-such-protocol"`},
		{[]string{"run", "-protocol", "paxos", "-bug", "no-such-bug"}, `unknown bug "no-such-bug"`},
		{[]string{"run", "-seeds", "-1"}, "-seeds -1"},
		{[]string{"run", "-seeds", "many"}, `invalid value "many" for flag -seeds`},
		{[]string{"run", "-scenario", "nowhere"}, `unknown scenario "nowhere"`},
		{[]string{"run", "-workers", "-3"}, "-workers -3"},
		{[]string{"run", "-n", "0"}, "-n 0: must be positive"}, // 0 is the default only when not given
		{[]string{"run", "-duration", "0s"}, "-duration 0s: must be positive"},
		{[]string{"explore", "-protocol", "paxos", "-n", "0"}, "-n 0: must be positive"},
		{[]string{"run", "-f", "1"}, "tolerates crash faults only"},
		{[]string{"run", "stray"}, `unexpected argument "stray"`},
		{[]string{"nonsense"}, `unknown command "nonsense"`},
		{[]string{}, "no command given"},
		{[]string{"run", "-out", "/dev/null/x"}, "-out /dev/null/x"},
		{[]string{"replay"}, "want exactly one capsule"},
		{[]string{"replay", filepath.Join(dir, "missing.capsule")}, "no such file"},
		{[]string{"replay", write("trunc", data[:40])}, "truncated"},
		{[]string{"replay", write("edited", edited)}, "checksum mismatch"},
		{[]string{"replay", write("foreign", bytes.Replace(data, []byte("replica-capsule 1"), []byte("replica-capsule 2"), 1))}, "version 2 is not supported"},
		{[]string{"replay", write("garbage", []byte("not a capsule\n"))}, "not a replica capsule"},
	}
	for _, tt := range tests {
		code, _, stderr := replica(t, tt.args...)
		if code != 2 {
			t.Errorf("replica %s: exit %d, want 2", strings.Join(tt.args, " "), code)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("replica %s: stderr %q, want one line containing %q", strings.Join(tt.args, " "), stderr, tt.want)
		}
	}
}

// findCapsule runs a no-persist campaign and returns the first capsule it wrote.
func findCapsule(t *testing.T, dir string) string {
	t.Helper()
	code, out, stderr := replica(t, "run", "-protocol", "paxos", "-bug", "no-persist", "-seeds", "2000", "-json", "-out", dir)
	if code != 1 {
		t.Fatalf("no-persist campaign exited %d: %s", code, stderr)
	}
	var s struct {
		Failures int
		Capsules []string
		Faults   map[string]int
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("run -json printed something else than one JSON object: %v\n%s", err, out)
	}
	if s.Failures == 0 || len(s.Capsules) == 0 {
		t.Fatalf("no capsule written: %+v", s)
	}
	return s.Capsules[0]
}

func TestReplayReproducesTheRecordedRun(t *testing.T) {
	path := findCapsule(t, t.TempDir())
	code, out, _ := replica(t, "replay", "-json", path)
	var rep replayReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 1 || !rep.Reproduced || rep.TraceHash != rep.ExpectedTraceHash || rep.Diverged {
		t.Errorf("replay: exit %d, %+v", code, rep)
	}
	code, out, _ = replica(t, "replay", "-v", path)
	if code != 1 || !strings.Contains(out, "identical to the recorded run") || !strings.Contains(out, "VIOLATION agreement") {
		t.Errorf("replay -v: exit %d\n%s", code, out)
	}
}

func TestDefaultCampaignPasses(t *testing.T) {
	code, out, stderr := replica(t, "run", "-seeds", "200", "-json", "-out", t.TempDir())
	if code != 0 {
		t.Fatalf("replica run exited %d: %s%s", code, out, stderr)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"protocol", "bug", "scenario", "seeds_run", "failures", "failing_seeds",
		"capsules", "events", "virtual_seconds", "wall_seconds", "faults", "campaign_hash"} {
		if _, ok := s[key]; !ok {
			t.Errorf("run -json lacks %q", key)
		}
	}
	faults := s["faults"].(map[string]any)
	for _, k := range []string{"drop", "duplicate", "partition_split", "crash", "restart"} {
		if faults[k] == nil {
			t.Errorf("fault kind %s never fired in the default campaign: %v", k, faults)
		}
	}
}

func TestListShowsProtocolsBugsAndScenarios(t *testing.T) {
	code, out, _ := replica(t, "list")
	for _, want := range []string{"paxos", "no-persist", "no-retry", "crash-restart", "swarm",
		"paxos      declares bounds: crashes=1", "if they make its states finite", "raft       declares no bounds", "-max-states 100000", "twophase"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("replica list (exit %d) lacks %q", code, want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := replica(t, "version")
	if code != 0 || !strings.HasPrefix(out, "replica ") || !strings.Contains(out, "built with go") || errOut != "" {
		t.Errorf("version: exit %d, %q %q", code, out, errOut)
	}
	code, out, _ = replica(t, "version", "-json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version == "" || v.Go == "" {
		t.Errorf("version -json: exit %d, %v: %s", code, err, out)
	}
}

func TestCampaignExitCodes(t *testing.T) {
	for _, tt := range []struct {
		s      campaign.Summary
		failed bool
		want   int
	}{
		{campaign.Summary{}, false, 0},
		{campaign.Summary{Exhausted: 2}, false, 3},
		{campaign.Summary{Exhausted: 2}, true, 1},
		{campaign.Summary{}, true, 1},
	} {
		if got := campaignExitCode(tt.s, tt.failed); got != tt.want {
			t.Errorf("exhausted %d, failed %v: exit %d, want %d", tt.s.Exhausted, tt.failed, got, tt.want)
		}
	}
}

// With -f and a scenario that sets no Byzantine strategy, the nodes draw theirs per seed:
// the profile line says so, as it does for a scenario that asks for the swarm.
func TestTheProfileLineSaysWhatByzantineNodesDo(t *testing.T) {
	code, out, errOut := replica(t, "run", "-protocol", "bracha", "-f", "1", "-seeds", "2")
	if code != 0 || !strings.Contains(out, "byzantine=swarm") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = replica(t, "run", "-protocol", "bracha", "-seeds", "2")
	if code != 0 || strings.Contains(out, "byzantine=") {
		t.Errorf("without -f: exit %d\n%s", code, out)
	}
}

// A user's own command line (their protocols registered, then cli.Main) names itself in its
// usage, its errors and its hints, so that a hint is a command they can run.
func TestHintsNameTheProgram(t *testing.T) {
	for path, want := range map[string]string{
		"/usr/local/bin/replica": "replica", "./chainctl": "chainctl", `chainctl.exe`: "chainctl", "": "replica",
	} {
		if got := programName(path); got != want {
			t.Errorf("programName(%q) = %q, want %q", path, got, want)
		}
	}
	chainctl := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := RunAs("chainctl", args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, _, errOut := chainctl("run", "-seeds", "0"); code != 2 || errOut != "chainctl run: -seeds 0: must be at least 1\n" {
		t.Errorf("bad flag: exit %d, %q", code, errOut)
	}
	if code, out, _ := chainctl("help"); code != 0 || !strings.HasPrefix(out, "usage: chainctl <command>") {
		t.Errorf("help: exit %d, %q", code, out)
	}
	dir := t.TempDir()
	code, out, _ := chainctl("run", "-bug", "no-persist", "-scenario", "crash-restart", "-seeds", "300", "-out", dir)
	if code != 1 || !strings.Contains(out, "(chainctl replay ") || strings.Contains(out, "replica replay") {
		t.Errorf("hints of a failing campaign: exit %d\n%s", code, out)
	}
}

// The memory bound is among the checks list shows: a protocol's bound on its state when it
// declares one (raft), the bounds on messages in flight and timers for every protocol.
func TestListShowsTheMemoryBound(t *testing.T) {
	var l listJSON
	code, out, _ := replica(t, "list", "-json")
	if err := json.Unmarshal([]byte(out), &l); code != 0 || err != nil {
		t.Fatalf("list -json: exit %d, %v", code, err)
	}
	want := map[string]string{"raft": "memory-bound (state, messages, timers)", "paxos": "memory-bound (messages, timers)"}
	for _, p := range l.Protocols {
		if w, ok := want[p.Name]; ok && !slices.Contains(p.Checks, w) {
			t.Errorf("%s's checks %q lack %q", p.Name, p.Checks, w)
		}
	}
	if code, out, _ := replica(t, "list"); code != 0 || !strings.Contains(out, ", memory-bound (state, messages, timers)\n") {
		t.Errorf("replica list (exit %d) shows no memory bound among the checks", code)
	}
}
