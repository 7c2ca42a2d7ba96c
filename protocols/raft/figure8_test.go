package raft

import (
	"testing"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// TestFigure8 plays the scenario of Figure 8 of the Raft paper on five servers, with one entry
// per AppendEntries so that an old entry can reach a majority before the new leader's own.
// The correct commit rule leaves the old entry uncommitted, and a later leader may overwrite
// it; the figure8 bug commits and applies it first, and state machine safety breaks.
func TestFigure8(t *testing.T) {
	for _, bug := range []string{"", BugFigure8} {
		t.Run("bug="+bug, func(t *testing.T) {
			c := newCluster(t, 5, bug, map[string]int{"batch": 1})
			// (a) n1 leads term 1; its entry X reaches only n2.
			c.elect(1, 2, 3, 4, 5)
			c.deliver(all)
			c.request(1, node.Request{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 1}})
			c.deliver(between(1, 2))
			c.drop(all)
			// (b) n1 crashes; n5 leads term 2 with n3 and n4, and crashes before its own
			// entry leaves.
			c.crash(1)
			c.elect(5, 3, 4)
			c.drop(all)
			c.crash(5)
			// (c) n1 comes back and leads term 3 with n2 and n3; X reaches n3 before n1's
			// entry of term 3 does.
			c.restart(1)
			c.elect(1, 2, 3)
			c.deliver(between(1, 2))
			c.deliverOne(between(1, 3)) // refused: n3 lacks index 2
			c.deliverOne(between(1, 3))
			c.deliverOne(between(1, 3)) // X
			c.deliverOne(between(1, 3)) // n3 stores it
			committed := c.nodes[0].commit >= 3
			c.drop(all)
			c.crash(1)
			// (d) n5 comes back and leads term 4 with n3 and n4: it overwrites X.
			c.restart(5)
			c.elect(5, 3, 4)
			c.deliver(func(e envelope) bool { return e.from != 2 && e.to != 2 })
			if c.nodes[4].commit < 3 {
				t.Fatalf("n5 did not commit its entries: %s", c.nodes[4])
			}
			if bug == "" {
				c.ok()
				if committed {
					t.Fatal("n1 committed X by counting replicas")
				}
				return
			}
			if c.violated != "state-machine-safety" && c.violated != "leader-completeness" {
				t.Fatalf("figure8: want a safety violation, got %q %s", c.violated, c.violation)
			}
			t.Log(c.violation)
		})
	}
}
