package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim/explore"
)

// echoer answers every request with its own operation, a step later: it sends the request
// to itself, and answers when it arrives.
type echoer struct{}

func (echoer) Start(node.Env) {}
func (echoer) Receive(env node.Env, _ node.ID, m node.Message) {
	env.Reply(m.(node.Request), m.(node.Request).Op)
}
func (echoer) Timer(node.Env, string)                 {}
func (echoer) Request(env node.Env, req node.Request) { env.Send(env.Self(), req) }

// echoProtocol's property reads the times of the history: of two operations that
// overlapped, the second called must be answered first. "c1 called, answered, then c2
// called" and "c1 and c2 called, then c1 answered" have the same operations and frontier, so
// they are one state while c2 is unanswered; the property tells them apart only at c2's
// answer, and a search that keeps the first (the breadth-first search does: its path comes
// first) never sees the violation.
func echoProtocol() *node.Protocol {
	return &node.Protocol{Name: "echoer", DefaultN: 2, MinN: 1,
		New:    func(node.Config, node.ID) node.Node { return echoer{} },
		Quorum: func(n int) int { return n },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		Workload: &node.Workload{Clients: 2, Ops: 1, Timeout: 10 * time.Millisecond,
			Next:   func(c node.ClientID, seq int, _ func(int) int) any { return int(c) },
			Result: func(reply any) (any, bool, node.ID) { return reply, true, 0 },
			Spec: node.Sequential[int, int, int]{Name: "echoer", Init: func() int { return 0 },
				Step: func(s, in int) (int, int) { return s, in }}.Spec()},
		Invariants: []node.Invariant{{Name: "last-in-first-out", Check: func(w node.World) error {
			h := w.History()
			if len(h) == 2 && h[1].Done && h[0].Return > h[1].Call && h[0].Return < h[1].Return {
				return fmt.Errorf("c%d was answered before c%d, which it overlapped", h[0].Client, h[1].Client)
			}
			return nil
		}}},
		Explore: node.Explore{Requests: 2, Targets: []node.ID{1, 2}}}
}

// A property that reads the history's times never passes for it: the explorer keeps only
// what linearizability reads of them, but judges states again with the same operations
// in other orders and fails the search with history-order where a verdict changes. Kept
// whole (ExactHistory), the history shows the property's own violation.
func TestHistoryOrderIsTestedNotTrusted(t *testing.T) {
	exact := exploreAll(t, echoProtocol(), node.Config{N: 2}, UntimedOptions{Requests: 2, ExactHistory: true}, explore.Options{})
	if exact.Violation == nil || exact.Violation.Property != "last-in-first-out" {
		t.Fatalf("exact history: violation %+v, want last-in-first-out", exact.Violation)
	}
	historyGuard = false
	r := exploreAll(t, echoProtocol(), node.Config{N: 2}, UntimedOptions{Requests: 2}, explore.Options{Workers: 1})
	historyGuard = true
	if r.Violation != nil {
		t.Fatalf("without the test of the history's order: violation %+v, want none (the merge hides it)", r.Violation)
	}
	caught := 0
	for _, o := range []explore.Options{{Workers: 1}, {Workers: 2}, {Strategy: explore.DepthFirst}} {
		r := exploreAll(t, echoProtocol(), node.Config{N: 2}, UntimedOptions{Requests: 2}, o)
		switch {
		case r.Violation == nil || r.Violation.Property != "last-in-first-out" && r.Violation.Property != PropHistoryOrder:
			t.Errorf("%+v: violation %+v, want last-in-first-out or %s", o, r.Violation, PropHistoryOrder)
		case r.Violation.Property == PropHistoryOrder:
			caught++
		}
	}
	if caught == 0 {
		t.Error("merging hid the violation in no search: the test shows nothing")
	}
}
