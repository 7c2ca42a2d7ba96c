package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/replica-io/replica/scenarios/campaign"
)

// cli runs the command line in-process and returns its exit status, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// noPersist is the campaign of the acceptance check, run once: no-persist Paxos over 2000
// seeds, with its capsules and its JUnit report.
var noPersist = sync.OnceValues(func() (dir string, err error) {
	dir, err = os.MkdirTemp("", "replica-workflow-test")
	if err != nil {
		return "", err
	}
	code, out, errs := cli("run", "-protocol", "paxos", "-bug", "no-persist", "-seeds", "2000", "-json",
		"-out", dir, "-junit", filepath.Join(dir, "junit.xml"),
		"-corpus", filepath.Join("..", "..", "..", "testdata", "regressions"))
	if code != 1 {
		return "", fmt.Errorf("the no-persist campaign exited %d: %s", code, errs)
	}
	return dir, os.WriteFile(filepath.Join(dir, "summary.json"), []byte(out), 0o644)
})

// TestMain removes the shared campaign's directory after the tests; the test binary exits
// with m.Run's status by itself.
func TestMain(m *testing.M) {
	m.Run()
	if dir, err := noPersist(); err == nil {
		os.RemoveAll(dir)
	}
}

// noPersistCapsule returns the first capsule of the no-persist campaign.
func noPersistCapsule(t *testing.T) string {
	t.Helper()
	dir, err := noPersist()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	var s campaign.Summary
	if err := json.Unmarshal(out, &s); err != nil || len(s.Capsules) == 0 {
		t.Fatalf("no capsule from the campaign (%v): %s", err, out)
	}
	return s.Capsules[0]
}

func TestShrinkCommand(t *testing.T) {
	cap := noPersistCapsule(t)
	min := filepath.Join(t.TempDir(), "min.capsule")
	code, out, errs := cli("shrink", cap, "-o", min, "-json")
	if code != 0 {
		t.Fatalf("shrink exited %d: %s", code, errs)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"events_before", "events_after", "faults_before", "faults_after", "capsule"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("shrink -json lacks %q: %s", k, out)
		}
	}
	if rep["events_after"].(float64) > 60 || rep["faults_after"].(float64) > 3 {
		t.Errorf("shrunk to %v events, %v faults", rep["events_after"], rep["faults_after"])
	}
	if rep["still_violated"] != true {
		t.Errorf("shrink -json does not say the violation still holds: %s", out)
	}
	// Without -json, shrink's status says it, as replay's does; flags may follow the capsule.
	if code, out, errs := cli("shrink", cap, "-o", min+"2"); code != 1 || !strings.Contains(out, "agreement still violated") {
		t.Errorf("shrink exited %d, want 1: %s%s", code, out, errs)
	}
	code, out, _ = cli("replay", min, "-json")
	if code != 1 || !strings.Contains(out, `"reproduced": true`) || !strings.Contains(out, `"same_trace": true`) {
		t.Fatalf("the shrunk capsule does not replay to its violation (exit %d): %s", code, out)
	}
	// show: a timeline with the faults marked and the violation last; it exits 0.
	code, out, _ = cli("show", min)
	if code != 0 || !strings.Contains(out, " ! ") || !strings.Contains(out, "VIOLATION agreement") {
		t.Fatalf("show exited %d:\n%s", code, out)
	}
	code, out, _ = cli("show", min, "-format", "jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) < 10 {
		t.Fatalf("show -format jsonl exited %d with %d lines", code, len(lines))
	}
	faults := 0
	for i, l := range lines {
		var e map[string]any
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %d is not JSON: %s", i+1, l)
		}
		if e["fault"] == true {
			faults++
		}
		if i == len(lines)-1 && e["violation"] == nil {
			t.Errorf("the last line is not the violation: %s", l)
		}
	}
	if faults == 0 {
		t.Error("show -format jsonl marks no fault")
	}
}

// TestBadCapsules: a corrupt, truncated, foreign-version or hand-edited capsule, or one of
// an unknown protocol, gives exit status 2 and one line on stderr, for every command that
// reads capsules.
func TestBadCapsules(t *testing.T) {
	good, err := os.ReadFile(noPersistCapsule(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	edited := append([]byte(nil), good...)
	for i := len(edited) / 2; i < len(edited); i++ {
		if edited[i] >= '0' && edited[i] <= '9' {
			edited[i] = '0' + (edited[i]-'0'+1)%10
			break
		}
	}
	cases := map[string][]byte{
		"corrupt":   []byte("\x00\x01 not a capsule at all\n"),
		"truncated": good[:len(good)*2/3],
		"version":   bytes.Replace(good, []byte("replica-capsule 1\n"), []byte("replica-capsule 99\n"), 1),
		"edited":    edited,
		"protocol":  resign(t, bytes.Replace(good, []byte("protocol paxos\n"), []byte("protocol nosuch\n"), 1)),
		"empty":     nil,
	}
	for name, data := range cases {
		path := filepath.Join(dir, name+".capsule")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"replay", "show", "shrink"} {
			code, _, errs := cli(cmd, path)
			if code != 2 || strings.Count(errs, "\n") != 1 {
				t.Errorf("%s of a %s capsule: exit %d, stderr %q; want 2 and one line", cmd, name, code, errs)
			}
		}
	}
}

// TestCapsuleFix: a hand-edited capsule is refused until `replica capsule fix` recomputes its
// checksum; then it replays, and replay says the run left the recorded trace.
func TestCapsuleFix(t *testing.T) {
	good, err := os.ReadFile(noPersistCapsule(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edited.capsule")
	i := bytes.Index(good, []byte("\nc ")) + 3
	edited := append(append(append([]byte(nil), good[:i]...), '7'), good[i:]...) // the first choice, prefixed with 7
	os.WriteFile(path, edited[:len(edited)-1], 0o644)                            // and the final newline lost
	if code, _, errs := cli("replay", path); code != 2 || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("an edited capsule: exit %d, %q", code, errs)
	}
	if code, out, errs := cli("capsule", "fix", path); code != 0 || !strings.Contains(out, "checksum recomputed") {
		t.Fatalf("capsule fix: exit %d, %q %q", code, out, errs)
	}
	code, out, errs := cli("replay", path, "-json")
	if code > 1 || !strings.Contains(out, `"same_trace": false`) && !strings.Contains(out, `"diverged": true`) {
		t.Errorf("the fixed capsule: exit %d, %s%s", code, out, errs)
	}
	for _, args := range [][]string{{"capsule"}, {"capsule", "fix"}, {"capsule", "mend", path}, {"capsule", "fix", "/no/such/file"}} {
		if code, _, errs := cli(args...); code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}

// resign recomputes a capsule's checksum after an edit, as a forger would.
func resign(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(data, []byte("\nchecksum "))
	body := data[:i+1]
	sum := sha256Hex(body)
	return append(append([]byte(nil), body...), []byte("checksum "+sum+"\n")...)
}

// TestMergeOfADirectory: shards' results files merged by naming their directory, or a glob
// that no shell expanded, print what the unsharded run prints, field for field.
func TestMergeOfADirectory(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	os.Mkdir(filepath.Join(dir, "r"), 0o755)
	for i := range 2 {
		code, _, errs := cli("run", "-seeds", "200", "-shard", fmt.Sprintf("%d/2", i), "-results",
			filepath.Join(dir, "r", fmt.Sprintf("shard-%d.jsonl", i)), "-out", out)
		if code != 0 {
			t.Fatalf("shard %d exited %d: %s", i, code, errs)
		}
	}
	_, whole, _ := cli("run", "-seeds", "200", "-json", "-out", out)
	for _, name := range []string{filepath.Join(dir, "r"), filepath.Join(dir, "r", "shard-*.jsonl")} {
		code, merged, errs := cli("merge", "-json", name)
		if code != 0 {
			t.Fatalf("merge %s exited %d: %s", name, code, errs)
		}
		var a, b map[string]any
		json.Unmarshal([]byte(whole), &a)
		json.Unmarshal([]byte(merged), &b)
		delete(a, "wall_seconds")
		delete(b, "wall_seconds")
		if len(a) < 10 || fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("merge %s differs from the unsharded run:\n%v\n%v", name, b, a)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "r", "shard-1.jsonl"))
	half := filepath.Join(dir, "half.jsonl")
	os.WriteFile(half, data[:len(data)-20], 0o644)
	code, _, errs := cli("merge", filepath.Join(dir, "r", "shard-0.jsonl"), half)
	if code != 0 || !strings.Contains(errs, "last line is incomplete") {
		t.Errorf("merge of a half-written file: exit %d, stderr %q", code, errs)
	}
}

func readLines(t *testing.T, path string) []campaign.Line {
	t.Helper()
	lines, _, err := campaign.ReadResultsFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestInterruptKeepsResults: SIGINT stops a campaign promptly; the results file holds every
// seed that finished, and -resume runs the rest.
func TestInterruptKeepsResults(t *testing.T) {
	// Keep SIGINT from killing the test binary should the campaign have stopped listening.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	dir := t.TempDir()
	res := filepath.Join(dir, "res.jsonl")
	const total = 6000
	done := make(chan int)
	var out string
	go func() {
		code, o, _ := cli("run", "-protocol", "paxos", "-seeds", strconv.Itoa(total), "-results", res, "-out", dir)
		out = o
		done <- code
	}()
	// Interrupt once the first results are in: the campaign is under way and listening.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if data, _ := os.ReadFile(res); bytes.Count(data, []byte("\n")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no result line within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	start := time.Now()
	select {
	case code := <-done:
		hint := "to run the rest: replica run -protocol paxos -seeds " + strconv.Itoa(total) + " -out " + dir + " -resume " + res
		if code != 130 || !strings.Contains(out, "interrupted: ") || !strings.Contains(out, hint) {
			t.Errorf("interrupted campaign: exit %d (want 130), output lacks the summary or %q:\n%s", code, hint, out)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the interrupted campaign did not stop within 20s")
	}
	t.Logf("stopped %v after SIGINT", time.Since(start).Round(time.Millisecond))
	kept := readLines(t, res)
	if len(kept) == 0 || len(kept) >= total {
		t.Fatalf("after SIGINT the results file holds %d of %d seeds", len(kept), total)
	}
	// Cut the last line short, as a kill in mid-write would: -resume drops it.
	data, _ := os.ReadFile(res)
	os.WriteFile(res, data[:len(data)-10], 0o644)
	code, out, errs := cli("run", "-protocol", "paxos", "-seeds", strconv.Itoa(total), "-resume", res, "-out", dir, "-json")
	if code != 0 {
		t.Fatalf("-resume exited %d: %s", code, errs)
	}
	seen := map[uint64]bool{}
	for _, l := range readLines(t, res) {
		seen[l.Seed] = true
	}
	if len(seen) != total {
		t.Errorf("after -resume the results cover %d distinct seeds, want %d", len(seen), total)
	}
	var s campaign.Summary
	json.Unmarshal([]byte(out), &s)
	_, full, _ := cli("run", "-protocol", "paxos", "-seeds", strconv.Itoa(total), "-out", dir, "-json")
	var want campaign.Summary
	json.Unmarshal([]byte(full), &want)
	if s.SeedsRun != total || s.CampaignHash != want.CampaignHash {
		t.Errorf("resumed summary: %d seeds, hash %s; uninterrupted: %d, %s", s.SeedsRun, s.CampaignHash, want.SeedsRun, want.CampaignHash)
	}
}

// TestCorpus: -corpus re-runs the regression capsules against the campaign's variant: the
// correct protocol passes them, the bug variant fails its own.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join("..", "..", "..", "testdata", "regressions")
	code, out, errs := cli("run", "-protocol", "paxos", "-seeds", "20", "-corpus", corpus, "-out", dir, "-json")
	if code != 0 {
		t.Fatalf("the correct protocol against the corpus: exit %d: %s %s", code, out, errs)
	}
	var rep campaign.Report
	json.Unmarshal([]byte(out), &rep)
	if len(rep.Corpus) < 2 {
		t.Fatalf("the corpus ran %d capsules", len(rep.Corpus))
	}
	code, out, _ = cli("run", "-protocol", "paxos", "-bug", "no-persist", "-seeds", "20", "-corpus", corpus, "-out", dir, "-json")
	json.Unmarshal([]byte(out), &rep)
	if code != 1 || rep.Failures != 0 {
		t.Fatalf("want exit 1 from the corpus alone (20 fresh seeds pass): exit %d, %d seed failures", code, rep.Failures)
	}
	failed := 0
	for _, r := range rep.Corpus {
		if r.Violation != nil {
			failed++
			if r.Violation.Property != r.Recorded && strings.Contains(r.Capsule, "no-persist") {
				t.Errorf("%s fails %s, recorded %s", r.Capsule, r.Violation.Property, r.Recorded)
			}
		}
	}
	if failed == 0 {
		t.Error("no corpus capsule fails no-persist")
	}
}

func TestTimeBudgetAndCommitSeed(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := cli("run", "-protocol", "paxos", "-time-budget", "200ms", "-out", dir, "-json")
	var rep campaign.Report
	json.Unmarshal([]byte(out), &rep)
	if code != 0 || rep.SeedsRun < 10 || rep.Interrupted {
		t.Errorf("-time-budget 200ms: exit %d, %d seeds (interrupted %v): %s", code, rep.SeedsRun, rep.Interrupted, errs)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	code, out, errs = cli("run", "-protocol", "paxos", "-seeds", "5", "-seed-from-commit", "-out", dir, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	json.Unmarshal([]byte(out), &rep)
	want, _ := strconv.ParseUint(string(head[:10]), 16, 64)
	if rep.FirstSeed != want || rep.Commit != strings.TrimSpace(string(head)) {
		t.Errorf("-seed-from-commit: first seed %d from %q, want %d", rep.FirstSeed, rep.Commit, want)
	}
}

func TestFleetFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", "-shard", "4/4"},
		{"run", "-shard", "x"},
		{"run", "-time-budget", "-1s"},
		{"run", "-corpus", "/no/such/dir"},
		{"run", "-seed-from-commit", "-seed-start", "5"},
		{"run", "-results", "a.jsonl", "-resume", "b.jsonl"},
		{"merge"},
		{"merge", "/no/such/file"},
		{"show"},
		{"show", "a", "b"},
		{"show", "-format", "xml", "a"},
		{"shrink", "-timeout", "0s", "a"},
	} {
		code, _, errs := cli(args...)
		if code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// -results appends to its file: a campaign refuses a file that holds another campaign's
// results (which would then neither merge nor resume), and takes its own again.
func TestResultsFileOfAnotherCampaignIsRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "r.jsonl")
	if code, _, errs := cli("run", "-protocol", "paxos", "-seeds", "3", "-results", file, "-out", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs := cli("run", "-protocol", "abd", "-seeds", "3", "-results", file, "-out", dir)
	if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "holds results of paxos@default") {
		t.Errorf("another campaign: exit %d, stderr %q; want 2 and one line naming the file's campaign", code, errs)
	}
	if code, _, errs := cli("run", "-protocol", "paxos", "-seeds", "3", "-results", file, "-out", dir); code != 0 {
		t.Errorf("the same campaign again: exit %d: %s", code, errs)
	}
	if code, out, errs := cli("merge", "-json", file); code != 0 || !strings.Contains(out, `"seeds_run": 3`) {
		t.Errorf("merge: exit %d: %s%s", code, out, errs)
	}
}
