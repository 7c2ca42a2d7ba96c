package raft

import (
	"slices"
	"testing"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// leading returns a five-node cluster whose leader n1 has committed its first entry and told
// everyone so.
func leading(t *testing.T, bug string, params map[string]int) *cluster {
	c := newCluster(t, 5, bug, params)
	c.elect(1, 2, 3, 4, 5)
	c.deliver(all)
	c.fire(1, timerHeartbeat)
	c.deliver(all)
	return c
}

// A server that cannot hear the leader (n4 reaches only n2, as in partial connectivity) keeps
// timing out. With Pre-Vote its campaign asks first, n2 (which hears the leader) says no, and
// nobody's term moves; plain Raft raises the term and deposes the leader.
func TestPreVoteKeepsTheLeader(t *testing.T) {
	for _, bug := range []string{"", BugPlain} {
		c := leading(t, bug, nil)
		term := c.nodes[0].term
		c.fire(4, timerElection)
		c.drop(func(e envelope) bool { return e.from == 4 && e.to != 2 })
		c.deliver(between(4, 2))
		c.fire(1, timerHeartbeat)
		c.deliver(func(e envelope) bool { return e.from != 4 && e.to != 4 })
		leads := c.nodes[0].role == Leader && c.nodes[0].term == term
		if bug == "" && (!leads || c.nodes[1].term != term || c.nodes[3].term != term) {
			t.Errorf("correct: n4's campaign moved terms (n1 %s, n2 t%d, n4 t%d)", c.nodes[0], c.nodes[1].term, c.nodes[3].term)
		}
		if bug == BugPlain && leads {
			t.Errorf("plain: n1 still leads term %d after n4's election", term)
		}
		c.ok()
	}
}

// With CheckQuorum a leader cut off from the others steps down within two checks; without it,
// it goes on believing it leads.
func TestCheckQuorumStepsDown(t *testing.T) {
	for _, bug := range []string{"", BugPlain} {
		c := leading(t, bug, nil)
		for range 2 {
			c.fire(1, timerHeartbeat)
			c.drop(from(1))
			if c.timers[0][timerCheckQuorum] {
				c.fire(1, timerCheckQuorum)
			}
		}
		if got := c.nodes[0].role; (bug == "") != (got != Leader) {
			t.Errorf("bug=%q: the cut-off leader is a %s", bug, got)
		}
	}
}

// A follower whose log holds a long suffix of an old term is brought back in one round trip
// per term, not one per entry: its refusal names where its version of the term begins.
func TestFastBacktracking(t *testing.T) {
	c := newCluster(t, 3, "", map[string]int{"batch": 64})
	c.elect(1, 2, 3)
	c.deliver(all)
	// n1 appends ten entries that only it gets, then crashes; n2 leads term 2 and writes.
	for i := range 10 {
		c.request(1, node.Request{Client: 1, Seq: i + 1, Op: put("x", i)})
	}
	c.drop(all)
	c.crash(1)
	c.elect(2, 3)
	c.deliver(all)
	c.request(2, node.Request{Client: 2, Seq: 1, Op: put("y", 1)})
	c.deliver(all)
	c.restart(1)
	c.fire(2, timerHeartbeat)
	refusals := 0
	for len(c.inbox) > 0 {
		e := c.deliverOne(all)
		if r, ok := e.msg.(AppendReply); ok && e.from == 1 && !r.Success {
			refusals++
		}
	}
	if refusals > 2 {
		t.Errorf("n1 refused %d times: backtracking went entry by entry", refusals)
	}
	if got, want := c.nodes[0].log.Last(), c.nodes[1].log.Last(); got != want || !c.nodes[0].log.Has(want, c.nodes[1].term) {
		t.Errorf("n1's log ends at %d/t%d, want n2's %d/t%d", got, c.nodes[0].log.LastTerm(), want, c.nodes[1].term)
	}
	c.ok()
}

// A request retried after its leader crashed takes effect once: the new leader appends the
// retry again, and the state machine, which sees both entries, runs only the first and answers
// the retry with its result. A retry arriving later still is answered from the session.
func TestRetriedRequestTakesEffectOnce(t *testing.T) {
	c := leading(t, "", nil)
	cas := node.Request{Client: 7, Seq: 1, Op: kv.Op{Kind: kv.CAS, Key: "x", Expect: 0, Value: 5}}
	c.request(1, cas)
	c.deliver(func(e envelope) bool { _, ok := e.msg.(AppendEntries); return ok && e.from == 1 })
	c.drop(all)
	c.crash(1) // the entry is on every follower, uncommitted; the client heard nothing
	c.elect(2, 3, 4, 5)
	c.request(2, cas) // the retry, before n2 knows the first is committed
	c.deliver(all)
	c.fire(2, timerHeartbeat)
	c.deliver(all)
	c.request(3, cas) // a retry at a follower: redirected
	c.request(2, cas) // and one more at the leader: answered from the session
	applied := 0
	for _, o := range c.outputs {
		if a, ok := o.Value.(Applied); ok && o.Node == 2 && a.Client == 7 {
			applied++
		}
	}
	if applied != 2 {
		t.Errorf("n2 applied %d entries of client 7, want the original and the retry", applied)
	}
	if r := c.lastReply(); !r.res.OK || r.res.Result != (kv.Result{Value: 5, OK: true}) {
		t.Errorf("the retry was answered %v, want the compare-and-swap's success", r.res)
	}
	if v := c.nodes[1].sm.Data["x"]; v != 5 {
		t.Errorf("x = %d, want 5", v)
	}
	c.ok()
}

// ReadIndex: a leader answers a read only once a round of heartbeats sent after it arrived was
// echoed by a majority. A leader cut off from the others never gets that far, where the
// stale-read bug answers at once, with a value a newer leader has overwritten.
func TestReadsConfirmLeadership(t *testing.T) {
	for _, bug := range []string{"", BugStaleRead} {
		c := leading(t, bug, nil)
		c.request(1, node.Request{Client: 1, Seq: 1, Op: put("x", 1)})
		c.deliver(all)
		c.fire(1, timerHeartbeat)
		c.deliver(all)
		// n1 is cut off; n2 leads term 2 and overwrites x.
		c.elect(2, 3, 4, 5)
		c.deliver(func(e envelope) bool { return e.from != 1 && e.to != 1 })
		c.request(2, node.Request{Client: 2, Seq: 1, Op: put("x", 2)})
		c.deliver(func(e envelope) bool { return e.from != 1 && e.to != 1 })
		if r := c.lastReply(); !r.res.OK || r.to.Client != 2 {
			t.Fatalf("bug=%q: the write at n2 was not answered: %v", bug, c.replies)
		}
		answered := len(c.replies)
		c.request(1, node.Request{Client: 3, Seq: 1, Op: get("x")})
		c.drop(from(1))
		switch {
		case bug == "" && len(c.replies) != answered:
			t.Errorf("the cut-off leader answered a read: %v", c.lastReply().res)
		case bug == BugStaleRead && (len(c.replies) == answered || c.lastReply().res.Result.Value != 1):
			t.Errorf("stale-read: want n1 to answer the old value 1 at once, got %v", c.replies[answered:])
		}
	}
}

// A leadership transfer ends with the target leading, though every other server was in the
// old leader's lease: its election is marked as a transfer.
func TestLeadershipTransfer(t *testing.T) {
	c := leading(t, "", map[string]int{"transfer": 1000})
	c.choices = []int{2} // the third of the other members: n4
	c.fire(1, timerTransfer)
	c.deliver(all)
	if c.nodes[3].role != Leader || c.nodes[0].role == Leader {
		t.Fatalf("after the transfer n4 is %s and n1 %s", c.nodes[3], c.nodes[0])
	}
	c.ok()
}

// no-persist-vote: n3 votes for n1, crashes and comes back in the same term; asked again by n2,
// the correct server remembers its vote, the buggy one votes again, and term 2 gets two leaders.
func TestVoteSurvivesRestart(t *testing.T) {
	for _, bug := range []string{"", BugNoPersistVote} {
		c := newCluster(t, 3, bug, map[string]int{"prevote": 0})
		c.fire(1, timerElection)
		c.fire(2, timerElection)          // both candidates in term 1
		c.deliver(func(e envelope) bool { // n1 gets n3's vote, and nothing else happens
			_, rv := e.msg.(RequestVote)
			_, v := e.msg.(Vote)
			return (rv || v) && (e.from == 1 && e.to == 3 || e.from == 3 && e.to == 1)
		})
		c.crash(3)
		c.restart(3)
		c.drop(to(1))
		c.deliver(func(e envelope) bool { return e.from == 2 && e.to == 3 || e.from == 3 && e.to == 2 })
		if c.timers[1][timerVoteRetry] {
			c.fire(2, timerVoteRetry) // n2 asks again the voter it did not hear from
			c.deliver(func(e envelope) bool { return e.from == 2 && e.to == 3 || e.from == 3 && e.to == 2 })
		}
		if want := map[string]string{"": "", BugNoPersistVote: "election-safety"}[bug]; c.violated != want {
			t.Errorf("bug=%q: violated %q (%s), want %q", bug, c.violated, c.violation, want)
		}
	}
}

// dup-vote: a duplicated vote counts once; the seeded bug counts it twice, and a candidate with
// two of five votes wins beside a real majority's leader.
func TestDuplicatedVoteCountsOnce(t *testing.T) {
	for _, bug := range []string{"", BugDupVote} {
		c := newCluster(t, 5, bug, map[string]int{"prevote": 0})
		c.fire(1, timerElection)
		c.fire(2, timerElection)
		c.deliver(func(e envelope) bool { return e.from == 1 && e.to == 3 })
		for _, e := range c.inbox {
			if e.from == 3 && e.to == 1 {
				c.inbox = append(c.inbox, e) // the network duplicates n3's vote
				break
			}
		}
		c.deliver(func(e envelope) bool { return e.to == 1 && e.from == 3 })
		c.deliver(func(e envelope) bool {
			return e.from == 2 && (e.to == 4 || e.to == 5) || e.to == 2 && (e.from == 4 || e.from == 5)
		})
		if want := map[string]string{"": "", BugDupVote: "election-safety"}[bug]; c.violated != want {
			t.Errorf("bug=%q: violated %q (%s), want %q", bug, c.violated, c.violation, want)
		}
	}
}

// A follower that missed more than the leader keeps gets the snapshot, and catches up from it;
// every log stays within the bound. Without compaction the leader's log outgrows it.
func TestSnapshotsBoundTheLog(t *testing.T) {
	for _, bug := range []string{"", BugNoCompaction} {
		params := map[string]int{"snapshot": 4, "window": 2, "sessions": 4}
		c := leading(t, bug, params)
		c.crash(5)
		for i := range 30 {
			c.request(1, node.Request{Client: node.ClientID(1 + i%3), Seq: i + 1, Op: put("x", i)})
			c.deliver(all)
		}
		c.restart(5)
		c.fire(1, timerHeartbeat)
		c.deliver(all)
		c.fire(1, timerHeartbeat)
		c.deliver(all)
		c.ok()
		bound := MaxSize(c.cfg)
		if bug == BugNoCompaction {
			if c.nodes[0].Size() <= bound {
				t.Errorf("no-compaction: the leader's size %d stays within %d", c.nodes[0].Size(), bound)
			}
			continue
		}
		for _, n := range c.nodes {
			if n.Size() > bound {
				t.Errorf("n%d: size %d over the bound %d", n.id, n.Size(), bound)
			}
		}
		if c.nodes[4].applied != c.nodes[0].applied || c.nodes[4].sm.Data["x"] != 29 {
			t.Errorf("n5 did not catch up from the snapshot: %s, x=%d", c.nodes[4], c.nodes[4].sm.Data["x"])
		}
	}
}

// Sessions expire least recently active first, whatever the map order, so every replica keeps
// the same ones.
func TestSessionsExpireLeastRecentFirst(t *testing.T) {
	sm := Snapshot{}.restore()
	for i := 1; i <= 6; i++ {
		sm.apply(i, Entry{Type: Command, Client: node.ClientID(10 - i), Seq: 1, Op: put("x", i)}, 4)
	}
	var kept []node.ClientID
	for c := range sm.Sessions {
		kept = append(kept, c)
	}
	slices.Sort(kept)
	if want := []node.ClientID{4, 5, 6, 7}; !slices.Equal(kept, want) {
		t.Errorf("sessions kept %v, want the four most recent %v", kept, want)
	}
	if res, ok := sm.apply(7, Entry{Type: Command, Client: 7, Seq: 1, Op: put("x", 99)}, 4); !ok || res.Value != 3 {
		t.Errorf("a retry of client 7's request got %v/%v, want its first result 3", res, ok)
	}
}

func TestLog(t *testing.T) {
	l := Log{Base: 10, BaseTerm: 2}
	l.Append(Entry{Term: 2}, Entry{Term: 3}, Entry{Term: 3}, Entry{Term: 3}, Entry{Term: 5})
	for _, c := range []struct {
		i, term int
		ok      bool
	}{{9, 0, false}, {10, 2, true}, {11, 2, true}, {13, 3, true}, {15, 5, true}, {16, 0, false}} {
		if term, ok := l.Term(c.i); term != c.term || ok != c.ok {
			t.Errorf("Term(%d) = %d, %v; want %d, %v", c.i, term, ok, c.term, c.ok)
		}
	}
	if got := l.firstOfTerm(14); got != 12 {
		t.Errorf("firstOfTerm(14) = %d, want 12", got)
	}
	if got := l.lastOfTerm(3); got != 14 {
		t.Errorf("lastOfTerm(3) = %d, want 14", got)
	}
	if got := l.lastOfTerm(4); got != 0 {
		t.Errorf("lastOfTerm(4) = %d, want 0", got)
	}
	for _, c := range []struct {
		index, term int
		want        bool
	}{{15, 5, true}, {14, 5, false}, {20, 4, false}, {16, 5, true}, {1, 6, true}} {
		if got := l.UpToDate(c.index, c.term); got != c.want {
			t.Errorf("UpToDate(%d, %d) = %v, want %v", c.index, c.term, got, c.want)
		}
	}
	sent := l.From(12, 2)
	l.TruncateAfter(12)
	l.Append(Entry{Term: 6})
	if sent[1].Term != 3 || len(sent) != 2 {
		t.Errorf("an append after a truncation changed a batch taken earlier: %v", sent)
	}
	l.Compact(12, 3)
	if l.Base != 12 || l.Last() != 13 || l.LastTerm() != 6 {
		t.Errorf("after compaction: %+v", l)
	}
}

func TestMembers(t *testing.T) {
	m := AllMembers(5).Remove(2).Add(7)
	var ids []node.ID
	for id := m.Next(0); id != 0; id = m.Next(id) {
		ids = append(ids, id)
	}
	if want := []node.ID{1, 3, 4, 5, 7}; !slices.Equal(ids, want) || m.Count() != 5 || m.Majority() != 3 {
		t.Errorf("members %v (count %d, majority %d), want %v", ids, m.Count(), m.Majority(), want)
	}
	if m.String() != "{1,3,4,5,7}" || Members(0).Next(0) != 0 || AllMembers(64).Next(64) != 0 {
		t.Errorf("String %q, or Next past the end", m)
	}
}
