package sim_test

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
)

// bfs is a plain breadth-first search over the untimed world, independent of the explorer
// package, so that the world's transition relation is tested on its own.
func bfs(u *sim.Untimed, limit int) (states int, violation []int, property string) {
	type entry struct {
		s    *sim.UState
		path []int
	}
	seen := map[uint64]bool{}
	frontier := []entry{}
	for _, s := range u.Init() {
		seen[u.Fingerprint(s)] = true
		frontier = append(frontier, entry{s, nil})
	}
	for len(frontier) > 0 && len(seen) < limit {
		var next []entry
		for _, e := range frontier {
			if p := u.Violated(e.s); p != "" {
				return len(seen), e.path, p
			}
			u.Next(e.s, func(a int, s *sim.UState) bool {
				if fp := u.Fingerprint(s); !seen[fp] {
					seen[fp] = true
					next = append(next, entry{s, append(append([]int(nil), e.path...), a)})
				}
				return true
			})
		}
		frontier = next
	}
	return len(seen), nil, ""
}

func paxosConfig(bug string) node.Config {
	return node.Config{N: 3, Bug: bug, Params: paxos.Protocol.Explore.Params}
}

func TestUntimedPaxosNoPersistHasAShortCounterexample(t *testing.T) {
	opts := sim.UntimedOptions{Crashes: 1, Requests: 2}
	u := sim.NewUntimed(paxos.Protocol, paxosConfig(paxos.BugNoPersist), opts)
	n, path, prop := bfs(u, 2_000_000)
	if path == nil {
		t.Fatalf("no counterexample among %d states", n)
	}
	if prop != "agreement" {
		t.Fatalf("violated %s, want agreement", prop)
	}
	r, err := u.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil || r.Violation.Property != "agreement" || r.Steps != len(path) {
		t.Fatalf("replaying the %d-step path: %+v", len(path), r.Violation)
	}
	again, _ := u.Replay(path)
	if again.TraceHash != r.TraceHash {
		t.Error("two replays of one path give different traces")
	}
	t.Logf("counterexample of %d steps after %d states: %s", len(path), n, r.Violation.Message)
}

func TestUntimedNextIsDeterministic(t *testing.T) {
	u := sim.NewUntimed(paxos.Protocol, paxosConfig(""), sim.UntimedOptions{Crashes: 1, Requests: 2})
	s := u.Init()[0]
	for depth := 0; depth < 8; depth++ {
		var a, b []uint64
		var first *sim.UState
		u.Next(s, func(_ int, n *sim.UState) bool {
			a = append(a, u.Fingerprint(n))
			if first == nil {
				first = n
			}
			return true
		})
		u.Next(s, func(_ int, n *sim.UState) bool { b = append(b, u.Fingerprint(n)); return true })
		if len(a) == 0 {
			return
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("depth %d: successor %d differs between two expansions", depth, i)
			}
		}
		s = first
	}
}
