package sim_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// A random walk's step (Walk, for the explorer's probe) is one of Next's successors, and
// where a state has few successors, walking from it many times reaches each of them: the
// walk draws every action, and every choice a step makes (the gossip test protocol's
// Byzantine mutator makes one).
func TestUntimedWalkTakesNextsSteps(t *testing.T) {
	worlds := map[string]*sim.Untimed{
		"paxos": paxosUntimed(""),
		"gossip byzantine": sim.NewUntimed(gossipProtocol, node.Config{N: 4, F: 1},
			sim.UntimedOptions{Faulty: []node.ID{4}, Byzantine: 2}),
	}
	for name, u := range worlds {
		start := time.Now()
		rng := rand.New(rand.NewPCG(1, 2))
		pick := func(n int) int { return rng.IntN(n) }
		full := 0
		init := u.Init()[0] // gossip has 65,536 initial states, made in a second
		for w := 0; w < 10; w++ {
			s := init
			for depth := 0; depth < 15; depth++ {
				succ := map[uint64]bool{}
				u.Next(s, func(_ int, next *sim.UState) bool {
					succ[u.Fingerprint(next)] = true
					return true
				})
				next, ok := u.Walk(s, pick)
				if ok != (len(succ) > 0) {
					t.Fatalf("%s: Walk says %v where Next has %d successors", name, ok, len(succ))
				}
				if !ok {
					break
				}
				if !succ[u.Fingerprint(next)] {
					t.Fatalf("%s: walk %d step %d is none of Next's successors", name, w, depth)
				}
				if len(succ) <= 40 && w < 2 {
					seen := map[uint64]bool{}
					for range 2000 {
						n, _ := u.Walk(s, pick)
						seen[u.Fingerprint(n)] = true
					}
					if len(seen) != len(succ) {
						t.Errorf("%s: from a state with %d successors, 2000 walks reach %d", name, len(succ), len(seen))
					}
					full++
				}
				s = next
			}
		}
		t.Logf("%s: %v", name, time.Since(start))
		if full == 0 {
			t.Errorf("%s: no state with few successors was tried", name)
		}
	}
}
