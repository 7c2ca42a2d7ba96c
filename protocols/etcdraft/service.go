package etcdraft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// The key-value service, the way etcd's server uses etcd raft: any node takes a client's
// request. A write becomes a proposal (a follower's raft forwards it to the leader), and the
// node answers once it has applied it. A read is linearizable without a log entry: the node
// asks raft for a read index (ReadIndex, with a context naming the request), raft has the
// leader confirm with a round of heartbeats that it still leads and answers with its commit
// index, and the node serves the read once it has applied that far. Reads are batched as in
// etcd's linearizable read loop: one ReadIndex request is in flight at a time, and reads that
// arrive meanwhile wait for the next one.

// Reply answers a client. OK false means "not here, not now": no leader is known, or the node
// holds too many requests; Leader is the leader to try, if known.
type Reply struct {
	OK     bool
	Leader node.ID
	Result kv.Result
}

func (r Reply) String() string {
	if !r.OK {
		return fmt.Sprintf("declined (try n%d)", r.Leader)
	}
	return r.Result.String()
}

// Request takes a client's operation.
func (n *Node) Request(env node.Env, req node.Request) {
	op, ok := node.OpOf[kv.Op](req)
	if !ok {
		return
	}
	if op.Kind == kv.Get {
		n.read(env, req)
	} else {
		n.write(env, req, op)
	}
	n.settle(env)
}

func (n *Node) decline(env node.Env, req node.Request) {
	env.Reply(req, Reply{Leader: node.ID(n.lead)})
}

// write proposes a client's write, unless its session shows it applied already: then the
// answer is the session's. A retried write is proposed again (the first proposal may have
// been lost on the way to the leader); the session makes the second one a no-op.
func (n *Node) write(env node.Env, req node.Request, op kv.Op) {
	if s, ok := n.sm.Sessions[req.Client]; ok && req.Seq <= s.Seq {
		if req.Seq == s.Seq {
			n.note(env, seenDedup)
			env.Reply(req, Reply{OK: true, Leader: node.ID(n.lead), Result: s.Result})
		}
		return
	}
	if n.lead == 0 {
		n.decline(env, req)
		return
	}
	kept := n.writes[:0]
	for _, w := range n.writes {
		if w.Req.Client != req.Client { // an older request of the same client is done with
			kept = append(kept, w)
		}
	}
	n.writes = kept
	if len(n.writes) >= n.opt.window {
		n.decline(env, req)
		return
	}
	n.writes = append(n.writes, proposal{Req: req})
	n.do(call{Kind: callPropose, Data: command{Client: req.Client, Seq: req.Seq, Op: op}.encode()})
}

// read takes a client's read into the batch; it goes out with the next ReadIndex request.
func (n *Node) read(env node.Env, req node.Request) {
	if n.lead == 0 || len(n.reads) >= n.opt.window {
		n.decline(env, req)
		return
	}
	n.reads = append(n.reads, pendingRead{Req: req})
	if n.inflight == nil {
		n.requestIndex()
	}
}

// requestIndex sends a ReadIndex request, under a context no request of this node has had in
// this incarnation or any other, for every read not confirmed yet: its answer is good for the
// reads that were waiting when it was sent, and for no others.
func (n *Node) requestIndex() {
	ctx := n.newCtx()
	for i := range n.reads {
		if !n.reads[i].Confirmed {
			n.reads[i].Ctx = ctx
		}
	}
	n.inflight, n.waited = ctx, 0
	n.do(call{Kind: callReadIndex, Data: ctx})
}

// newCtx names a new ReadIndex request: node, incarnation and a counter.
func (n *Node) newCtx() []byte {
	n.readSeq++
	b := binary.AppendUvarint(nil, uint64(n.id))
	b = binary.AppendUvarint(b, n.inc)
	return binary.AppendUvarint(b, n.readSeq)
}

func describeCtx(b []byte) string {
	r := reader{b: b}
	id, inc, seq := r.uvarint(), r.uvarint(), r.uvarint()
	if r.err != nil || len(r.b) > 0 {
		return fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("n%d.%d#%d", id, inc, seq)
}

// apply handles what a Ready hands to the application: a change of leader, a snapshot to
// install, the committed entries, and the read states.
func (n *Node) apply(env node.Env, c *core, rd raft.Ready) {
	if !raft.IsEmptyHardState(rd.HardState) {
		if rd.HardState.Term != n.hard.Term || rd.HardState.Vote != n.hard.Vote {
			n.resetElection = true // a new term, or a vote granted: etcd raft restarts its clock
		}
		n.hard = rd.HardState
	}
	if s := rd.SoftState; s != nil {
		n.softState(env, *s)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		n.install(env, rd.Snapshot)
	}
	if n.role == raft.StateLeader && n.termStart == 0 {
		for _, e := range rd.Entries { // the empty entry a new leader appends
			if e.Term == n.hard.Term {
				n.termStart = e.Index
				break
			}
		}
	}
	if n.termStart > 0 && !n.termCommitted && n.hard.Commit >= n.termStart {
		n.termCommitted = true // the first commit of this leader's term (etcd's firstCommitInTerm)
		if n.bug == BugReadLeaderChange {
			// The seeded bug: at its first commit in the term the new leader takes the
			// reads waiting on it to be answerable at once, at its commit index, as if what it
			// committed were applied. This Ready commits, besides the leader's empty entry,
			// what the old leader had committed and this node had not yet applied: a read
			// served at an index the new leader has not applied.
			for i := range n.reads {
				n.reads[i].Confirmed, n.reads[i].Index = true, n.hard.Commit
			}
			n.serve(env, true)
		}
	}
	for _, e := range rd.CommittedEntries {
		n.applyEntry(env, e)
	}
	for _, rs := range rd.ReadStates {
		n.readState(rs)
	}
	n.serve(env, false)
}

// softState follows a change of leader or role. Reads whose ReadIndex went to the old leader
// are asked again of the new one under a fresh context: an answer to the old request, if one
// comes, belongs to a leader that is gone (etcd fails such reads with ErrLeaderChanged for
// the client to retry; asking again is the same, sooner).
func (n *Node) softState(env node.Env, s raft.SoftState) {
	wasLeader := n.role == raft.StateLeader
	if s.Lead != n.lead && n.inflight != nil {
		n.resendIndex = true
	}
	if s.Lead != n.lead || s.RaftState != n.role {
		n.resetElection = true
	}
	n.lead, n.role = s.Lead, s.RaftState
	if n.role == raft.StateLeader && !wasLeader {
		n.ticks, n.termStart, n.termCommitted = 0, 0, false
		env.Output(Elected{Term: n.hard.Term})
	}
}

// install replaces the state machine with a snapshot from the leader (persist made it durable).
func (n *Node) install(env node.Env, snap raftpb.Snapshot) {
	sm, err := decodeStore(snap.Data)
	must(err)
	n.sm, n.applied, n.snapIndex = sm, snap.Metadata.Index, snap.Metadata.Index
	n.appliedTerm = snap.Metadata.Term
	n.conf = cloneConf(snap.Metadata.ConfState)
	n.dirty = 0
	env.Output(Applied{Index: snap.Metadata.Index, Term: snap.Metadata.Term, Digest: sm.Digest})
	n.note(env, seenInstall)
	n.answerFromSessions(env)
}

// applyEntry applies one committed entry and answers the client waiting on it here.
func (n *Node) applyEntry(env node.Env, e raftpb.Entry) {
	if e.Index <= n.applied {
		return
	}
	n.applied, n.appliedTerm = e.Index, e.Term
	n.dirty++
	switch e.Type {
	case raftpb.EntryNormal:
		if len(e.Data) > 0 {
			c, err := decodeCommand(e.Data)
			must(err)
			res, ok := n.sm.apply(e.Index, c, n.opt.maxSessions)
			n.answer(env, c, res, ok)
			n.note(env, seenCommand)
		}
	case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
		// Applied to raft by core.advance; this adapter proposes none.
	}
	env.Output(Applied{Index: e.Index, Term: e.Term, Digest: n.sm.Digest})
}

// answer replies to the client whose write was just applied, if it waits here.
func (n *Node) answer(env node.Env, c command, res kv.Result, ok bool) {
	for i, w := range n.writes {
		if w.Req.Client == c.Client && w.Req.Seq == c.Seq {
			if ok {
				env.Reply(w.Req, Reply{OK: true, Leader: node.ID(n.lead), Result: res})
			}
			n.writes = append(n.writes[:i], n.writes[i+1:]...)
			return
		}
	}
}

// answerFromSessions answers the writes a newly installed snapshot applied.
func (n *Node) answerFromSessions(env node.Env) {
	kept := n.writes[:0]
	for _, w := range n.writes {
		if s, ok := n.sm.Sessions[w.Req.Client]; ok && w.Req.Seq <= s.Seq {
			if w.Req.Seq == s.Seq {
				env.Reply(w.Req, Reply{OK: true, Leader: node.ID(n.lead), Result: s.Result})
			}
			continue
		}
		kept = append(kept, w)
	}
	n.writes = kept
}

// readState takes raft's answer to a ReadIndex request: the reads it covers may be served once
// the state machine has applied Index. The batch that waited meanwhile goes out next.
func (n *Node) readState(rs raft.ReadState) {
	for i := range n.reads {
		if r := &n.reads[i]; !r.Confirmed && bytes.Equal(r.Ctx, rs.RequestCtx) {
			r.Confirmed, r.Index = true, rs.Index
		}
	}
	if bytes.Equal(rs.RequestCtx, n.inflight) {
		n.inflight = nil
		for _, r := range n.reads {
			if !r.Confirmed {
				n.resendIndex = true // the reads that arrived meanwhile: the next batch
				break
			}
		}
	}
}

// serve answers the reads whose read index the state machine has reached (or, with unapplied,
// every confirmed read: the seeded bug's shortcut).
func (n *Node) serve(env node.Env, unapplied bool) {
	kept := n.reads[:0]
	for _, r := range n.reads {
		if r.Confirmed && (r.Index <= n.applied || unapplied) {
			op, _ := node.OpOf[kv.Op](r.Req)
			env.Reply(r.Req, Reply{OK: true, Leader: node.ID(n.lead), Result: n.sm.get(op.Key)})
			n.note(env, seenReadIndex)
			continue
		}
		kept = append(kept, r)
	}
	n.reads = kept
}

// resend sends the next ReadIndex request a Ready asked for (a new batch, or a change of
// leader), once the Ready is done; it reports whether it called etcd raft.
func (n *Node) resend() bool {
	if !n.resendIndex {
		return false
	}
	n.resendIndex = false
	if n.lead == 0 {
		n.inflight = nil // no one to ask: the next read, or the sweep, asks
		return false
	}
	n.requestIndex()
	return true
}

// sweep runs every retry interval while the node holds requests: requests older than any
// client waits for are dropped, and a ReadIndex request unanswered for a whole interval is
// sent again (the request or its answer may have been lost), for every read waiting by then.
func (n *Node) sweep(env node.Env) {
	keptW := n.writes[:0]
	for _, w := range n.writes {
		if w.Age++; n.opt.expire == 0 || w.Age < n.opt.expire {
			keptW = append(keptW, w)
		}
	}
	n.writes = keptW
	kept := n.reads[:0]
	for _, r := range n.reads {
		if r.Age++; n.opt.expire == 0 || r.Age < n.opt.expire {
			kept = append(kept, r)
		}
	}
	n.reads = kept
	waiting := slices.ContainsFunc(n.reads, func(r pendingRead) bool { return !r.Confirmed })
	if !waiting {
		n.inflight = nil
		return
	}
	if n.waited++; n.lead == 0 || n.inflight != nil && n.waited < 2 {
		return
	}
	n.note(env, seenReadRetry)
	if n.bug != BugReadCtxReuse || n.inflight == nil {
		n.requestIndex() // etcd-io/etcd#21399: every attempt under a context of its own
		return
	}
	// The seeded bug (etcd-io/etcd#20418): the retry goes out under the first attempt's
	// context, now for every read waiting, those that arrived since the first attempt
	// included. A late answer to the first attempt, confirmed by heartbeat responses of its
	// round, then serves them all at a read index fixed before some of them were asked: a
	// stale read.
	for i := range n.reads {
		if !n.reads[i].Confirmed {
			n.reads[i].Ctx = n.inflight
		}
	}
	n.waited = 0
	n.do(call{Kind: callReadIndex, Data: n.inflight})
}
