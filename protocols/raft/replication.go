package raft

import "github.com/replica-io/replica/protocols/node"

// appendEntry adds an entry of the leader's term to its own log, durably, before any follower
// can hear of it.
func (n *Node) appendEntry(env node.Env, e Entry) {
	n.log.Append(e)
	n.saveLog(env, n.log.Last())
	n.sync(env)
	if e.Type == Config {
		n.members, n.configIndex = e.Members, n.log.Last()
	}
}

// heartbeat is the leader's periodic broadcast: it keeps followers from starting elections,
// carries entries to followers that lag, and confirms leadership for reads.
func (n *Node) heartbeat(env node.Env) {
	if n.role != Leader {
		return
	}
	n.broadcastAppend(env)
	env.SetTimer(timerHeartbeat, heartbeatInterval, heartbeatInterval)
}

// broadcastAppend starts a new round: AppendEntries (or a snapshot) to every other node. Nodes
// outside the configuration get the log too, as non-voting learners (§4.2.1): that is how a
// server catches up before it is added, and how a removed one learns it was removed.
func (n *Node) broadcastAppend(env node.Env) {
	n.round++
	for _, id := range env.Nodes() {
		if id != n.id {
			n.sendAppend(env, id)
		}
	}
}

// sendAppend sends peer p what it misses, from next[p]: at most a batch of entries, or the
// snapshot when those entries were compacted away.
func (n *Node) sendAppend(env node.Env, p node.ID) {
	next := n.next[p-1]
	if next <= n.log.Base {
		n.send(env, p, InstallSnapshot{Term: n.term, Snapshot: n.snap, Round: n.round})
		return
	}
	prevTerm, _ := n.log.Term(next - 1)
	n.send(env, p, AppendEntries{Term: n.term, PrevIndex: next - 1, PrevTerm: prevTerm,
		Entries: n.log.From(next, n.opt.batch), Commit: n.commit, Round: n.round})
}

// onAppendEntries is the follower's side of replication (Figure 2, "Receiver implementation").
func (n *Node) onAppendEntries(env node.Env, from node.ID, m AppendEntries) {
	if m.Term < n.term {
		n.send(env, from, AppendReply{Term: n.term, PrevIndex: m.PrevIndex, Round: m.Round})
		return
	}
	if m.Term == n.term && n.role == Leader {
		return // a second leader of this term: election safety is already broken
	}
	n.follow(env, m.Term, from)
	reply, changed := n.appendFrom(m)
	if changed > 0 {
		n.saveLog(env, changed)
		n.sync(env)
	}
	if reply.Success {
		if c := min(m.Commit, reply.Match); c > n.commit {
			n.commit = c
			n.apply(env)
		}
	}
	n.send(env, from, reply)
}

// appendFrom checks that the log holds the entry before m's (the consistency check of §5.3),
// and adds m's entries, dropping any conflicting suffix; changed is the first index it wrote,
// or 0. A refusal tells the leader where this log's version of the refused term begins, so
// that it can skip the whole term.
func (n *Node) appendFrom(m AppendEntries) (reply AppendReply, changed int) {
	reply = AppendReply{Term: n.term, PrevIndex: m.PrevIndex, Round: m.Round}
	prev, prevTerm, entries := m.PrevIndex, m.PrevTerm, m.Entries
	if prev < n.log.Base {
		// The snapshot covers the start of the message. Those entries are committed, so they
		// match the leader's; only what lies beyond the snapshot is news.
		skip := min(len(entries), n.log.Base-prev)
		if prev+len(entries) <= n.log.Base {
			reply.Success, reply.Match = true, n.log.Base
			return reply, 0
		}
		entries = entries[skip:]
		prev, prevTerm = n.log.Base, n.log.BaseTerm
	}
	if !n.log.Has(prev, prevTerm) {
		if prev > n.log.Last() {
			reply.ConflictIndex = n.log.Last() + 1
		} else {
			reply.ConflictTerm, _ = n.log.Term(prev)
			reply.ConflictIndex = n.log.firstOfTerm(prev)
		}
		return reply, 0
	}
	for k, e := range entries {
		i := prev + 1 + k
		truncated := false
		if i <= n.log.Last() {
			if n.log.At(i).Term == e.Term {
				continue // already there (a duplicated or reordered message)
			}
			n.log.TruncateAfter(i - 1) // a conflict: this entry and all that follow go (§5.3)
			truncated = true
		}
		n.log.Append(entries[k:]...)
		if truncated || hasConfig(entries[k:]) {
			n.reconfigure()
		}
		changed = i
		break
	}
	reply.Success, reply.Match = true, prev+len(entries)
	return reply, changed
}

func hasConfig(es []Entry) bool {
	for _, e := range es {
		if e.Type == Config {
			return true
		}
	}
	return false
}

// onAppendReply is the leader learning how far a follower's log matches its own.
func (n *Node) onAppendReply(env node.Env, from node.ID, m AppendReply) {
	if m.Term > n.term {
		n.becomeFollower(env, m.Term, 0)
		return
	}
	if n.role != Leader || m.Term != n.term {
		return
	}
	p := from - 1
	n.active.Add(from)
	if m.Round > n.acked[p] {
		n.acked[p] = m.Round
		n.confirmRounds(env)
	}
	if m.Success {
		advanced := m.Match+1 > n.next[p]
		if m.Match > n.match[p] {
			n.match[p] = m.Match
			n.advanceCommit(env)
		}
		n.next[p] = max(n.next[p], m.Match+1)
		if n.role == Leader && advanced && n.next[p] <= n.log.Last() {
			n.sendAppend(env, from) // more to send than one batch held
		}
		n.maybeTimeoutNow(env, from)
		return
	}
	if m.PrevIndex != n.next[p]-1 {
		return // refuses an older probe; a newer one is under way
	}
	next := m.ConflictIndex
	if m.ConflictTerm != 0 {
		if last := n.log.lastOfTerm(m.ConflictTerm); last != 0 {
			next = last + 1 // the leader has that term too: resume after its last entry of it
		}
	}
	n.next[p] = max(n.match[p]+1, min(next, n.next[p]-1), 1)
	if n.next[p]-1 > m.ConflictIndex {
		n.note(env, seenBacktrack)
	}
	n.sendAppend(env, from)
}

// advanceCommit is the commitment rule (§5.3, §5.4.2): the highest entry stored on a majority
// of the configuration is committed, provided it is of the leader's current term. An entry of
// an earlier term is committed only indirectly, with the first entry of the current term
// after it: counting replicas is not enough for it (Figure 8).
func (n *Node) advanceCommit(env node.Env) {
	for i := n.log.Last(); i > n.commit; i-- {
		if n.log.At(i).Term != n.term && n.cfg.Bug != BugFigure8 {
			// The seeded bug skips this check and commits an earlier term's entry as soon as
			// a majority stores it; a later leader may still overwrite it.
			return
		}
		if n.replicas(i) >= n.members.Majority() {
			n.commit = i
			n.apply(env)
			return
		}
	}
}

// replicas counts the members that store entry i. The leader counts itself only while it is
// a member: a leader removing itself manages a configuration it is not part of (§4.2.2).
func (n *Node) replicas(i int) int {
	c := 0
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id == n.id || n.match[id-1] >= i {
			c++
		}
	}
	return c
}

// onInstallSnapshot replaces a lagging follower's state with the leader's snapshot (§7). If
// the log already holds the snapshot's last entry, what follows it is kept.
func (n *Node) onInstallSnapshot(env node.Env, from node.ID, m InstallSnapshot) {
	if m.Term < n.term {
		n.send(env, from, AppendReply{Term: n.term, PrevIndex: -1, Round: m.Round})
		return
	}
	if m.Term == n.term && n.role == Leader {
		return
	}
	n.follow(env, m.Term, from)
	s := m.Snapshot
	if s.Index > n.commit {
		base := n.log.Base // the segments from here to the snapshot are covered by it now
		if n.log.Has(s.Index, s.Term) {
			n.log.Compact(s.Index, s.Term)
		} else {
			n.log = Log{Base: s.Index, BaseTerm: s.Term}
		}
		n.snap = s
		n.sm = s.restore()
		n.commit, n.applied = s.Index, s.Index
		n.reconfigure()
		env.Store(keySnapshot, n.snap)
		n.saveLog(env, n.log.Last()+1)
		dropSegments(env, base+1, n.log.Base)
		n.sync(env)
		n.note(env, seenInstall)
	}
	n.send(env, from, AppendReply{Term: n.term, Success: true, Match: s.Index, Round: m.Round})
}

// compact snapshots the state machine and drops the log it covers once the applied entries
// past the last snapshot reach the threshold (§7), so that the log stays bounded.
func (n *Node) compact(env node.Env) {
	if n.cfg.Bug == BugNoCompaction {
		return // the seeded bug: the log grows without bound
	}
	if n.applied-n.log.Base < n.opt.snapshotEvery {
		return
	}
	members, _ := n.configAt(n.applied)
	term, _ := n.log.Term(n.applied)
	base := n.log.Base
	n.snap = n.sm.snapshot(n.applied, term, members)
	n.log.Compact(n.applied, term)
	env.Store(keySnapshot, n.snap)
	n.saveLog(env, n.log.Last()+1)
	dropSegments(env, base+1, n.log.Base)
	n.sync(env)
	n.note(env, seenCompact)
}
