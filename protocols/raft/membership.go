package raft

import "github.com/replica-io/replica/protocols/node"

// reconfigureTimeout is the driver of membership changes in scenarios that churn the
// configuration: every so often the leader adds one server or removes one (§4.1, one server at
// a time, so that the majorities of the old and the new configuration always overlap).
func (n *Node) reconfigureTimeout(env node.Env) {
	if n.role != Leader {
		return
	}
	env.SetTimer(timerReconfig, n.opt.churn/2, n.opt.churn)
	if !n.canReconfigure() {
		return
	}
	size := len(env.Nodes())
	add := n.members.Count() < size && (n.members.Count() <= n.opt.minVoters || env.Choose(2) == 0)
	var cands []node.ID
	for _, id := range env.Nodes() {
		switch {
		case add && !n.members.Has(id) && n.match[id-1] >= n.commit:
			cands = append(cands, id) // a learner that has caught up (§4.2.1)
		case !add && n.members.Has(id) && n.members.Count() > n.opt.minVoters:
			cands = append(cands, id) // possibly the leader itself (§4.2.2)
		}
	}
	if len(cands) == 0 {
		return
	}
	target := cands[env.Choose(len(cands))]
	members := n.members.Add(target)
	if !add {
		members = n.members.Remove(target)
	}
	n.appendEntry(env, Entry{Term: n.term, Type: Config, Members: members})
	n.broadcastAppend(env)
	n.advanceCommit(env)
}

// canReconfigure says whether the leader may append a new configuration. The previous one must
// be committed: one change at a time (§4.1). And an entry of the leader's own term must be
// committed: without that, a leader can append a configuration while an older leader's
// uncommitted one is still out there, the two changes together no longer overlap, and two
// leaders can overwrite each other's committed entries (Ongaro, raft-dev, 2015).
func (n *Node) canReconfigure() bool {
	if n.configIndex > n.commit {
		return false
	}
	if n.commit < n.termStart && n.cfg.Bug != BugMembershipNoFix {
		// The seeded bug omits this check: the single-server change without Ongaro's fix.
		return false
	}
	return true
}

// leaveIfRemoved: a leader that is not part of the configuration it has just committed steps
// down (§4.2.2). It stays a learner, and never campaigns again unless added back.
func (n *Node) leaveIfRemoved(env node.Env) {
	if n.role == Leader && !n.members.Has(n.id) && n.configIndex <= n.commit {
		n.becomeFollower(env, n.term, 0)
	}
}

// startTransfer hands leadership to another member (§3.10): the leader stops taking requests,
// brings the target up to date, and then tells it to start an election at once. If that does
// not happen within an election timeout, the leader carries on.
func (n *Node) startTransfer(env node.Env) {
	if n.role != Leader {
		return
	}
	env.SetTimer(timerTransfer, n.opt.transfer/2, n.opt.transfer)
	if n.transferee != 0 {
		return
	}
	var cands []node.ID
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id != n.id {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return
	}
	n.transferee = cands[env.Choose(len(cands))]
	n.timeoutSent = false
	env.SetTimer(timerTransferEnd, electionMin, electionMin)
	n.sendAppend(env, n.transferee)
	n.maybeTimeoutNow(env, n.transferee)
}

// maybeTimeoutNow sends TimeoutNow once the transfer's target holds the whole log.
func (n *Node) maybeTimeoutNow(env node.Env, p node.ID) {
	if n.transferee != p || n.timeoutSent || n.match[p-1] < n.log.Last() {
		return
	}
	n.timeoutSent = true
	n.send(env, p, TimeoutNow{Term: n.term})
}
