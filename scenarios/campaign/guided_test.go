package campaign

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// TestGuidedCampaignDoesNotDependOnWorkers: a guided campaign makes the same runs, kept in the
// same corpus, whatever the number of workers; its plain runs are the random campaign's but for
// the faults they aim (see TestPlainGuidedRunsDifferOnlyByAimedFaults).
func TestGuidedCampaignDoesNotDependOnWorkers(t *testing.T) {
	spec := paxosSpec(t, paxos.BugNoPersist)
	var reports []Report
	var lines [][]Result
	for _, workers := range []int{1, 2, 5} {
		var rs []Result
		c := &Campaign{Spec: spec, Workers: workers, Guided: true, OnResult: func(r Result) { rs = append(rs, r) }}
		reports = append(reports, runPlan(t, c, Plan{First: 7, Count: 60}))
		lines = append(lines, rs)
	}
	for i := 1; i < len(reports); i++ {
		if diff := cmp.Diff(jsonOf(t, reports[0]), jsonOf(t, reports[i])); diff != "" {
			t.Errorf("guided report with other workers differs:\n%s", diff)
		}
		if diff := cmp.Diff(lines[0], lines[i]); diff != "" {
			t.Errorf("guided results with other workers differ:\n%s", diff)
		}
	}
	rep := reports[0]
	if rep.Guided == nil || rep.Guided.Corpus == 0 || rep.SeedsRun != 60 {
		t.Fatalf("guided report: %+v", rep.Guided)
	}
	mutated := 0
	for i, r := range lines[0] {
		switch {
		case r.Guided == nil:
			t.Fatalf("run %d has no guided line", r.Seed)
		case r.Guided.Parent != nil:
			mutated++
			if len(r.Guided.Edits) == 0 {
				t.Errorf("run %d was mutated without an edit", r.Seed)
			}
		case i < sim.SearchWarmup:
			if r.Guided.Parent != nil || len(r.Guided.Edits) > 0 {
				t.Errorf("run %d of the warm-up was mutated", i)
			}
		}
	}
	// The warm-up's runs are plain; of the rest, at least a quarter are mutated.
	if mutated < (60-sim.SearchWarmup)/4 {
		t.Errorf("only %d of 60 runs were mutated", mutated)
	}
}

// TestPlainGuidedRunsDifferOnlyByAimedFaults: a plain guided run is the random campaign's run
// of its seed up to the first fault the guided chooser aims. In the crash-restart scenario
// (step crashes on) that is a crash right after a step in which a node replied to a client, or
// answered a message with a change it did not make durable. Paxos's acceptors sync what they
// promise, so the correct protocol's aimed crashes all come after replies; with no-persist they
// promise from memory, and some runs crash an acceptor right after its promise.
func TestPlainGuidedRunsDifferOnlyByAimedFaults(t *testing.T) {
	for _, bug := range []string{"", paxos.BugNoPersist} {
		spec, err := scenarios.Resolve("paxos", bug, "crash-restart", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg := spec.Config()
		cfg.Trace = sim.TraceFull
		s := sim.NewSearch(cfg, 0)
		differ, answers := 0, 0
		for seed := uint64(0); seed < 40; seed++ {
			g, r := plainRuns(s, cfg, seed)
			if g.TraceHash == r.TraceHash {
				continue
			}
			differ++
			i := parting(g, r)
			// The step-crash draw: the guided run crashes where the random one did not.
			if i == len(g.Choices) || i == len(r.Choices) || g.Purposes[i] != sim.Faults || r.Purposes[i] != sim.Faults ||
				g.Choices[i] != 1 || r.Choices[i] != 0 {
				t.Fatalf("%q seed %d: the plain guided run leaves the random one at choice %d, not with a crash", bug, seed, i)
			}
			if !crashedAfterReply(t, g.Trace, r.Trace) {
				answers++
			}
		}
		switch {
		case differ == 0:
			t.Errorf("%q: no plain guided run of 40 aimed a crash", bug)
		case bug == "" && answers > 0:
			t.Errorf("correct paxos syncs what it answers, yet %d of 40 plain guided runs aimed a crash after an answer", answers)
		case bug != "" && answers == 0:
			t.Error("no-persist: no plain guided run of 40 aimed a crash after a promise kept in memory")
		}
	}
}

// crashedAfterReply reports whether the first entry of guided's trace that random's lacks is
// the crash of a node that replied to a client in the step just before.
func crashedAfterReply(t *testing.T, guided, random []sim.Entry) bool {
	t.Helper()
	i := 0
	same := func(a, b sim.Entry) bool { // not Data: a message may not be comparable
		return a.Event == b.Event && a.Time == b.Time && a.What == b.What && a.Node == b.Node && a.Peer == b.Peer && a.Msg == b.Msg
	}
	for i < min(len(guided), len(random)) && same(guided[i], random[i]) {
		i++
	}
	if i == len(guided) || guided[i].What != sim.Crash {
		t.Fatalf("the guided run leaves the random one at entry %d, not with a crash", i)
	}
	id := guided[i].Node
	for j := i - 1; j >= 0; j-- {
		switch e := guided[j]; {
		case e.What == sim.Reply && e.Node == id:
			return true
		case e.Node == id && (e.What == sim.Deliver || e.What == sim.Timer || e.What == sim.Request || e.What == sim.Restart):
			return false // the step's start: no reply in it
		}
	}
	return false
}

func fmtHash(h uint64) string { return Result{TraceHash: ""}.hash(h) }

func (Result) hash(h uint64) string { return newResult(0, sim.Result{TraceHash: h}, nil).TraceHash }

// TestGuidedCampaignResumes: a guided campaign cut short and resumed from its results file
// reports what the uninterrupted campaign reports, run for run.
func TestGuidedCampaignResumes(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "res.jsonl")
	spec := paxosSpec(t, paxos.BugNoPersist)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	c := &Campaign{Spec: spec, Workers: 2, Guided: true, OnResult: func(Result) {
		if n++; n == 25 {
			cancel()
		}
	}}
	r, err := c.Prepare(Plan{Count: 70, Results: res})
	if err != nil {
		t.Fatal(err)
	}
	cut, _ := r.Run(ctx)
	r.Close()
	if !cut.Interrupted || cut.SeedsRun >= 70 {
		t.Fatalf("cancelled campaign: interrupted %v, %d runs", cut.Interrupted, cut.SeedsRun)
	}
	r, err = (&Campaign{Spec: spec, Guided: true}).Prepare(Plan{Count: 70, Results: res, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	resumed, err := r.Run(context.Background())
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	whole := runPlan(t, &Campaign{Spec: spec, Guided: true}, Plan{Count: 70})
	if diff := cmp.Diff(jsonOf(t, whole), jsonOf(t, resumed)); diff != "" {
		t.Errorf("resumed guided report differs from the uninterrupted one:\n%s", diff)
	}
	// A random campaign does not resume a guided one's results, nor the reverse.
	if _, err := (&Campaign{Spec: spec}).Prepare(Plan{Count: 70, Results: res, Resume: true}); err == nil ||
		!strings.Contains(err.Error(), "-guided") {
		t.Errorf("a random campaign resumed a guided one's results: %v", err)
	}
	if _, err := (&Campaign{Spec: spec, Guided: true}).Prepare(Plan{Count: 70, Shard: Shard{I: 0, N: 2}}); err == nil {
		t.Error("a guided campaign was sharded")
	}
}

// TestGuidedCorpusIsKeptBesideTheCapsules: a corpus directory receives the campaign's corpus
// as capsules that replay, and seeds the next campaign's corpus.
func TestGuidedCorpusIsKeptBesideTheCapsules(t *testing.T) {
	dir := t.TempDir()
	spec := paxosSpec(t, "")
	first := runPlan(t, &Campaign{Spec: spec, Guided: true}, Plan{Count: 30, GuidedCorpus: dir})
	paths, err := scenarios.Corpus(dir)
	if err != nil || len(paths) == 0 || first.Guided.Written != len(paths) {
		t.Fatalf("corpus directory: %d capsules (%v), report says %d written", len(paths), err, first.Guided.Written)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, filepath.Join(dir, "paxos", "default")+string(os.PathSeparator)) {
			t.Errorf("corpus capsule %s is not under <dir>/paxos/default", p)
		}
		cp, err := capsule.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		if r := sim.Run(spec.Config(), sim.NewRecorded(cp.Choices)); r.TraceHash != cp.TraceHash {
			t.Errorf("corpus capsule %s does not replay", p)
		}
	}
	second := runPlan(t, &Campaign{Spec: spec, Guided: true}, Plan{First: 1000, Count: 10, GuidedCorpus: dir})
	if second.Guided.Loaded == 0 {
		t.Errorf("the second campaign loaded none of the %d capsules of the corpus", len(paths))
	}
	if _, err := (&Campaign{Spec: spec}).Prepare(Plan{Count: 10, GuidedCorpus: dir}); err == nil {
		t.Error("a random campaign took a guided corpus")
	}
}

// TestGuidedCampaignFindsAndRecordsABug: a failing guided run's capsule replays to its
// violation, and the report says after how many runs it came.
func TestGuidedCampaignFindsAndRecordsABug(t *testing.T) {
	spec := paxosSpec(t, paxos.BugNoRetry)
	dir := t.TempDir()
	rep := runPlan(t, &Campaign{Spec: spec, Guided: true, OutDir: dir}, Plan{First: 40, Count: 30})
	if rep.Failures == 0 || rep.RunsToFirstFailure == nil {
		t.Fatalf("guided campaign of no-retry: %d failures, runs to first failure %v", rep.Failures, rep.RunsToFirstFailure)
	}
	if want := int(rep.FailingSeeds[0]-40) + 1; *rep.RunsToFirstFailure != want {
		t.Errorf("runs to first failure %d, want %d", *rep.RunsToFirstFailure, want)
	}
	v := rep.Violations[0]
	cp, err := capsule.Read(v.Capsule)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Source != "guided" {
		t.Errorf("capsule source %q", cp.Source)
	}
	r, _ := spec.Replay(cp.Choices)
	if r.Violation == nil || r.Violation.Property != v.Property {
		t.Errorf("the capsule of guided run %d does not replay to %s", v.Seed, v.Property)
	}
	if len(v.Context) == 0 {
		t.Error("the first violation was not detailed")
	}
}

func TestRunsToFirstFailureCountsFromTheFirstSeed(t *testing.T) {
	rep := runPlan(t, &Campaign{Spec: paxosSpec(t, paxos.BugNoPersist)}, Plan{First: 100, Count: 400})
	if rep.Failures == 0 {
		t.Skip("no failure in these seeds")
	}
	if got, want := *rep.RunsToFirstFailure, int(rep.FailingSeeds[0]-100)+1; got != want {
		t.Errorf("runs to first failure %d, want %d", got, want)
	}
	clean := runPlan(t, &Campaign{Spec: paxosSpec(t, "")}, Plan{Count: 50})
	if clean.RunsToFirstFailure != nil || jsonOf(t, clean)["runs_to_first_failure"] != nil {
		t.Errorf("a campaign without failures reports runs to first failure %v", clean.RunsToFirstFailure)
	}
	if _, ok := jsonOf(t, clean)["runs_to_first_failure"]; !ok {
		t.Error("runs_to_first_failure is missing from the JSON report (want null)")
	}
}

func TestFindability(t *testing.T) {
	for _, c := range []struct {
		failures, runs, want int
		bound                float64
	}{
		{1, 100, 459, 0.0450},      // 1%: (0.99)^459 < 1%
		{35, 10000, 1314, 0.00046}, // 0.35%, figure8's rate
		{0, 1000, 0, 0.004595},
		{5, 5, 1, 0.602},
	} {
		f := NewFindability(c.failures, c.runs, false)
		if f.RunsFor99 != c.want || math.Abs(f.Bound99-c.bound) > 0.001*c.bound+1e-6 {
			t.Errorf("%d of %d: runs for 99%% %d (want %d), bound %.6f (want %.6f)", c.failures, c.runs, f.RunsFor99, c.want, f.Bound99, c.bound)
		}
		if c.failures > 0 && (math.Pow(1-f.Rate, float64(f.RunsFor99)) > 0.01 || f.RunsFor99 > 1 && math.Pow(1-f.Rate, float64(f.RunsFor99-1)) <= 0.01) {
			t.Errorf("%d of %d: %d runs is not the least with 99%% confidence", c.failures, c.runs, f.RunsFor99)
		}
	}
	if NewFindability(0, 0, false) != nil {
		t.Error("findability of no runs")
	}
}

// TestAbstractStatesDistinguishRuns: every protocol that supplies an abstract state has one
// that a guided search can use: it runs, and more than one summary comes up.
func TestAbstractStatesDistinguishRuns(t *testing.T) {
	for _, p := range scenarios.Protocols() {
		if p.Abstract == nil {
			continue
		}
		spec, err := scenarios.Resolve(p.Name, "", "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[uint64]bool{}
		cfg := spec.Config()
		cfg.Observer = observerFunc(func(o sim.Observation) { seen[sim.HashOf(p.Abstract(o.World))] = true })
		sim.Run(cfg, sim.NewSeeded(1))
		if len(seen) < 3 {
			t.Errorf("%s: its abstract state took %d values in a run of the default scenario", p.Name, len(seen))
		}
	}
}

type observerFunc func(sim.Observation)

func (f observerFunc) Observe(o sim.Observation) { f(o) }

// TestPlainGuidedRunsAimCutsAtProposers: where the profile crashes no node (Raft's
// membership-churn: isolations and splits), a plain guided run is the random one up to the
// first cut of one node, which the guided chooser aims at the node that last proposed (made
// something durable on a timer or a client's request and sent it to two peers or more): the
// runs part at the node the cut hits, and that node has proposed.
func TestPlainGuidedRunsAimCutsAtProposers(t *testing.T) {
	spec, err := scenarios.Resolve("raft", "", "membership-churn", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := spec.Config()
	cfg.Trace = sim.TraceFull
	s := sim.NewSearch(cfg, 0)
	differ := 0
	for seed := uint64(0); seed < 20; seed++ {
		g, r := plainRuns(s, cfg, seed)
		if g.TraceHash == r.TraceHash {
			continue
		}
		differ++
		i := parting(g, r)
		if i == 0 || i == len(g.Choices) || i == len(r.Choices) || g.Purposes[i] != sim.Faults || g.Purposes[i-1] != sim.Faults {
			t.Fatalf("seed %d: the plain guided run leaves the random one at choice %d, not at a cut's node", seed, i)
		}
		cut, ok := firstCut(g.Trace, r.Trace)
		if !ok {
			t.Fatalf("seed %d: the runs part, but not with a cut of one node", seed)
		}
		if !proposed(g.Trace, cut) {
			t.Errorf("seed %d: the aimed cut hit n%d, which never proposed", seed, cut.Node)
		}
	}
	if differ == 0 {
		t.Error("no plain guided run of 20 aimed a cut")
	}
}

// firstCut is the first entry of guided's trace that random's lacks, if it is a partition
// that cuts one node off, with that node as its Node.
func firstCut(guided, random []sim.Entry) (sim.Entry, bool) {
	i := 0
	for i < min(len(guided), len(random)) && guided[i].What == random[i].What && guided[i].Time == random[i].Time &&
		guided[i].Node == random[i].Node && guided[i].Peer == random[i].Peer && guided[i].Msg == random[i].Msg &&
		(guided[i].What != sim.Partition || guided[i].Data == random[i].Data) { // a partition's Data is its description
		i++
	}
	if i == len(guided) || guided[i].What != sim.Partition {
		return sim.Entry{}, false
	}
	e := guided[i]
	desc, _ := e.Data.(string)
	var id int
	for _, f := range []string{"isolate n%d", "n%d cannot send", "n%d cannot receive"} {
		if n, _ := fmt.Sscanf(desc, f, &id); n == 1 && fmt.Sprintf(f, id) == desc {
			e.Node = node.ID(id)
			return e, true
		}
	}
	return sim.Entry{}, false
}

// proposed reports whether, before entry cut, its node stepped on a timer or a client's
// request and sent to two peers or more in that step.
func proposed(trace []sim.Entry, cut sim.Entry) bool {
	id := cut.Node
	for i, e := range trace {
		if e.Event >= cut.Event {
			return false
		}
		if e.Node != id || e.What != sim.Timer && e.What != sim.Request {
			continue
		}
		peers := map[node.ID]bool{}
		for _, f := range trace[i+1:] {
			if f.Event != e.Event {
				break
			}
			if f.What == sim.Send && f.Node == id {
				peers[f.Peer] = true
			}
		}
		if len(peers) >= 2 {
			return true
		}
	}
	return false
}

// parting is the index of the first choice at which runs g and r differ (the length of the
// shorter when one's choices begin the other's).
// plainRuns makes seed's plain guided run of s (a candidate without a plan) and cfg's random
// run of the same seed.
func plainRuns(s *sim.Search, cfg sim.Config, seed uint64) (guided, random sim.Result) {
	gcfg, ch, _ := s.Config(sim.Candidate{Seed: seed})
	return sim.Run(gcfg, ch), sim.Run(cfg, sim.NewSeeded(seed))
}

func parting(g, r sim.Result) int {
	i := 0
	for i < min(len(g.Choices), len(r.Choices)) && g.Choices[i] == r.Choices[i] {
		i++
	}
	return i
}

// TestPlainGuidedRunsMuteRecentSenders: in crash-restart-storm (crashes and cuts at fault
// ticks, no step crashes), a plain guided run leaves the random run of its seed, in most runs,
// with a one-way cut that stops a node sending right after it broadcast (sent to two peers or
// more in one step, at most sim.AimSent message delays before the tick), and the guided run is
// the same when made again.
func TestPlainGuidedRunsMuteRecentSenders(t *testing.T) {
	spec, err := scenarios.Resolve("raft", "figure8", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := spec.Config()
	cfg.Trace = sim.TraceFull
	window := sim.AimSent * spec.Protocol.Timing.Delay
	s := sim.NewSearch(cfg, 0)
	muted := 0
	for seed := uint64(1_000_000); seed < 1_000_020; seed++ {
		g, r := plainRuns(s, cfg, seed)
		if again, _ := plainRuns(s, cfg, seed); again.TraceHash != g.TraceHash {
			t.Fatalf("seed %d: the plain guided run differs when made again", seed)
		}
		cut, ok := firstCut(g.Trace, r.Trace)
		if !ok {
			continue // the runs part elsewhere (an aimed crash), or not at all
		}
		if desc, _ := cut.Data.(string); desc != fmt.Sprintf("n%d cannot send", cut.Node) {
			t.Errorf("seed %d: the first aimed cut is %q, not a node that cannot send", seed, desc)
			continue
		}
		if !broadcastSince(g.Trace, cut, window) {
			t.Errorf("seed %d: the aimed cut mutes n%d, which broadcast nothing in the %v before", seed, cut.Node, window)
		}
		muted++
	}
	t.Logf("%d of 20 plain guided runs part from the random ones with a muted sender", muted)
	if muted < 10 {
		t.Errorf("only %d of 20 plain guided runs part from the random ones with a muted sender", muted)
	}
}

// broadcastSince reports whether cut's node, in the window before cut, sent to two peers or
// more in one step.
func broadcastSince(trace []sim.Entry, cut sim.Entry, window time.Duration) bool {
	peers := map[int]map[node.ID]bool{}
	for _, e := range trace {
		if e.Event >= cut.Event {
			break
		}
		if e.What == sim.Send && e.Node == cut.Node && e.Time >= cut.Time-window {
			if peers[e.Event] == nil {
				peers[e.Event] = map[node.ID]bool{}
			}
			peers[e.Event][e.Peer] = true
			if len(peers[e.Event]) >= 2 {
				return true
			}
		}
	}
	return false
}
