package abd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/abd"
	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	s, err := scenarios.Resolve("abd", bug, scenario, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCorrectABDHoldsInEveryScenario(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "lossy-crash", "swarm", "calm"} {
		s := spec(t, "", sc)
		if seed, r, failed := simtest.Find(s, simtest.Seeds(40)); failed {
			t.Errorf("scenario %s, seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestNoWritebackIsNotLinearizable(t *testing.T) {
	s := spec(t, abd.BugNoWriteback, "")
	seed, r, failed := simtest.Find(s, simtest.Seeds(2000))
	if !failed {
		t.Fatal("no-writeback was not found in 2000 seeds")
	}
	if r.Violation.Property != checker.PropLinearizable {
		t.Fatalf("seed %d: violation %v, want %s", seed, r.Violation, checker.PropLinearizable)
	}
	// The same choices against the correct protocol: the bug, not the schedule, is at fault.
	fixed := spec(t, "", s.Scenario.Name)
	if res, _ := fixed.Replay(r.Choices); res.Violation != nil {
		t.Errorf("the correct protocol also fails on seed %d's schedule: %v", seed, res.Violation)
	}
}

func TestNoGCOutgrowsItsBound(t *testing.T) {
	s := spec(t, abd.BugNoGC, "")
	seed, r, failed := simtest.Find(s, simtest.Seeds(100))
	if !failed {
		t.Fatal("no-gc was not found in 100 seeds")
	}
	if r.Violation.Property != checker.PropMemory || !strings.Contains(r.Violation.Message, "state size") ||
		len(r.Violation.Details) == 0 {
		t.Errorf("seed %d: violation %v, want a memory bound with its growth curve", seed, r.Violation)
	}
}

func TestTagsOrderByTimestampThenWriter(t *testing.T) {
	tags := []abd.Tag{{}, {TS: 1, Writer: 2}, {TS: 1, Writer: 3}, {TS: 2, Writer: 1}}
	for i := range tags {
		for j := range tags {
			if got := tags[i].Less(tags[j]); got != (i < j) {
				t.Errorf("%v.Less(%v) = %v", tags[i], tags[j], got)
			}
		}
	}
}

// world is a node.World of given node states, for checking properties by hand.
type world struct{ states []node.Node }

func (w world) Config() node.Config           { return node.Config{N: len(w.states)} }
func (w world) Now() time.Duration            { return 0 }
func (w world) State(id node.ID) node.Node    { return w.states[id-1] }
func (w world) Correct(node.ID) bool          { return true }
func (w world) Outputs() []node.Output        { return nil }
func (w world) NewOutputs() []node.Output     { return nil }
func (w world) History() []node.Op            { return nil }
func (w world) Up(node.ID) bool               { return true }
func (w world) Healed() (bool, time.Duration) { return false, 0 }

// holding returns a node that holds value under tag, by delivering an Update to it.
func holding(tag abd.Tag, value int) node.Node {
	n := abd.New(node.Config{N: 3}, 1)
	n.Receive(nopEnv{}, 2, abd.Update{Tag: tag, Value: value})
	return n
}

func TestOneValuePerTag(t *testing.T) {
	inv := abd.Protocol.Invariants[0]
	tag := abd.Tag{TS: 3, Writer: 1}
	if err := inv.Check(world{[]node.Node{holding(tag, 5), holding(tag, 5), nil}}); err != nil {
		t.Errorf("two copies of one write: %v", err)
	}
	err := inv.Check(world{[]node.Node{holding(tag, 5), nil, holding(tag, 6)}})
	if err == nil || !strings.Contains(err.Error(), "both under tag 3.1") {
		t.Errorf("two writes under one tag: %v", err)
	}
}

func TestWorkloadSpeaksTheRegistersTypes(t *testing.T) {
	wl := abd.Protocol.Workload
	if wl.Spec != kv.Register || wl.Attempts != 1 {
		t.Fatalf("spec %s, attempts %d", wl.Spec.Name, wl.Attempts)
	}
	seen := map[kv.Kind]bool{}
	for i := range 10 {
		op := wl.Next(3, 7, func(n int) int { return i % n }).(kv.Op)
		seen[op.Kind] = true
		if op.Key != "" || op.Kind == kv.Put && op.Value != 3007 {
			t.Errorf("operation %v: want key \"\" and the value 3007 for a write", op)
		}
	}
	if !seen[kv.Get] || !seen[kv.Put] {
		t.Errorf("the workload draws only %v", seen)
	}
}

// nopEnv is an Env that ignores every effect.
type nopEnv struct{}

func (nopEnv) Self() node.ID                                 { return 1 }
func (nopEnv) Nodes() []node.ID                              { return []node.ID{1, 2, 3} }
func (nopEnv) Send(node.ID, node.Message)                    {}
func (nopEnv) Broadcast(node.Message)                        {}
func (nopEnv) SetTimer(string, time.Duration, time.Duration) {}
func (nopEnv) CancelTimer(string)                            {}
func (nopEnv) Store(string, any)                             {}
func (nopEnv) Load(string) (any, bool)                       { return nil, false }
func (nopEnv) Sync()                                         {}
func (nopEnv) Output(any)                                    {}
func (nopEnv) Reply(node.Request, any)                       {}
func (nopEnv) Choose(int) int                                { return 0 }
