package raft

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

// TestOngaroMembershipBug plays the counterexample of Ongaro's raft-dev post (2015) on the
// single-server membership change. Configuration {1,2,3,4}: leader n1 starts adding n5 but its
// new configuration reaches only n5; n2 is elected with n3 and n4 and at once removes n1, and
// that configuration, {2,3,4}, commits with n2 and n3 alone. Without the fix, n1 (with its
// own configuration {1,2,3,4,5}) can still win with n4 and n5 and overwrite the committed
// entry. With the fix, n2 first commits an entry of its term on a majority of {1,2,3,4}, which
// takes n4's vote away from n1.
func TestOngaroMembershipBug(t *testing.T) {
	for _, bug := range []string{"", BugMembershipNoFix} {
		t.Run("bug="+bug, func(t *testing.T) {
			c := newCluster(t, 5, bug, map[string]int{"voters": 4, "churn": 100})
			c.elect(1, 2, 3, 4)
			c.deliver(all)
			c.fire(1, timerHeartbeat)
			c.deliver(all)
			// n1 adds n5, and only n5 hears of it.
			c.choices = []int{0, 0} // add; the first learner: n5
			c.fire(1, timerReconfig)
			if m := c.nodes[0].members; m != AllMembers(5) {
				t.Fatalf("n1 proposed %s, want {1,2,3,4,5}", m)
			}
			c.deliver(between(1, 5))
			c.drop(all)
			c.crash(1)
			// n2 is elected by n3 and n4, and reconfigures at once: it removes n1.
			c.elect(2, 3, 4)
			c.choices = []int{1, 0} // remove; the first member: n1
			c.fire(2, timerReconfig)
			removed := c.nodes[1].members == AllMembers(4).Remove(1)
			c.deliver(between(2, 3)) // n4 hears nothing of term 2
			c.restart(1)
			if bug == "" {
				c.ok()
				if removed {
					t.Fatal("n2 changed the configuration before committing an entry of its term")
				}
				return
			}
			if !removed || c.nodes[1].commit < c.nodes[1].configIndex {
				t.Fatalf("n2 did not commit its removal of n1: %s", c.nodes[1])
			}
			if c.violated != "leader-completeness" {
				t.Fatalf("want leader-completeness violated, got %q %s", c.violated, c.violation)
			}
			t.Log(c.violation)
		})
	}
}

// A leader removed from the configuration steps down once the removal is committed, and the
// remaining members elect a leader among themselves (§4.2.2); the removed server stays quiet.
func TestLeaderRemovesItself(t *testing.T) {
	c := newCluster(t, 3, "", map[string]int{"voters": 3, "minvoters": 2, "churn": 100})
	c.elect(1, 2, 3)
	c.deliver(all)
	c.choices = []int{0} // remove (the configuration is full): the first member, n1 itself
	c.fire(1, timerReconfig)
	if c.nodes[0].members != AllMembers(3).Remove(1) {
		t.Fatalf("n1 proposed %s, want {2,3}", c.nodes[0].members)
	}
	c.deliver(all)
	if c.nodes[0].role == Leader {
		t.Fatalf("n1 still leads after its removal committed: %s", c.nodes[0])
	}
	if c.timers[0][timerElection] {
		c.fire(1, timerElection) // a removed server's timeout starts nothing
		if n := len(c.inbox); n != 0 {
			t.Fatalf("n1, removed, sent %d messages when its election timer fired", n)
		}
	}
	c.elect(2, 3)
	c.deliver(all)
	c.ok()
	c.request(2, node.Request{Client: 1, Seq: 1, Op: put("x", 1)})
	c.deliver(all)
	if r := c.lastReply(); !r.res.OK {
		t.Fatalf("the new configuration did not serve a write: %v", r.res)
	}
}
