package campaign

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
)

func seeds(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i)
	}
	return s
}

func run(t *testing.T, c *Campaign) Summary {
	t.Helper()
	return c.Run(context.Background())
}

func paxosSpec(t *testing.T, bug string) *scenarios.Spec {
	s, err := scenarios.Resolve("paxos", bug, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var ignoreWall = cmpopts.IgnoreFields(Summary{}, "Wall")

func TestSummaryDoesNotDependOnWorkersOrGOMAXPROCS(t *testing.T) {
	spec := paxosSpec(t, paxos.BugNoPersist)
	base := run(t, &Campaign{Spec: spec, Seeds: seeds(300), Workers: 1})
	if base.SeedsRun != 300 || base.Failures == 0 && base.Events == 0 {
		t.Fatalf("implausible summary: %+v", base)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, workers := range []int{1, 2, 7} {
			got := run(t, &Campaign{Spec: spec, Seeds: seeds(300), Workers: workers})
			if diff := cmp.Diff(base, got, ignoreWall); diff != "" {
				t.Errorf("GOMAXPROCS=%d workers=%d: summary differs (-1 worker +these):\n%s", procs, workers, diff)
			}
		}
	}
}

func TestCheckDeterminismPasses(t *testing.T) {
	s := run(t, &Campaign{Spec: paxosSpec(t, ""), Seeds: seeds(500), CheckDeterminism: true})
	if s.Failures != 0 {
		t.Fatalf("-check-determinism failed on correct paxos: %+v", s.Violations)
	}
}

// leaky is a protocol that lets something outside the chooser reach its run: a shared
// random number generator, as a careless protocol might use math/rand.
type leaky struct{}

var shared = rand.New(rand.NewPCG(1, 2))

func (l *leaky) Start(env node.Env)                      { env.Output(shared.IntN(1000)) }
func (l *leaky) Receive(node.Env, node.ID, node.Message) {}
func (l *leaky) Timer(node.Env, string)                  {}
func (l *leaky) Request(env node.Env, req node.Request)  { env.Reply(req, paxos.Value(1)) }

func TestCheckDeterminismCatchesALeak(t *testing.T) {
	p := *paxos.Protocol
	p.Invariants, p.Progress, p.Sometimes, p.Workload = nil, nil, nil, nil
	p.New = func(cfg node.Config, id node.ID) node.Node { return &leaky{} }
	spec := paxosSpec(t, "")
	spec.Protocol = &p
	s := run(t, &Campaign{Spec: spec, Seeds: seeds(20), Workers: 1, CheckDeterminism: true})
	if s.Failures == 0 || s.Violations[0].Property != PropDeterminism {
		t.Fatalf("a protocol using a shared random generator passed -check-determinism: %+v", s)
	}
}

func TestSummarizeIgnoresResultOrder(t *testing.T) {
	spec := paxosSpec(t, paxos.BugNoPersist)
	var rs []Result
	c := &Campaign{Spec: spec, Seeds: seeds(200), Workers: 2, OnResult: func(r Result) { rs = append(rs, r) }}
	want := run(t, c)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
	got := Summarize(c.Head(), rs, 0)
	if diff := cmp.Diff(want, got, ignoreWall); diff != "" {
		t.Errorf("summary of shuffled results differs:\n%s", diff)
	}
}

// hang loops forever inside a step without any effect: only the watchdog can catch it.
type hang struct{ leaky }

func (h *hang) Start(env node.Env) {
	for {
		runtime.Gosched()
	}
}

func TestAHungSeedIsAFailureNotAHungCampaign(t *testing.T) {
	p := *paxos.Protocol
	p.New = func(cfg node.Config, id node.ID) node.Node { return &hang{} }
	spec := paxosSpec(t, "")
	spec.Protocol = &p
	s := run(t, &Campaign{Spec: spec, Seeds: seeds(2), Workers: 2, SeedTimeout: 100 * time.Millisecond})
	if s.Failures != 2 || s.Violations[0].Property != PropHang {
		t.Fatalf("hung seeds: %+v", s)
	}
}

// After a seed hangs, a campaign (plain or guided, through a Runner) starts no more seeds:
// the stuck goroutine keeps its core. It says where the run was stuck, counts the hung run
// apart and does not judge its coverage.
func TestAHungSeedStopsTheCampaign(t *testing.T) {
	p := *paxos.Protocol
	p.New = func(cfg node.Config, id node.ID) node.Node { return &hang{} }
	spec := paxosSpec(t, "")
	spec.Protocol = &p
	for _, guided := range []bool{false, true} {
		c := &Campaign{Spec: spec, Workers: 1, SeedTimeout: 100 * time.Millisecond, Guided: guided}
		r, err := c.Prepare(Plan{Count: 20, First: 5})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if rep.SeedsRun != 1 || rep.Hung != 1 || rep.StoppedByHang == nil || *rep.StoppedByHang != (HangStop{Seed: 5, NotRun: 19}) ||
			!rep.CoverageNotJudged || len(rep.CoverageFailures) != 0 || len(rep.NeverFired) != 0 || rep.Interrupted || !rep.Failed() {
			t.Fatalf("guided %v: %+v", guided, rep.Summary)
		}
		v := rep.Violations[0]
		if v.Property != PropHang || v.Seed != 5 || v.Time != 0 || v.Event != 0 ||
			!strings.Contains(v.Message, "n1's step did not return within 100ms of wall time, in event 0 at 0.000ms, n1: start: it loops in github.com/replica-io/replica/scenarios/campaign.(*hang).Start") ||
			len(v.Details) < 2 {
			t.Errorf("guided %v: violation %+v", guided, v)
		}
	}
}

func TestCancelledCampaignIsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	c := &Campaign{Spec: paxosSpec(t, ""), Seeds: seeds(100000), Workers: 1, OnResult: func(Result) {
		if n++; n == 10 {
			cancel()
		}
	}}
	s := c.Run(ctx)
	if !s.Interrupted || s.SeedsRun < 10 || s.SeedsRun > 20 {
		t.Errorf("cancelled after 10 seeds: interrupted=%v seeds_run=%d", s.Interrupted, s.SeedsRun)
	}
}

// A bug that fails in every seed gets capsules for the first Capsules failing seeds only,
// over every batch a Runner gives the campaign; every failure is still counted and listed.
func TestCapsulesAreBounded(t *testing.T) {
	p := *paxos.Protocol
	p.Invariants = append([]node.Invariant{{Name: "never", Check: func(node.World) error {
		return errors.New("fails at once")
	}}}, p.Invariants...)
	spec := paxosSpec(t, "")
	spec.Protocol = &p
	dir := t.TempDir()
	c := &Campaign{Spec: spec, Seeds: seeds(6), Workers: 2, OutDir: dir, Capsules: 3}
	s := run(t, c)
	c.Seeds = []uint64{6, 7}
	s2 := run(t, c) // a second batch: the bound holds across them
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.capsule"))
	if s.Failures != 6 || s2.Failures != 2 || len(s.FailingSeeds) != 6 {
		t.Fatalf("failures %d and %d, listed %v: every seed must fail and be listed", s.Failures, s2.Failures, s.FailingSeeds)
	}
	if len(files) != 3 || len(s.Capsules)+len(s2.Capsules) != 3 {
		t.Fatalf("%d capsule files, summaries list %v and %v: want 3", len(files), s.Capsules, s2.Capsules)
	}
}
