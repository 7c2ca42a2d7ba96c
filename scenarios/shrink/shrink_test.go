package shrink

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// failing returns the first seed of spec whose run violates property, and its run.
func failing(t *testing.T, spec *scenarios.Spec, property string, seeds int) (uint64, sim.Result) {
	t.Helper()
	for seed := uint64(0); seed < uint64(seeds); seed++ {
		if r := spec.Run(seed); r.Violation != nil && r.Violation.Property == property {
			return seed, r
		}
	}
	t.Fatalf("no seed of %s violates %s", spec.Name(), property)
	return 0, sim.Result{}
}

func resolve(t *testing.T, bug string) *scenarios.Spec {
	t.Helper()
	spec, err := scenarios.Resolve("paxos", bug, "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestShrinkNoPersist: the first no-persist failure of a campaign shrinks to a handful of
// events and faults, and the result replays, as a capsule, to the same violation.
func TestShrinkNoPersist(t *testing.T) {
	spec := resolve(t, "no-persist")
	seed, r := failing(t, spec, "agreement", 2000)
	res, err := Run(context.Background(), spec, r.Choices, "agreement", Options{Deadline: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %s -> %s in %d runs", seed, res.Before, res.After, res.Runs)
	if res.After.Events > 60 || res.After.Faults > 3 {
		t.Errorf("shrunk to %s, want at most 60 events and 3 faults", res.After)
	}
	if res.After.Events > res.Before.Events || res.After.Faults > res.Before.Faults || res.After.Requests > res.Before.Requests {
		t.Errorf("the shrunk failure is not smaller: %s, then %s", res.Before, res.After)
	}
	assertReplays(t, res.Capsule(seed), "agreement")
}

// TestShrinkNoRetry: a liveness failure shrinks too, by its fault phase and its clients.
func TestShrinkNoRetry(t *testing.T) {
	spec := resolve(t, "no-retry")
	seed, r := failing(t, spec, checker.PropProgress, 200)
	res, err := Run(context.Background(), spec, r.Choices, checker.PropProgress, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %s -> %s in %d runs", seed, res.Before, res.After, res.Runs)
	if res.After.Faults > 2 || res.After.Events >= res.Before.Events || res.After.Clients >= res.Before.Clients {
		t.Errorf("shrunk %s to only %s", res.Before, res.After)
	}
	assertReplays(t, res.Capsule(seed), checker.PropProgress)
}

// assertReplays writes and reads c back, replays it from its choices alone, and checks it
// gives its trace and violates property.
func assertReplays(t *testing.T, c *capsule.Capsule, property string) {
	t.Helper()
	path := t.TempDir() + "/min.capsule"
	if err := capsule.Write(path, c); err != nil {
		t.Fatal(err)
	}
	back, err := capsule.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := scenarios.FromCapsule(back)
	if err != nil {
		t.Fatal(err)
	}
	r, rec := spec.Replay(back.Choices)
	if r.Violation == nil || r.Violation.Property != property || back.Property != property {
		t.Fatalf("the shrunk capsule replays to %v, want %s", r.Violation, property)
	}
	if r.TraceHash != back.TraceHash || rec.Diverged() {
		t.Fatalf("the shrunk capsule replays to trace %016x (diverged %v), recorded %016x", r.TraceHash, rec.Diverged(), back.TraceHash)
	}
	if back.Source != "shrink" {
		t.Errorf("source %q, want shrink", back.Source)
	}
}

func TestShrinkRefusesWhatItCannotShrink(t *testing.T) {
	spec := resolve(t, "no-persist")
	r := spec.Run(0)
	if r.Violation != nil {
		t.Fatal("seed 0 fails; pick a passing seed")
	}
	c := spec.Capsule(0, r, "run")
	if _, err := Capsule(context.Background(), c, Options{}); !errors.Is(err, ErrNoViolation) {
		t.Errorf("a capsule without a violation: %v, want ErrNoViolation", err)
	}
	c.Property = "agreement" // recorded, but the run does not fail
	if _, err := Capsule(context.Background(), c, Options{}); err == nil || !strings.Contains(err.Error(), "does not fail") {
		t.Errorf("a capsule that does not reproduce: %v", err)
	}
	_, bad := failing(t, spec, "agreement", 2000)
	if _, err := Run(context.Background(), spec, bad.Choices, "validity", Options{}); err == nil || !strings.Contains(err.Error(), "now fails agreement") {
		t.Errorf("a capsule that fails another property: %v", err)
	}
}

func TestShrinkStopsAtTheDeadline(t *testing.T) {
	spec := resolve(t, "no-persist")
	_, r := failing(t, spec, "agreement", 2000)
	res, err := Run(context.Background(), spec, r.Choices, "agreement", Options{Deadline: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Runs > 2 || res.After != res.Before {
		t.Errorf("past its deadline the shrinker went on: %d runs, complete %v", res.Runs, res.Complete)
	}
}

// TestKeyedChooser: replaying a run's keyed choices gives the same run, and editing one
// event's choices leaves every other event's choices where they were.
func TestKeyedChooser(t *testing.T) {
	spec := resolve(t, "")
	cfg := spec.Config()
	k := newKeyed(nil, nil)
	k.inner = sim.NewSeeded(3)
	a := sim.Run(cfg, k)
	again := newKeyed(k.made, nil)
	b := sim.Run(cfg, again)
	if a.TraceHash != b.TraceHash {
		t.Fatal("replaying the keyed choices changed the run")
	}
	// Delete one network choice of one event: the other events' choices are unchanged.
	net := k.made[sim.Network]
	i := len(net) / 2
	streams := map[sim.Purpose][]slot{}
	for p, seq := range k.made {
		streams[p] = seq
	}
	streams[sim.Network] = cut(net, i, i+1)
	edited := newKeyed(streams, nil)
	first := map[occurrence][]int32{}
	for _, x := range net {
		first[x.g] = append(first[x.g], x.v)
	}
	plan := edited.plan
	changed := 0
	for g, vs := range first {
		got := plan[g][sim.Network]
		if !equal(got, vs) {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("deleting one choice changed the plan of %d events, want 1", changed)
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEdits(t *testing.T) {
	g := occurrence{key: 1}
	seq := func(vs ...int32) []slot {
		out := make([]slot, len(vs))
		for i, v := range vs {
			out[i] = slot{g: g, v: v}
		}
		return out
	}
	vals := func(s []slot) []int32 {
		var out []int32
		for _, x := range s {
			out = append(out, x.v)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		got  []slot
		want []int32
	}{
		{"cut", cut(seq(1, 2, 3, 4), 1, 3), []int32{1, 4}},
		{"zeroed", zeroed(seq(1, 2, 3, 4), 1, 3), []int32{1, 0, 0, 4}},
		{"realign drop", realign(seq(5, 1, 2, 3), 0, 2, nil), []int32{0, 3}},
		{"realign insert", realign(seq(5, 1, 2), 0, 0, []int32{0, -1}), []int32{0, 0, -1, 1, 2}},
		{"realign at the end", realign(seq(1, 5), 1, 4, nil), []int32{1, 0}},
	} {
		if !equal(vals(tc.got), tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, vals(tc.got), tc.want)
		}
	}
	if fewer(3)[0] != 1 || len(fewer(1)) != 0 || fewer(100)[len(fewer(100))-1] != 99 {
		t.Errorf("fewer: %v %v %v", fewer(3), fewer(1), fewer(100))
	}
}

// slowRuns counts the runs of the slow protocol: every run after the first two (the recorded
// failure and its keyed rerun) takes a second in its first step, as a step that an edit led
// into a loop would take for ever.
var slowRuns atomic.Int32

type slowNode struct{}

func (slowNode) Start(env node.Env) {
	if env.Self() == 1 {
		if slowRuns.Add(1) > 2 {
			time.Sleep(time.Second)
		}
		env.SetTimer("t", time.Millisecond, time.Millisecond)
	}
}
func (slowNode) Receive(node.Env, node.ID, node.Message) {}
func (slowNode) Timer(env node.Env, _ string)            { env.Output(1) }
func (slowNode) Request(node.Env, node.Request)          {}

// A candidate run that does not finish (an edit of the choices led a step into a loop without
// end) ends the search with the smallest failure so far, and says so, instead of hanging the
// shrink past its deadline.
func TestShrinkStopsAtAHungRun(t *testing.T) {
	p := &node.Protocol{Name: "slow", Summary: "a test protocol whose later runs hang", New: func(node.Config, node.ID) node.Node { return slowNode{} },
		DefaultN: 3, MinN: 1, Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		Invariants: []node.Invariant{{Name: "no-output", Check: func(w node.World) error {
			if len(w.NewOutputs()) > 0 {
				return errors.New("an output")
			}
			return nil
		}}}}
	spec, err := scenarios.New(p, scenarios.Options{Scenario: "calm"})
	if err != nil {
		t.Fatal(err)
	}
	slowRuns.Store(0)
	r := spec.Run(0)
	slowRuns.Store(0)
	if r.Violation == nil {
		t.Fatal("no violation")
	}
	start := time.Now()
	res, err := Run(context.Background(), spec, r.Choices, r.Violation.Property,
		Options{Deadline: start.Add(time.Minute), RunTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Hung || res.Complete || time.Since(start) > 20*time.Second {
		t.Errorf("hung %v, complete %v, after %v", res.Hung, res.Complete, time.Since(start))
	}
}
