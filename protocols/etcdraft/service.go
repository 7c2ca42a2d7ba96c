package etcdraft

import (
	"bytes"
	"encoding/binary"
	"fmt"

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
// index, and the node serves the read once it has applied that far.

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

// read asks etcd raft for a read index, under a context no other request of this node has
// had, in this incarnation or any other.
func (n *Node) read(env node.Env, req node.Request) {
	if n.lead == 0 || len(n.reads) >= n.opt.window {
		n.decline(env, req)
		return
	}
	r := pendingRead{Req: req, Ctx: n.newCtx()}
	n.reads = append(n.reads, r)
	n.do(call{Kind: callReadIndex, Data: r.Ctx})
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
	if n.bug == BugReadLeaderChange && n.role == raft.StateLeader {
		// The seeded bug: a leader takes its read states first and answers them at once, on
		// the reasoning that a leader applies whatever it commits in the same Ready, so that
		// a read index, being committed, is applied. Not in the Ready where a new leader
		// first commits an entry of its term: that Ready also commits what the old leader had
		// committed and this node had not yet applied, and the read index covers it.
		for _, rs := range rd.ReadStates {
			n.readState(rs)
		}
		n.serve(env, true)
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
// are sent again to the new one under fresh contexts: an answer to the old request, if one
// comes, belongs to a leader that is gone (etcd-io/etcd#21375 fails such reads for the client
// to retry; sending them again is the same, sooner).
func (n *Node) softState(env node.Env, s raft.SoftState) {
	wasLeader := n.role == raft.StateLeader
	if s.Lead != n.lead {
		for i := range n.reads {
			if !n.reads[i].Confirmed {
				n.reads[i].Resend = true
			}
		}
	}
	if s.Lead != n.lead || s.RaftState != n.role {
		n.resetElection = true
	}
	n.lead, n.role = s.Lead, s.RaftState
	if n.role == raft.StateLeader && !wasLeader {
		n.ticks = 0
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
	n.dirty = false
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
	n.dirty = true
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

// readState takes raft's answer to a ReadIndex request: the read it names may be served once
// the state machine has applied Index.
func (n *Node) readState(rs raft.ReadState) {
	for i := range n.reads {
		if r := &n.reads[i]; !r.Confirmed && bytes.Equal(r.Ctx, rs.RequestCtx) {
			r.Confirmed, r.Index = true, rs.Index
			return
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

// resend sends again, under fresh contexts, the reads a change of leader left without an
// answer; it reports whether it called etcd raft.
func (n *Node) resend() bool {
	sent := false
	for i := range n.reads {
		if r := &n.reads[i]; r.Resend {
			r.Resend, r.Waited = false, 0
			if n.lead == 0 {
				continue // no one to ask: the sweep asks again later
			}
			r.Ctx = n.newCtx()
			n.do(call{Kind: callReadIndex, Data: r.Ctx})
			sent = true
		}
	}
	return sent
}

// sweep runs every retry interval while the node holds requests: a read that has waited a
// whole interval for its read index asks again (the request or its answer may have been lost),
// and requests older than any client waits for are dropped.
func (n *Node) sweep(env node.Env) {
	keptW := n.writes[:0]
	for _, w := range n.writes {
		if w.Age++; w.Age < maxAge {
			keptW = append(keptW, w)
		}
	}
	n.writes = keptW
	kept := n.reads[:0]
	for _, r := range n.reads {
		if r.Age++; r.Age < maxAge {
			kept = append(kept, r)
		}
	}
	n.reads = kept
	for i := range n.reads {
		r := &n.reads[i]
		if r.Waited++; r.Confirmed || n.lead == 0 || r.Waited < 2 {
			continue
		}
		r.Waited = 0
		if n.bug != BugReadCtxReuse {
			r.Ctx = n.newCtx() // etcd-io/etcd#21399: every attempt under a context of its own
		} else {
			// The seeded bug (etcd-io/etcd#20418): the retry reuses the first attempt's
			// context. If the first attempt was answered after all, and the leader it went to
			// has since been deposed without knowing it, the retry queues the old context
			// again at that leader, behind newer reads, and late heartbeat responses from the
			// first attempt's round confirm it, and with it every read queued before it.
			n.note(env, seenCtxReused)
		}
		n.note(env, seenReadRetry)
		n.do(call{Kind: callReadIndex, Data: r.Ctx})
	}
}
