package etcdraft

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/kv"
)

// The interleaving of etcd-io/etcd#20418, step by step, at a leader that was paused: n2's read
// goes to the leader n1 under context A and is confirmed, but the answer is slow and n3's
// heartbeat response for A is still on its way; n2 asks again. n1 pauses; n2 and n3 elect n2
// and commit x=2. n1 wakes up still leading term 1 and takes, in this order, a client's read
// of x (queued at n1's stale commit index), n2's retry, and n3's late response. With the retry
// under context A (the bug), raft queues A again behind the new read, and n3's response for A
// completes a quorum for it: the new read is released and served x=1, though x=2 was
// committed and answered before it was asked. With a fresh context per attempt (the fix,
// etcd-io/etcd#21399), n3's response names no pending request, and the read is not served.
//
// With a journal (as exploration keeps one), every node rebuilds its etcd raft instance from
// the journal at every step and checks it is where it was left: the same story must unfold.
func TestReadCtxReuseAtDeposedLeader(t *testing.T) {
	for _, tc := range []struct {
		bug    string
		params map[string]int
	}{{"", nil}, {BugReadCtxReuse, nil}, {"", map[string]int{"journal": 1}}, {BugReadCtxReuse, map[string]int{"journal": 1}}} {
		bug := tc.bug
		c := newCluster(t, 3, bug, tc.params)
		c.fire(1, timerElection)
		c.settle(1, 2, 3)
		if c.leader() != 1 {
			t.Fatalf("n1 is not leader:\n%v", c)
		}
		c.request(1, 1, 1, kv.Op{Kind: kv.Put, Key: "x", Value: 1})
		c.settle(1, 2, 3)

		c.request(2, 2, 1, kv.Op{Kind: kv.Get, Key: "x"}) // ReadIndex(A): n2 -> n1
		c.deliver(1, of(raftpb.MsgReadIndex))
		c.deliver(2, of(raftpb.MsgHeartbeat))
		c.deliver(3, of(raftpb.MsgHeartbeat))
		late := c.take(func(e envelope) bool { return e.from == 3 && e.msg.M.Type == raftpb.MsgHeartbeatResp })
		c.deliver(1, of(raftpb.MsgHeartbeatResp)) // n2's response: A is confirmed
		c.take(of(raftpb.MsgReadIndexResp))       // ... but the answer is lost on its way to n2
		c.fire(2, timerSweep)
		c.fire(2, timerSweep) // a whole interval without an answer: n2 asks again
		retry := c.take(of(raftpb.MsgReadIndex))
		if len(late) != 1 || len(retry) != 1 {
			t.Fatalf("bug %q: %d late responses, %d retries, want one each", bug, len(late), len(retry))
		}

		// n1 is paused: nothing reaches it. n3's election fails (n2 still trusts n1), then n2's
		// succeeds, and x=2 is committed and answered.
		c.fire(3, timerElection)
		c.settle(2, 3)
		c.fire(2, timerElection)
		c.settle(2, 3)
		c.request(2, 3, 1, kv.Op{Kind: kv.Put, Key: "x", Value: 2})
		c.settle(2, 3)
		if r, ok := c.answer(3, 1); !ok || !r.OK {
			t.Fatalf("bug %q: the write of x=2 was not answered:\n%v", bug, c)
		}

		// n1 wakes up.
		c.request(1, 4, 1, kv.Op{Kind: kv.Get, Key: "x"})
		c.put(retry)
		c.put(late)
		r, served := c.answer(4, 1)
		switch {
		case bug == "" && served:
			t.Errorf("correct protocol: the read at the deposed leader was served (%v)", r)
		case bug != "" && (!served || r.Result.Value != 1):
			t.Errorf("bug: the read at the deposed leader was not served the stale x=1 (served %v: %v)", served, r)
		}
	}
}
