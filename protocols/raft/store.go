package raft

import (
	"fmt"
	"maps"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// Store is the replicated state machine: a key-value store, and the client sessions that make
// retried requests take effect once (§6.3).
type Store struct {
	Data     map[string]int
	Sessions map[node.ClientID]Session
}

// Session is what the state machine remembers of a client: its latest request applied, with
// the result, so that a retry of it gets the same answer instead of running twice.
type Session struct {
	Seq    int
	Result kv.Result
	Last   int // the log index that request was applied at: how recently the client was active
}

// Snapshot is the state machine as of log entry Index (of Term), with the configuration in
// force there: all a server needs in place of the log up to Index (§7).
type Snapshot struct {
	Index, Term int
	Members     Members
	Data        map[string]int
	Sessions    map[node.ClientID]Session
}

func (s Snapshot) String() string {
	return fmt.Sprintf("snapshot(%d/t%d %s %d keys %d sessions)", s.Index, s.Term, s.Members, len(s.Data), len(s.Sessions))
}

// restore returns a state machine in the snapshot's state, sharing no memory with it.
func (s Snapshot) restore() Store {
	sm := Store{Data: maps.Clone(s.Data), Sessions: maps.Clone(s.Sessions)}
	if sm.Data == nil {
		sm.Data = map[string]int{}
	}
	if sm.Sessions == nil {
		sm.Sessions = map[node.ClientID]Session{}
	}
	return sm
}

// snapshot copies the state machine into a snapshot at index.
func (sm Store) snapshot(index, term int, members Members) Snapshot {
	return Snapshot{Index: index, Term: term, Members: members,
		Data: maps.Clone(sm.Data), Sessions: maps.Clone(sm.Sessions)}
}

// apply runs a command entry at index. A request its session has seen already is not run
// again: the first run's result is returned (ok), or none for a request older than that (the
// client has moved on and reads no answer). Sessions expire least recently active first once
// there are more than maxSessions, so that the table stays bounded (§6.3).
func (sm Store) apply(index int, e Entry, maxSessions int) (res kv.Result, ok bool) {
	if s, seen := sm.Sessions[e.Client]; seen && e.Seq <= s.Seq {
		return s.Result, e.Seq == s.Seq
	}
	res = kv.Apply(sm.Data, e.Op)
	sm.Sessions[e.Client] = Session{Seq: e.Seq, Result: res, Last: index}
	if len(sm.Sessions) > maxSessions {
		sm.expire()
	}
	return res, true
}

// expire drops the least recently active session (the lowest Last; the lowest client on a
// tie, so that every replica drops the same one whatever the map order).
func (sm Store) expire() {
	var oldest node.ClientID
	for c, s := range sm.Sessions {
		o, ok := sm.Sessions[oldest]
		if !ok || s.Last < o.Last || s.Last == o.Last && c < oldest {
			oldest = c
		}
	}
	delete(sm.Sessions, oldest)
}

// read answers a get from the state machine as it stands.
func (sm Store) read(op kv.Op) kv.Result { return kv.Apply(sm.Data, kv.Op{Kind: kv.Get, Key: op.Key}) }

// Reply answers a client. OK false means "not here": Leader is the leader to try, if known.
type Reply struct {
	OK     bool
	Leader node.ID
	Result kv.Result
}

func (r Reply) String() string {
	if !r.OK {
		return fmt.Sprintf("not leader (try n%d)", r.Leader)
	}
	return r.Result.String()
}

// Request is a client's operation. Only the leader serves it; the others point to the leader.
// A request whose session shows it applied already is answered from the session.
func (n *Node) Request(env node.Env, req node.Request) {
	op, ok := node.OpOf[kv.Op](req)
	if !ok {
		return
	}
	if n.role != Leader || n.transferee != 0 {
		// During a transfer the leader takes no new requests; the clients wait for the next one.
		env.Reply(req, Reply{Leader: n.hint()})
		return
	}
	if s, ok := n.sm.Sessions[req.Client]; ok && req.Seq <= s.Seq {
		if req.Seq == s.Seq {
			n.note(env, seenDedup)
			env.Reply(req, Reply{OK: true, Leader: n.id, Result: s.Result})
		}
		return
	}
	if op.Kind == kv.Get && n.opt.readIndex {
		n.read(env, req, op)
		return
	}
	for i, w := range n.waiting {
		if w.Req.Client == req.Client && w.Req.Seq == req.Seq {
			n.waiting[i].Req = req // a retry of a request already in the log
			return
		}
	}
	if n.log.Last()-n.commit >= n.opt.window {
		env.Reply(req, Reply{}) // too far ahead of what is committed: no more until it catches up
		return
	}
	n.appendEntry(env, Entry{Term: n.term, Type: Command, Client: req.Client, Seq: req.Seq, Op: op})
	n.waiting = append(n.waiting, pending{Index: n.log.Last(), Req: req})
	n.broadcastAppend(env)
	n.advanceCommit(env) // a configuration of one commits at once
}

// hint is the leader a client should try instead of this node: the one it follows, or else
// the candidate it voted for in this term, the likeliest to win.
func (n *Node) hint() node.ID {
	switch {
	case n.role == Leader:
		return n.transferee
	case n.role == Follower && n.leader == 0:
		return n.votedFor
	}
	return n.leader
}

// read serves a get without a log entry (ReadIndex, §6.4): it notes the commit index, waits
// for a round of heartbeats started after the read arrived to be echoed by a majority (so the
// node was still leader then), and answers once the state machine has applied that far. A new
// leader first needs its no-op committed, to know the commit index at all.
func (n *Node) read(env node.Env, req node.Request, op kv.Op) {
	if n.cfg.Bug == BugStaleRead {
		// The seeded bug: the leader answers from its state machine at once. A leader that
		// was deposed without knowing it serves a value that a newer leader has overwritten.
		env.Reply(req, Reply{OK: true, Leader: n.id, Result: n.sm.read(op)})
		return
	}
	if len(n.reads) >= n.opt.window {
		env.Reply(req, Reply{})
		return
	}
	n.reads = append(n.reads, pendingRead{Index: max(n.commit, n.termStart), Round: n.round + 1, Req: req})
	if n.confirmed == n.round {
		n.broadcastAppend(env) // no round under way: start the one this read waits for
	}
	n.confirmRounds(env)
}

// confirmRounds works out the latest round a majority of the configuration echoed, serves
// the reads it confirms, and starts another round if reads are still waiting for one.
func (n *Node) confirmRounds(env node.Env) {
	if len(n.reads) == 0 {
		return
	}
	// The highest round r such that a majority echoed r or later.
	var echoed []int
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id == n.id {
			echoed = append(echoed, n.round)
		} else {
			echoed = append(echoed, n.acked[id-1])
		}
	}
	need := n.members.Majority()
	for r := range echoed { // sort descending (a handful of members)
		for k := r + 1; k < len(echoed); k++ {
			if echoed[k] > echoed[r] {
				echoed[r], echoed[k] = echoed[k], echoed[r]
			}
		}
	}
	if need <= len(echoed) && echoed[need-1] > n.confirmed {
		n.confirmed = echoed[need-1]
	}
	n.serveReads(env)
	if len(n.reads) > 0 && n.confirmed == n.round && n.reads[len(n.reads)-1].Round > n.round {
		n.broadcastAppend(env)
	}
}

// serveReads answers the reads whose round is confirmed and whose index is applied.
func (n *Node) serveReads(env node.Env) {
	kept := n.reads[:0]
	for _, r := range n.reads {
		if op, _ := node.OpOf[kv.Op](r.Req); r.Round <= n.confirmed && r.Index <= n.applied {
			n.note(env, seenReadIndex)
			env.Reply(r.Req, Reply{OK: true, Leader: n.id, Result: n.sm.read(op)})
			continue
		}
		kept = append(kept, r)
	}
	n.reads = kept
}

// apply applies committed entries in order, answers the clients waiting on them, and
// compacts the log when it has grown enough.
func (n *Node) apply(env node.Env) {
	for n.applied < n.commit {
		n.applied++
		e := n.log.At(n.applied)
		var res kv.Result
		ok := false
		if e.Type == Command {
			res, ok = n.sm.apply(n.applied, e, n.opt.maxSessions)
		}
		env.Output(Applied{Index: n.applied, Term: e.Term, Type: e.Type, Client: e.Client, Seq: e.Seq})
		if n.role == Leader {
			n.answer(env, e, res, ok)
		}
	}
	if n.role == Leader {
		n.serveReads(env)
		n.leaveIfRemoved(env)
	}
	n.compact(env)
}

// answer replies to the client waiting on the entry just applied.
func (n *Node) answer(env node.Env, e Entry, res kv.Result, ok bool) {
	for len(n.waiting) > 0 && n.waiting[0].Index <= n.applied {
		w := n.waiting[0]
		n.waiting = n.waiting[1:]
		if w.Index == n.applied && ok && e.Type == Command && e.Client == w.Req.Client && e.Seq == w.Req.Seq {
			env.Reply(w.Req, Reply{OK: true, Leader: n.id, Result: res})
		}
	}
}
