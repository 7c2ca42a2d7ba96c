package campaign

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/replica-io/replica/protocols/paxos"
)

// runPlan prepares and runs a plan of c, failing t on an error.
func runPlan(t *testing.T, c *Campaign, p Plan) Report {
	t.Helper()
	r, err := c.Prepare(p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Run(context.Background())
	if err == nil {
		err = r.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// jsonOf is v as `replica run -json` prints it, decoded into a map: what two reports must
// agree on field for field.
func jsonOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "wall_seconds") // the one field a merge cannot know
	return m
}

// TestShardsMergeToTheWholeCampaign: shards 0/4..3/4 run exactly the seeds of the unsharded
// campaign, each once, and their results files, named as files, as their directory or as a
// glob, merge to the unsharded report field for field.
func TestShardsMergeToTheWholeCampaign(t *testing.T) {
	dir := t.TempDir()
	spec := paxosSpec(t, paxos.BugNoPersist)
	whole := runPlan(t, &Campaign{Spec: spec, OutDir: dir}, Plan{First: 5, Count: 400})
	if whole.Failures == 0 {
		t.Fatal("no failure in 400 no-persist seeds: the comparison would prove little")
	}
	seen := map[uint64]int{}
	var files []string
	for i := range 4 {
		f := filepath.Join(dir, "results", "shard-"+strconv.Itoa(i)+".jsonl")
		os.MkdirAll(filepath.Dir(f), 0o755)
		files = append(files, f)
		rep := runPlan(t, &Campaign{Spec: spec, OutDir: dir}, Plan{First: 5, Count: 400, Shard: Shard{i, 4}, Results: f})
		if rep.Shard != strconv.Itoa(i)+"/4" {
			t.Errorf("shard report says %q", rep.Shard)
		}
		lines, _, err := ReadResultsFile(f, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			seen[l.Seed]++
		}
	}
	for s := uint64(5); s < 405; s++ {
		if seen[s] != 1 {
			t.Errorf("seed %d ran %d times across the shards", s, seen[s])
		}
	}
	if len(seen) != 400 {
		t.Errorf("the shards ran %d distinct seeds, want 400", len(seen))
	}
	for _, names := range [][]string{files, {filepath.Join(dir, "results")}, {filepath.Join(dir, "results", "shard-*.jsonl")}} {
		m, err := Merge(names)
		if err != nil {
			t.Fatalf("merge %v: %v", names, err)
		}
		if diff := cmp.Diff(jsonOf(t, whole), jsonOf(t, m.Report)); diff != "" {
			t.Errorf("merge %v differs from the unsharded report (-whole +merged):\n%s", names, diff)
		}
		if len(m.Files) != 4 || len(m.Notes) != 0 {
			t.Errorf("merge %v: files %v, notes %v", names, m.Files, m.Notes)
		}
	}

	// A last line still being written is left out, with a note; anywhere else, a broken line
	// is an error.
	data, _ := os.ReadFile(files[1])
	half := filepath.Join(dir, "half.jsonl")
	os.WriteFile(half, data[:len(data)-20], 0o644)
	m, err := Merge([]string{files[0], half})
	if err != nil || len(m.Notes) != 1 || !strings.Contains(m.Notes[0], "last line is incomplete") {
		t.Fatalf("merge with a half-written last line: %v, notes %q", err, m.Notes)
	}
	if m.SeedsRun != 199 {
		t.Errorf("merged %d seeds, want 199 (100 of shard 0, 99 of shard 1)", m.SeedsRun)
	}
	broken := filepath.Join(dir, "broken.jsonl")
	os.WriteFile(broken, append([]byte("{not json\n"), data...), 0o644)
	if _, err := Merge([]string{broken}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a broken first line: %v", err)
	}
	// Results of another campaign do not merge.
	other := filepath.Join(dir, "other.jsonl")
	runPlan(t, &Campaign{Spec: paxosSpec(t, ""), OutDir: dir}, Plan{Count: 10, Results: other})
	if _, err := Merge([]string{files[0], other}); err == nil || !strings.Contains(err.Error(), "not one campaign") {
		t.Errorf("merging two campaigns: %v", err)
	}
	for _, bad := range [][]string{nil, {filepath.Join(dir, "nothing-*.jsonl")}, {filepath.Join(dir, "missing.jsonl")}, {t.TempDir()}} {
		if _, err := Merge(bad); err == nil {
			t.Errorf("merge %q: no error", bad)
		}
	}
}

// TestResumeFinishesACutCampaign: a results file whose last line a kill cut short resumes to
// the report of the uninterrupted campaign.
func TestResumeFinishesACutCampaign(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res.jsonl")
	spec := paxosSpec(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	c := &Campaign{Spec: spec, Workers: 1, OnResult: func(Result) {
		if n++; n == 30 {
			cancel()
		}
	}}
	r, err := c.Prepare(Plan{Count: 300, Results: res})
	if err != nil {
		t.Fatal(err)
	}
	cut, _ := r.Run(ctx)
	r.Close()
	if !cut.Interrupted || cut.SeedsRun >= 300 {
		t.Fatalf("cancelled campaign: interrupted %v, %d seeds", cut.Interrupted, cut.SeedsRun)
	}
	data, _ := os.ReadFile(res)
	os.WriteFile(res, data[:len(data)-10], 0o644)
	r, err = (&Campaign{Spec: spec}).Prepare(Plan{Count: 300, Results: res, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Resumed() != cut.SeedsRun-1 || r.Todo() != 300-r.Resumed() {
		t.Errorf("resumed %d seeds with %d to do, after %d ran and one line was cut", r.Resumed(), r.Todo(), cut.SeedsRun)
	}
	resumed, err := r.Run(context.Background())
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	whole := runPlan(t, &Campaign{Spec: spec}, Plan{Count: 300})
	if diff := cmp.Diff(jsonOf(t, whole), jsonOf(t, resumed)); diff != "" {
		t.Errorf("resumed report differs from the uninterrupted one:\n%s", diff)
	}
	// A results file of another campaign is not resumed.
	if _, err := (&Campaign{Spec: paxosSpec(t, paxos.BugNoPersist)}).Prepare(Plan{Count: 300, Results: res, Resume: true}); err == nil ||
		!strings.Contains(err.Error(), "holds results of paxos@default") {
		t.Errorf("resuming another campaign's results: %v", err)
	}
}

// TestUnwritablePathsAreRefusedUpFront: a campaign does not start when it could not keep its
// results, report or capsules, and checking leaves nothing behind.
func TestUnwritablePathsAreRefusedUpFront(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	c := &Campaign{Spec: paxosSpec(t, "")}
	for _, p := range []Plan{
		{Count: 1, JUnit: "/nonexistent-dir/x.xml"},
		{Count: 1, JUnit: dir},
		{Count: 1, Results: filepath.Join(file, "r.jsonl")},
		{Count: 1, Results: "/nonexistent-dir/r.jsonl"},
		{Count: 1, Corpus: file},
		{Count: 0},
		{Count: 1, TimeBudget: -time.Second},
	} {
		if _, err := c.Prepare(p); err == nil {
			t.Errorf("%+v: prepared", p)
		}
	}
	if _, err := (&Campaign{Spec: paxosSpec(t, ""), OutDir: filepath.Join(file, "out")}).Prepare(Plan{Count: 1}); err == nil {
		t.Error("-out under a file: prepared")
	}
	out := filepath.Join(dir, "a", "b")
	if _, err := (&Campaign{Spec: paxosSpec(t, ""), OutDir: out}).Prepare(Plan{Count: 1}); err != nil {
		t.Errorf("-out that can be created: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("checking the paths left %d entries behind in %s", len(entries)-1, dir)
	}
}

func TestTimeBudgetAndCommitSeed(t *testing.T) {
	start := time.Now()
	rep := runPlan(t, &Campaign{Spec: paxosSpec(t, "")}, Plan{TimeBudget: 300 * time.Millisecond})
	if rep.SeedsRun < 10 || rep.Interrupted || time.Since(start) > 10*time.Second || len(rep.Seeds) != rep.SeedsRun {
		t.Errorf("a 300ms budget ran %d seeds in %v (interrupted %v)", rep.SeedsRun, time.Since(start), rep.Interrupted)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	commit, seed, err := CommitSeed("")
	want, _ := strconv.ParseUint(string(head[:10]), 16, 64)
	if err != nil || seed != want || commit != strings.TrimSpace(string(head)) {
		t.Errorf("CommitSeed: %q %d %v, want %d", commit, seed, err, want)
	}
	if _, _, err := CommitSeed(t.TempDir()); err == nil {
		t.Error("CommitSeed outside a checkout: no error")
	}
}

// TestJUnitAndCorpus: the correct protocol passes the regression corpus and the bug variant
// fails its own capsules; the JUnit report parses, with one case for the campaign and one per
// corpus capsule, and failures that name the seed, the property and the capsule.
func TestJUnitAndCorpus(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join("..", "..", "testdata", "regressions")
	clean := runPlan(t, &Campaign{Spec: paxosSpec(t, ""), OutDir: dir}, Plan{Count: 20, Corpus: corpus})
	if len(clean.Corpus) < 2 || clean.Failed() {
		t.Fatalf("correct paxos against the corpus: %d capsules, failed %v", len(clean.Corpus), clean.Failed())
	}
	junit := filepath.Join(dir, "junit.xml")
	rep := runPlan(t, &Campaign{Spec: paxosSpec(t, paxos.BugNoPersist), OutDir: dir}, Plan{Count: 300, Corpus: corpus, JUnit: junit})
	if rep.CorpusFailures() == 0 || !rep.Failed() {
		t.Fatalf("no corpus capsule fails no-persist (%d failures)", rep.CorpusFailures())
	}
	for _, r := range rep.Corpus {
		if r.Violation != nil && strings.Contains(r.Capsule, "no-persist") && r.Violation.Property != r.Recorded {
			t.Errorf("%s fails %s, recorded %s", r.Capsule, r.Violation.Property, r.Recorded)
		}
	}
	data, err := os.ReadFile(junit)
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
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 1+len(rep.Corpus) || doc.Tests != len(doc.Suites[0].Cases) {
		t.Fatalf("unexpected JUnit structure:\n%s", data)
	}
	main := doc.Suites[0].Cases[0]
	if main.Name != "paxos/no-persist@crash-restart" || main.Failure == nil || main.Failure.Type != "agreement" ||
		!strings.Contains(main.Failure.Message, "seed ") || !strings.Contains(main.Failure.Message, "capsule ") {
		t.Errorf("the campaign's test case does not name the seed, property and capsule: %+v", main)
	}
	failures := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failures++
		}
	}
	if failures != doc.Failures || failures != 1+rep.CorpusFailures() {
		t.Errorf("failures attribute %d, failure elements %d, want %d", doc.Failures, failures, 1+rep.CorpusFailures())
	}
}
