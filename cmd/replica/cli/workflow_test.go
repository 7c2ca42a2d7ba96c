package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
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
	code, out, _ = cli("replay", "-json", min)
	if code != 1 || !strings.Contains(out, `"reproduced": true`) || !strings.Contains(out, `"same_trace": true`) {
		t.Fatalf("the shrunk capsule does not replay to its violation (exit %d): %s", code, out)
	}
	// show: a timeline with the faults marked and the violation last.
	code, out, _ = cli("show", min)
	if code != 1 || !strings.Contains(out, " ! ") || !strings.Contains(out, "VIOLATION agreement") {
		t.Fatalf("show exited %d:\n%s", code, out)
	}
	code, out, _ = cli("show", min, "-format", "jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) < 10 {
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

// resign recomputes a capsule's checksum after an edit, as a forger would.
func resign(t *testing.T, data []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(data, []byte("\nchecksum "))
	body := data[:i+1]
	sum := sha256Hex(body)
	return append(append([]byte(nil), body...), []byte("checksum "+sum+"\n")...)
}

// TestShardsCoverTheCampaign: shards 0/4..3/4 run exactly the seeds of the unsharded run,
// each once, and their merged results give the unsharded summary.
func TestShardsCoverTheCampaign(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "-protocol", "paxos", "-bug", "no-persist", "-seeds", "400", "-out", dir}
	code, out, _ := cli(append(args, "-json")...)
	if code > 1 {
		t.Fatalf("unsharded run exited %d", code)
	}
	var all campaign.Summary
	json.Unmarshal([]byte(out), &all)
	seen := map[uint64]int{}
	var files []string
	for i := range 4 {
		f := filepath.Join(dir, fmt.Sprintf("r%d.jsonl", i))
		files = append(files, f)
		cli(append(args, "-shard", fmt.Sprintf("%d/4", i), "-results", f)...)
		for _, l := range readLines(t, f) {
			seen[l.Seed]++
		}
	}
	if len(seen) != 400 {
		t.Errorf("the shards ran %d distinct seeds, want 400", len(seen))
	}
	for s := uint64(0); s < 400; s++ {
		if seen[s] != 1 {
			t.Errorf("seed %d ran %d times across the shards", s, seen[s])
		}
	}
	code, out, errs := cli(append([]string{"merge", "-json"}, files...)...)
	if code > 1 {
		t.Fatalf("merge exited %d: %s", code, errs)
	}
	var merged campaign.Summary
	if err := json.Unmarshal([]byte(out), &merged); err != nil {
		t.Fatal(err)
	}
	if merged.SeedsRun != all.SeedsRun || merged.Failures != all.Failures || merged.CampaignHash != all.CampaignHash ||
		merged.Events != all.Events || fmt.Sprint(merged.FailingSeeds) != fmt.Sprint(all.FailingSeeds) ||
		fmt.Sprint(merged.Faults) != fmt.Sprint(all.Faults) {
		t.Errorf("merged summary differs from the unsharded one:\n%+v\n%+v", merged, all)
	}
	// Results of another campaign do not merge.
	other := filepath.Join(dir, "other.jsonl")
	cli("run", "-protocol", "paxos", "-seeds", "10", "-results", other, "-out", dir)
	if code, _, errs := cli("merge", files[0], other); code != 2 || strings.Count(errs, "\n") != 1 {
		t.Errorf("merging two campaigns: exit %d, %q", code, errs)
	}
}

func readLines(t *testing.T, path string) []resultLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := readResults(path, f)
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
	go func() {
		code, _, _ := cli("run", "-protocol", "paxos", "-seeds", strconv.Itoa(total), "-results", res, "-out", dir)
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
	case <-done:
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

// TestJUnit: -junit writes JUnit XML that parses, one test case for the scenario and one per
// corpus capsule, and a failure that names the seed, the property and the capsule.
func TestJUnit(t *testing.T) {
	dir, err := noPersist()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("the JUnit report does not parse: %v\n%s", err, data)
	}
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) < 2 || doc.Tests != len(doc.Suites[0].Cases) {
		t.Fatalf("unexpected JUnit structure:\n%s", data)
	}
	main := doc.Suites[0].Cases[0]
	if main.Name != "paxos/no-persist@crash-restart" || main.Failure == nil || main.Failure.Type != "agreement" ||
		!strings.Contains(main.Failure.Message, "seed ") || !strings.Contains(main.Failure.Message, "capsule ") {
		t.Errorf("the scenario's test case does not name the seed, property and capsule: %+v", main)
	}
	failures := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failures++
		}
	}
	if failures != doc.Failures {
		t.Errorf("failures attribute %d, failure elements %d", doc.Failures, failures)
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
	var rep runReport
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
	start := time.Now()
	code, out, errs := cli("run", "-protocol", "paxos", "-time-budget", "500ms", "-out", dir, "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep runReport
	json.Unmarshal([]byte(out), &rep)
	if rep.SeedsRun < 10 || rep.Interrupted || time.Since(start) > 10*time.Second {
		t.Errorf("-time-budget 500ms ran %d seeds in %v (interrupted %v)", rep.SeedsRun, time.Since(start), rep.Interrupted)
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
