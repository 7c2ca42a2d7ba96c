package links_test

import (
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/links"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

// chatter is the harness above the links: every node sends numbered notes to peers it
// draws, every few milliseconds, and outputs each note it gets.
type chatter struct{ Sent int }

type note struct {
	From node.ID
	N    int
}

const notes = 30

func (c *chatter) Start(env node.Env) { env.SetTimer("talk", 5*time.Millisecond, 15*time.Millisecond) }
func (c *chatter) Timer(env node.Env, name string) {
	if c.Sent++; c.Sent > notes {
		return
	}
	to := env.Nodes()[env.Choose(len(env.Nodes()))]
	env.Send(to, note{From: env.Self(), N: c.Sent})
	env.SetTimer("talk", 5*time.Millisecond, 15*time.Millisecond)
}
func (c *chatter) Receive(env node.Env, from node.ID, m node.Message) { env.Output(m) }
func (c *chatter) Request(node.Env, node.Request)                     {}

// harness is chatter over perfect links.
var harness = node.Compose(&node.Protocol{Name: "chatter", DefaultN: 3, MinN: 2,
	Quorum: func(n int) int { return n/2 + 1 },
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond}},
	node.Part{Module: &node.Module{Name: "chatter", New: func(node.Config, node.ID) node.Node { return &chatter{} }}, Over: "links"},
	node.Part{Path: "links", Module: links.Module})

func spec(t *testing.T, bug, scenario string) *scenarios.Spec {
	t.Helper()
	if err := harness.Validate(); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		t.Fatal(err)
	}
	return &scenarios.Spec{Protocol: harness, Bug: bug, Scenario: sc, Cluster: node.Config{N: 3, Bug: bug}}
}

func TestPerfectLinksHoldOverALossyNetwork(t *testing.T) {
	for _, sc := range []string{"default", "crash-restart", "lossy-crash"} {
		if seed, r, failed := simtest.Find(spec(t, "", sc), simtest.Seeds(12)); failed {
			t.Errorf("%s seed %d: %v", sc, seed, r.Violation)
		}
	}
}

func TestEveryNoteArrivesOnceWhenNothingCrashes(t *testing.T) {
	// Lossy, duplicating and reordering, but no crash: every note arrives, exactly once.
	s := spec(t, "", "default")
	sc := *s.Scenario
	base := sc.Profile
	sc.Profile = func(t node.Timing) (p simProfile) {
		p = base(t)
		p.Crash, p.StepCrash, p.Pause = 0, 0, 0
		return p
	}
	s.Scenario = &sc
	for seed := uint64(1); seed <= 20; seed++ {
		w, r := simulate(s, seed)
		if r.Violation != nil {
			t.Fatalf("seed %d: %v", seed, r.Violation)
		}
		got := map[note]int{}
		for _, n := range outputsOf[note](w) {
			got[n]++
		}
		if len(got) != 3*notes {
			t.Errorf("seed %d: %d distinct notes delivered, want %d", seed, len(got), 3*notes)
		}
		for n, c := range got {
			if c != 1 {
				t.Errorf("seed %d: note %v delivered %d times", seed, n, c)
			}
		}
	}
}

func TestNoDedupIsFound(t *testing.T) {
	seed, r, found := simtest.Find(spec(t, links.BugNoDedup, "default"), simtest.Seeds(200))
	if !found || r.Violation.Property != "links/no-duplication" {
		t.Fatalf("no-dedup: found %v (seed %d): %v", found, seed, r.Violation)
	}
}
