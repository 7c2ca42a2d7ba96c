package raft

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// electionTimeout fires when a follower or candidate has heard from no leader for a whole
// randomized election timeout (§5.2). The node forgets the leader, which ends its "lease"
// (see onRequestVote), and, if it is a voting member, campaigns: with Pre-Vote it first asks
// whether it could win, otherwise it starts an election at once.
func (n *Node) electionTimeout(env node.Env) {
	if n.role == Leader {
		return
	}
	n.leader = 0
	if !n.members.Has(n.id) {
		return // a server outside the configuration only listens, and never disrupts (§4.2.3)
	}
	if n.opt.preVote {
		n.preVote(env)
		return
	}
	n.startElection(env, false)
}

// preVote asks the members whether they would vote for this node in the next term (§9.6). No
// term changes, so a node that cannot win (it is cut off, or behind) cannot disrupt a leader.
func (n *Node) preVote(env node.Env) {
	n.role = PreCandidate
	n.votes, n.answered, n.granted = quorum.Votes{}, quorum.Votes{}, 0
	n.armElection(env)
	n.toMembers(env, RequestVote{Term: n.term + 1, LastIndex: n.log.Last(), LastTerm: n.log.LastTerm(), PreVote: true})
	n.countVote(env, n.id)
}

// startElection is §5.2: a new term, a vote for itself, synced, then RequestVote to every member.
// If the votes split, the election timer starts another election.
func (n *Node) startElection(env node.Env, transfer bool) {
	n.role = Candidate
	n.term++
	n.votedFor = n.id
	n.leader = 0
	n.saveState(env)
	n.sync(env)
	n.votes, n.answered, n.granted = quorum.Votes{}, quorum.Votes{}, 0
	n.transferVote = transfer
	n.armElection(env)
	n.askVotes(env, transfer)
	n.countVote(env, n.id)
}

// askVotes sends RequestVote to every member that has not answered yet, and arms a retry: RPCs
// that get no answer are retried (§5.5), so that a voter that was down hears the candidate
// once it is back. (A pre-candidate does not retry: its next election timeout asks again.)
func (n *Node) askVotes(env node.Env, transfer bool) {
	m := RequestVote{Term: n.term, LastIndex: n.log.Last(), LastTerm: n.log.LastTerm(), Transfer: transfer}
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id != n.id && !n.answered.Has(id) {
			n.send(env, id, m)
		}
	}
	env.SetTimer(timerVoteRetry, heartbeatInterval, heartbeatInterval)
}

// retryVotes asks again the members that have not answered the candidacy under way.
func (n *Node) retryVotes(env node.Env) {
	if n.role == Candidate {
		n.askVotes(env, n.transferVote)
	}
}

// onRequestVote answers a (pre-)candidate.
//
// A server that has heard from a leader within an election timeout (its election timer has not
// fired since) is in that leader's lease. It refuses pre-votes (§9.6), and with CheckQuorum it
// ignores RequestVote altogether, without even adopting its term (§4.2.3), unless the election
// comes from a leadership transfer. This is what keeps a server that cannot hear the leader
// from deposing it: without either option, a node behind a partial partition bumps the term
// again and again, and no leader stays elected.
func (n *Node) onRequestVote(env node.Env, from node.ID, m RequestVote) {
	inLease := n.leader != 0 && !m.Transfer
	if m.PreVote {
		grant := m.Term > n.term && n.log.UpToDate(m.LastIndex, m.LastTerm)
		if grant && n.opt.preVote && inLease {
			grant = false
			n.note(env, seenLeaseKept)
		}
		term := n.term
		if grant {
			term = m.Term
		}
		n.send(env, from, Vote{Term: term, PreVote: true, Granted: grant})
		return
	}
	if m.Term > n.term && inLease && n.opt.checkQuorum {
		n.note(env, seenLeaseKept)
		return
	}
	if m.Term > n.term {
		n.becomeFollower(env, m.Term, 0)
	}
	grant := m.Term == n.term && (n.votedFor == 0 || n.votedFor == from) && n.log.UpToDate(m.LastIndex, m.LastTerm)
	if grant {
		n.votedFor = from
		n.saveState(env)
		n.sync(env)
		n.armElection(env) // granting a vote restarts the timer (Figure 2)
	}
	n.send(env, from, Vote{Term: n.term, Granted: grant})
}

// onVote counts a vote. A reply from a higher term makes the node a follower of that term.
func (n *Node) onVote(env node.Env, from node.ID, m Vote) {
	if !m.PreVote && n.role == Candidate && m.Term == n.term {
		n.answered.Add(from) // an answer to the election under way: no need to ask again
	}
	if m.PreVote && m.Granted {
		if n.role == PreCandidate && m.Term == n.term+1 {
			n.countVote(env, from)
		}
		return
	}
	if m.Term > n.term {
		n.becomeFollower(env, m.Term, 0)
		return
	}
	if n.role == Candidate && !m.PreVote && m.Granted && m.Term == n.term {
		n.countVote(env, from)
	}
}

// countVote adds from's vote; with a majority of the configuration, a pre-candidate starts
// the real election and a candidate becomes leader. Only members' votes count (§4.1).
func (n *Node) countVote(env node.Env, from node.ID) {
	if !n.members.Has(from) {
		return
	}
	if !n.votes.Add(from) && n.cfg.Bug != BugDupVote {
		// A voter counts once. The seeded bug counts a duplicated reply again: a candidate
		// with a minority of real votes can win, beside another leader of the same term.
		return
	}
	n.granted++
	if n.granted < n.members.Majority() {
		return
	}
	if n.role == PreCandidate {
		n.startElection(env, false)
		return
	}
	n.becomeLeader(env)
}

// onTimeoutNow starts the election a leadership transfer asked for, skipping Pre-Vote (§3.10).
func (n *Node) onTimeoutNow(env node.Env, m TimeoutNow) {
	if m.Term != n.term || n.role == Leader || !n.members.Has(n.id) {
		return
	}
	n.note(env, seenTransfer)
	n.startElection(env, true)
}

// becomeLeader takes office (§5.2, §5.3): every follower is assumed up to date until it says
// otherwise, a blank entry of the new term goes into the log (§8: once it is committed, so is
// everything before it), and the first heartbeat goes out.
func (n *Node) becomeLeader(env node.Env) {
	n.role, n.leader = Leader, n.id
	env.CancelTimer(timerElection)
	env.CancelTimer(timerVoteRetry)
	size := len(env.Nodes())
	n.next, n.match, n.acked = make([]int, size), make([]int, size), make([]int, size)
	for i := range n.next {
		n.next[i] = n.log.Last() + 1
	}
	n.active = quorum.Votes{}
	n.round, n.confirmed = 0, 0
	n.transferee, n.timeoutSent = 0, false
	env.Output(Elected{Term: n.term})
	n.appendEntry(env, Entry{Term: n.term, Type: Noop})
	n.termStart = n.log.Last()
	n.broadcastAppend(env)
	env.SetTimer(timerHeartbeat, heartbeatInterval, heartbeatInterval)
	if n.opt.checkQuorum {
		env.SetTimer(timerCheckQuorum, electionMin, electionMin)
	}
	if n.opt.churn > 0 {
		env.SetTimer(timerReconfig, 0, n.opt.churn)
	}
	if n.opt.transfer > 0 {
		env.SetTimer(timerTransfer, n.opt.transfer/2, n.opt.transfer)
	}
	n.advanceCommit(env) // a configuration of one commits at once
}

// stepDown ends this node's leadership: clients waiting on it are told to look elsewhere
// (their requests may still commit; a retry is recognized by its session), and the leader's
// timers stop.
func (n *Node) stepDown(env node.Env) {
	for _, w := range n.waiting {
		env.Reply(w.Req, Reply{})
	}
	for _, r := range n.reads {
		env.Reply(r.Req, Reply{})
	}
	n.waiting, n.reads = nil, nil
	n.transferee = 0
	for _, t := range []string{timerHeartbeat, timerCheckQuorum, timerReconfig, timerTransfer, timerTransferEnd, timerVoteRetry} {
		env.CancelTimer(t)
	}
}

// checkQuorum: a leader that has not heard from a majority of its configuration within an
// election timeout steps down (§6.2), so that a leader cut off in a minority stops serving,
// and so that, with the lease above, a majority can elect a new one.
func (n *Node) checkQuorum(env node.Env) {
	if n.role != Leader {
		return
	}
	heard := 0
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id == n.id || n.active.Has(id) {
			heard++
		}
	}
	n.active = quorum.Votes{}
	if heard < n.members.Majority() {
		n.note(env, seenCheckQuorum)
		n.becomeFollower(env, n.term, 0)
		return
	}
	env.SetTimer(timerCheckQuorum, electionMin, electionMin)
}
