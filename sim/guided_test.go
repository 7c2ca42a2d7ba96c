package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// faultyToy is the toy protocol on a network that drops, duplicates and reorders, with crashes
// right after steps and at fault ticks: runs with choices of every purpose.
func faultyToy() Config {
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 30 * time.Millisecond, TailProb: 0.05},
		Drop: 0.1, Duplicate: 0.1, Reorder: true, FaultEvery: 10 * time.Millisecond, Down: 5 * time.Millisecond,
		Crash: 1, Isolate: 1, MaxDown: 1, StepCrash: 0.05})
	cfg.Trace = TraceHash
	return cfg
}

func TestGuidedWithoutPlanRunsAsSeeded(t *testing.T) {
	cfg := faultyToy()
	for seed := uint64(0); seed < 20; seed++ {
		a := Run(cfg, NewSeeded(seed))
		b := Run(cfg, NewGuided(seed, nil))
		if a.TraceHash != b.TraceHash || !slices.Equal(a.Choices, b.Choices) {
			t.Fatalf("seed %d: a guided run without a plan differs from the seeded run", seed)
		}
	}
}

// observed runs cfg with a guided chooser and a coverage observer.
func observed(cfg Config, seed uint64, plan *Plan) (Result, *Guided, *Coverage) {
	cov := NewCoverage(cfg.Protocol)
	cfg.Observer = cov
	g := NewGuided(seed, plan)
	return Run(cfg, g), g, cov
}

func TestPlanOfReplaysTheRun(t *testing.T) {
	cfg := faultyToy()
	for seed := uint64(0); seed < 10; seed++ {
		r, g, cov := observed(cfg, seed, nil)
		// Another tail seed: every choice must come from the plan.
		again, _, cov2 := observed(cfg, seed+1000, PlanOf(g.Trail()))
		if again.TraceHash != r.TraceHash {
			t.Fatalf("seed %d: the plan of a run does not replay it", seed)
		}
		if !slices.Equal(cov.Features(), cov2.Features()) {
			t.Fatalf("seed %d: the same run reached other coverage", seed)
		}
	}
}

func TestMutateIsDeterministicAndChangesRuns(t *testing.T) {
	cfg := faultyToy()
	r, g, _ := observed(cfg, 3, nil)
	changed := 0
	for i := uint64(0); i < 30; i++ {
		p1, e1 := Mutate(rand.New(rand.NewPCG(i, 1)), g.Trail(), nil, MutateOptions{Profile: r.Profile})
		p2, e2 := Mutate(rand.New(rand.NewPCG(i, 1)), g.Trail(), nil, MutateOptions{Profile: r.Profile})
		a, b := Run(cfg, NewGuided(77, p1)), Run(cfg, NewGuided(77, p2))
		if a.TraceHash != b.TraceHash || !slices.Equal(e1, e2) {
			t.Fatalf("mutation %d is not deterministic", i)
		}
		if len(e1) == 0 {
			t.Fatalf("mutation %d made no edit", i)
		}
		if a.TraceHash != r.TraceHash {
			changed++
		}
	}
	if changed < 20 {
		t.Errorf("only %d of 30 mutations changed the run", changed)
	}
}

// mutatorOf is a mutator over trail t's run of profile p.
func mutatorOf(t *Trail, p Profile) *mutator {
	mu := &mutator{r: rand.New(rand.NewPCG(1, 2)), m: MutateOptions{Profile: p}, events: slices.Clone(t.Events)}
	mu.live = len(mu.events)
	mu.hi = mu.live
	return mu
}

func TestCrashAfterCrashesTheNodeRightAfterItsStep(t *testing.T) {
	cfg := faultyToy()
	r, g, _ := observed(cfg, 5, nil)
	for _, byTick := range []bool{false, true} {
		tested := false
		for i, e := range g.Trail().Events {
			if e.Kind != EvDeliver || e.At < 20*time.Millisecond {
				continue
			}
			mu := mutatorOf(g.Trail(), r.Profile)
			if byTick {
				if !mu.crashAtTick(i, e.Node) {
					t.Fatal("no fault tick to crash with")
				}
			} else if !mu.crashRightAfter(i) {
				continue // no crash draw after this step (as many nodes down as allowed)
			}
			c := cfg
			c.Trace = TraceFull
			run := Run(c, NewGuided(99, PlanOf(&Trail{Events: mu.events})))
			crashed := false
			for _, x := range run.Trace {
				if x.What == Crash && x.Node == e.Node && x.Time >= e.At && x.Time <= e.At+2*time.Millisecond {
					crashed = true
				}
			}
			if !crashed {
				t.Errorf("crash after n%d's step at %v (by tick %v): no crash of n%d right after", e.Node, e.At, byTick, e.Node)
			}
			tested = true
			break
		}
		if !tested {
			t.Errorf("no step to crash after (by tick %v)", byTick)
		}
	}
}

func TestSwapDeliveriesSwaps(t *testing.T) {
	cfg := faultyToy()
	cfg.Profile.Drop, cfg.Profile.Duplicate, cfg.Profile.Delay.TailProb = 0, 0, 0
	r, g, _ := observed(cfg, 8, nil)
	tr := g.Trail()
	for b, e := range tr.Events {
		if e.Kind != EvDeliver {
			continue
		}
		a := -1
		for j := b - 1; j >= 0; j-- {
			if x := tr.Events[j]; x.Kind == EvDeliver && x.Node == e.Node {
				a = j
				break
			}
		}
		if a < 0 || tr.Events[a].Msg == e.Msg {
			continue
		}
		mu := mutatorOf(tr, r.Profile)
		if !mu.swapPair(a, b) {
			continue
		}
		c := cfg
		c.Trace = TraceFull
		run := Run(c, NewGuided(99, PlanOf(&Trail{Events: mu.events})))
		order := map[int]int{}
		for i, x := range run.Trace {
			if x.What == Deliver && x.Node == e.Node {
				order[x.Msg] = i
			}
		}
		ia, okA := order[int(tr.Events[a].Msg)]
		ib, okB := order[int(e.Msg)]
		if okA && okB && ib > ia {
			t.Fatalf("messages %d and %d still reach n%d in the same order", tr.Events[a].Msg, e.Msg, e.Node)
		}
		return
	}
	t.Fatal("no pair of deliveries to swap")
}

func TestCoverageSeesHowFieldsChange(t *testing.T) {
	a := leaf{h: 1, num: 0, zero: true}
	b := leaf{h: 2, num: 3}
	if got := transition(a, b); got != 1|2|8 {
		t.Errorf("0 -> 3: code %b, want changed, from zero, up", got)
	}
	if got := transition(b, a); got != 1|4|16 {
		t.Errorf("3 -> 0: code %b, want changed, to zero, down", got)
	}
	if transition(b, b) != 0 {
		t.Error("an unchanged field counts as changed")
	}
	// The toy's counter goes up at every tick of node 1: a step that changes a field.
	var st node.Node = &toy{counter: 2}
	leaves := leavesOf(st, nil, false)
	if len(leaves) != 2 || leaves[1].num != 2 {
		t.Errorf("leaves of the toy: %+v", leaves)
	}
}

func TestSearchIsDeterministic(t *testing.T) {
	cfg := faultyToy()
	var runs [2][]uint64
	for i := range runs {
		s := NewSearch(cfg, 100)
		s.Sequential(40, func(c Candidate, r Result, _ int) bool {
			runs[i] = append(runs[i], r.TraceHash)
			return true
		})
		if len(s.Corpus()) == 0 {
			t.Fatal("a search kept no run")
		}
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Fatal("two searches of the same seed made different runs")
	}
	if plain := Run(cfg, NewSeeded(100)); plain.TraceHash != runs[0][0] {
		t.Error("a search's first run is not the plain run of its first seed")
	}
}

// The favoured entries are the shortest runs to each feature: a longer run that reached
// nothing shorter ones did not is not favoured, and parents come from the favoured nine
// times in ten.
func TestFavouredEntriesAreTheShortestToEachFeature(t *testing.T) {
	s := NewSearch(faultyToy(), 0)
	fold := func(k, events int, features ...uint64) *CorpusEntry {
		o := Observed{Trail: &Trail{Events: make([]TrailEvent, events)}, features: features}
		if s.Fold(Candidate{K: k}, Result{}, o) == 0 {
			t.Fatalf("run %d (features %v) did not enter the corpus", k, features)
		}
		return s.corpus[len(s.corpus)-1]
	}
	long := fold(0, 50, 1, 2)     // first to 1 and 2, but long
	short := fold(1, 10, 2, 3)    // shorter to 2
	other := fold(2, 20, 1, 4)    // shorter to 1
	again := fold(3, 30, 1, 2, 5) // first to 5: favoured for that alone
	for _, c := range []struct {
		e    *CorpusEntry
		want bool
	}{{long, false}, {short, true}, {other, true}, {again, true}} {
		if got := s.favoured(c.e); got != c.want {
			t.Errorf("entry of run %d (%d events): favoured %v, want %v", c.e.Run, len(c.e.Trail.Events), got, c.want)
		}
	}
	picked := 0
	for i := range 1000 {
		if s.pick(rand.New(rand.NewPCG(1, uint64(i)))) == long {
			picked++
		}
	}
	// Every entry has the same energy (no salient features, never picked): long is drawn only
	// in the tenth of picks made from the whole corpus, one time in four, about 25 in 1000.
	if picked == 0 || picked > 60 {
		t.Errorf("the entry favoured for nothing was picked %d times in 1000, want about 25", picked)
	}
}

// With an abstract state, what a node forgot on a restart is still coverage (the toy's
// counter, never read back from storage, drops to zero), and how its fields change in other
// steps is not.
func TestRestartFieldsAreCoverageBesideAnAbstractState(t *testing.T) {
	p := *toyProtocol
	p.Abstract = func(node.World) any { return 0 }
	cfg := faultyToy()
	cfg.Protocol = &p
	forgot := 0
	for seed := uint64(0); seed < 40; seed++ {
		_, _, cov := observed(cfg, seed, nil)
		for f, tag := range cov.tags {
			switch tag {
			case ftField:
				t.Fatalf("seed %d: a field feature of an ordinary step (%x) beside an abstract state", seed, f)
			case ftRestart:
				if !slices.Contains(cov.Features(), f^bucket(cov.hits[f])*0x9e3779b97f4a7c15) {
					t.Fatalf("seed %d: a restart's field feature is not among the corpus features", seed)
				}
				forgot++
			}
		}
	}
	if forgot == 0 {
		t.Fatal("in 40 seeds with crashes, no restart showed the toy's counter forgotten")
	}
}

// The share of plain runs follows the two kinds' recent yields of new coverage, within its
// bounds.
func TestPlainShareFollowsTheYields(t *testing.T) {
	plainShareFollows(t, faultyToy(), int64(PlainMin*(1<<16)))
}

// plainShareFollows checks a search's plain share from lo up, as the yields go.
func plainShareFollows(t *testing.T, cfg Config, lo int64) {
	s := NewSearch(cfg, 0)
	hi := int64(PlainMax * (1 << 16))
	if got := s.plainShare(); got != lo {
		t.Errorf("with nothing known, plain share %v, want %v", got, lo)
	}
	plain, mutated := Candidate{K: 1}, Candidate{K: 2, Plan: &Plan{}}
	for i := range 300 {
		s.yield(plain, false)
		s.yield(mutated, i%2 == 0) // mutants find something every other run, fresh seeds never
	}
	if got := s.plainShare(); got != lo {
		t.Errorf("mutants finding more: plain share %v, want %v", got, lo)
	}
	for range 600 {
		s.yield(plain, true)
		s.yield(mutated, false)
	}
	if got := s.plainShare(); got < hi*97/100 || got > hi {
		t.Errorf("fresh seeds finding more: plain share %v, want about %v", got, hi)
	}
	s.yield(Candidate{K: -1, Plan: &Plan{}}, true) // a run from elsewhere counts for neither
	if got := s.plainShare(); got < hi*97/100 || got > hi {
		t.Errorf("after a run added from elsewhere: plain share %v, want about %v", got, hi)
	}
}

// TestTickKind: the aim reads which kind of fault a tick drew as World.faultTick does, from
// the profile's weights, skipping the kinds the moment rules out.
func TestTickKind(t *testing.T) {
	cfg := faultyToy() // Crash 1, Isolate 1: draws 1 crash, 2 isolate
	w := newWorld(cfg, NewSeeded(1), false)
	w.profile = cfg.Profile
	for _, c := range []struct {
		down, cut bool
		v, want   int
	}{
		{false, false, 0, -1}, {false, false, 1, kindCrash}, {false, false, 2, kindIsolate}, {false, false, 3, -1},
		{true, false, 1, kindIsolate}, // as many down as allowed: no crash, isolations first
		{false, true, 1, kindCrash}, {false, true, 2, -1},
	} {
		for _, s := range w.nodes {
			s.up = true
		}
		if c.down {
			w.nodes[0].up = false
		}
		w.partitionOn = c.cut
		if got := tickKind(w, c.v); got != c.want {
			t.Errorf("down %v, partitioned %v: draw %d is kind %d, want %d", c.down, c.cut, c.v, got, c.want)
		}
	}
}

// TestAnswersAndProposals: what the aim counts as an answer (a message handled, a reply to
// its sender and to nobody else) and as a proposal (sent to two peers or more).
func TestAnswersAndProposals(t *testing.T) {
	deliver := Entry{What: Deliver, Node: 2, Peer: 1, Data: "vote?"}
	send := func(to node.ID) Entry { return Entry{What: Send, Node: 2, Peer: to, Data: "ok"} }
	for _, c := range []struct {
		name     string
		entries  []Entry
		answered bool
		many     bool
	}{
		{"answer", []Entry{deliver, send(1)}, true, false},
		{"answer twice", []Entry{deliver, send(1), send(1)}, true, false},
		{"answer and tell another", []Entry{deliver, send(1), send(3)}, false, true},
		{"tell another only", []Entry{deliver, send(3)}, false, false},
		{"nothing sent", []Entry{deliver}, false, false},
		{"broadcast on a timer", []Entry{{What: Timer, Node: 2}, send(1), send(3), send(4)}, false, true},
		{"another node's sends", []Entry{deliver, {What: Send, Node: 3, Peer: 4}}, false, false},
	} {
		kind, ok := answeredOnly(c.entries, 2)
		if ok != c.answered || ok && kind != msgKind("vote?") {
			t.Errorf("%s: answered %v (kind %x), want %v", c.name, ok, kind, c.answered)
		}
		if got := sentToMany(c.entries, 2); got != c.many {
			t.Errorf("%s: sent to many %v, want %v", c.name, got, c.many)
		}
	}
}

// TestKindValue: the aim picks a kind of fault by the first draw World.faultTick reads as
// that kind, and none the moment rules out (a kind of weight zero, a cut while a partition is
// on).
func TestKindValue(t *testing.T) {
	cfg := faultyToy() // Crash 1, Isolate 1
	cfg.Profile.OneWay = 2
	w := newWorld(cfg, NewSeeded(1), false)
	w.profile = cfg.Profile
	for _, s := range w.nodes {
		s.up = true
	}
	for _, c := range []struct {
		cut        bool
		kind, want int
	}{
		{false, kindCrash, 1}, {false, kindPause, 0}, {false, kindIsolate, 2}, {false, kindOneWay, 3},
		{false, kindPartial, 0}, {true, kindOneWay, 0}, {true, kindCrash, 1},
	} {
		w.partitionOn = c.cut
		got := kindValue(w, c.kind)
		if got != c.want {
			t.Errorf("partitioned %v: kind %d is drawn by %d, want %d", c.cut, c.kind, got, c.want)
		}
		if got > 0 && tickKind(w, got) != c.kind {
			t.Errorf("partitioned %v: draw %d is kind %d, not %d", c.cut, got, tickKind(w, got), c.kind)
		}
	}
}
