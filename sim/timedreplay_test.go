package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// front is a tiny replicated counter for exercising the clients: node 1 serves, and the
// others decline, naming it; with serveAll every node serves, and clients want Matching
// answers. It keeps its count durably, so a crash loses nothing.
type front struct{ Count int }

type frontOp struct{ Add int }

func (f *front) Start(env node.Env) {
	if v, ok := env.Load("count"); ok {
		f.Count = v.(int)
	}
}
func (f *front) Receive(node.Env, node.ID, node.Message) {}
func (f *front) Timer(node.Env, string)                  {}
func (f *front) Request(env node.Env, req node.Request) {
	if env.Self() != 1 && !serveAll(env) {
		env.Reply(req, "not the leader")
		return
	}
	f.Count += req.Op.(frontOp).Add
	env.Store("count", f.Count)
	env.Sync()
	env.Reply(req, f.Count)
}

// serveAll is read from the cluster's size: a cluster of 4 serves at every node.
func serveAll(env node.Env) bool { return len(env.Nodes()) == 4 }

func frontProtocol(n int) *node.Protocol {
	wl := &node.Workload{Clients: 2, Ops: 2, Timeout: 50 * time.Millisecond, Attempts: 2,
		Next: func(c node.ClientID, seq int, choose func(int) int) any { return frontOp{Add: 1 + choose(2)} },
		Result: func(reply any) (any, bool, node.ID) {
			if s, ok := reply.(string); ok && s == "not the leader" {
				return nil, false, 1
			}
			return reply, true, 0
		}}
	if n == 4 {
		wl.Matching = func(node.Config) int { return 2 }
	}
	return &node.Protocol{Name: fmt.Sprintf("front-%d", n), DefaultN: n, MinN: 1, Workload: wl,
		New:    func(node.Config, node.ID) node.Node { return &front{} },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
}

// TestTimedReplayFollowsPaths walks many paths of the untimed world, chosen by a fixed rule,
// through declines, timeouts, give-ups, crashes and matching answers, and replays each in the
// timed world: every step must do the same in both (the same deliveries, sends, invocations,
// replies and answers), and end with the same verdict.
func TestTimedReplayFollowsPaths(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{3, 4} {
		p := frontProtocol(n)
		u := sim.NewUntimed(p, node.Config{N: n}, sim.UntimedOptions{Crashes: 1, Requests: 3, Timeouts: 2, Targets: []node.ID{1, 2}})
		for walk := 0; walk < 40; walk++ {
			s := u.Init()[0]
			var path []int
			for step := 0; step < 14; step++ {
				var labels []string
				var nexts []*sim.UState
				u.Next(s, func(a int, next *sim.UState) bool {
					labels, nexts = append(labels, u.Label(s, a)), append(nexts, next)
					return true
				})
				if len(nexts) == 0 {
					break
				}
				a := (walk*7 + step*13 + walk*step) % len(nexts)
				for _, l := range []string{"resend", "timeout", "gives up", "crash", "every node"} {
					if strings.Contains(labels[a], l) {
						seen[l] = true
					}
				}
				path, s = append(path, a), nexts[a]
			}
			tr, err := u.ReplayTimed(0, path, nil)
			if err != nil {
				t.Fatalf("n=%d walk %d: %v", n, walk, err)
			}
			if err := sim.SameSteps(tr.Untimed.Trace, tr.Timed.Trace); err != nil {
				t.Fatalf("n=%d walk %d: %v", n, walk, err)
			}
			if (tr.Untimed.Violation == nil) != (tr.Timed.Violation == nil) {
				t.Fatalf("n=%d walk %d: untimed %v, timed %v", n, walk, tr.Untimed.Violation, tr.Timed.Violation)
			}
		}
	}
	for _, l := range []string{"resend", "timeout", "gives up", "crash", "every node"} {
		if !seen[l] {
			t.Errorf("no walk took a %q step", l)
		}
	}
}
