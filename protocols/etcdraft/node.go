package etcdraft

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/node"
)

// Node is one etcd server in miniature: etcd raft's RawNode, the Ready loop that drives it,
// and a key-value service on top.
type Node struct {
	id  node.ID
	n   int
	bug string
	opt options

	inc  uint64   // this incarnation: the boot count, durable
	sent []uint64 // per peer: messages sent to it in this incarnation
	recv []dedup  // per peer: what arrived from it

	// What the node knows of its etcd raft instance, updated at every Ready.
	hard      raftpb.HardState
	lead      uint64
	role      raft.StateType
	applied   uint64
	snapIndex uint64 // the latest snapshot's index, taken here or installed
	conf      raftpb.ConfState
	// The term of the entry applied last, and the bounds of the log in the MemoryStorage.
	appliedTerm, logFirst, logLast uint64
	// A leader's first entry of its term, and whether it is committed.
	termStart     uint64
	termCommitted bool

	sm      Store
	dirty   int // entries applied since the last commit of the state machine to the backend
	writes  []proposal
	reads   []pendingRead
	readSeq uint64
	// The context of the ReadIndex request in flight (nil: none), the sweeps it has waited,
	// and whether the Ready just handled asks for another.
	inflight    []byte
	waited      int
	resendIndex bool

	// The timers that are armed, and what the last step asks of the election timer.
	tickArmed, electionArmed, leaseArmed, sweepArmed, backendArmed bool
	resetElection                                                  bool
	heard                                                          raftpb.Message // the message this step received
	ticks                                                          int            // ticks of the leader's clock this term

	seen coverage

	// With a journal (exploration), everything the instance was built from and every call
	// made to it since; see raft.
	boot    boot
	journal []byte
	inst    live
}

// proposal is a client's write this node proposed and waits to see applied.
type proposal struct {
	Req node.Request
	Age int // sweeps since it was proposed
}

// pendingRead is a client's read waiting for its read index (Ctx names the ReadIndex request
// that covers it; nil until one goes out), then for the state machine to apply that index.
type pendingRead struct {
	Req       node.Request
	Ctx       []byte
	Confirmed bool
	Index     uint64
	Age       int // sweeps since the client asked
}

// Timer names.
const (
	timerTick     = "tick"     // a leader's clock
	timerElection = "election" // a follower's or candidate's election timeout
	timerLease    = "lease"    // a follower's lease: how long it trusts a leader it last heard
	timerSweep    = "sweep"    // read retries, and expiry of requests no one waits for
	timerBackend  = "backend"  // the state machine's batched commit to durable storage
)

// New returns node id of a cluster of cfg, before Start.
func New(cfg node.Config, id node.ID) node.Node {
	return &Node{id: id, n: cfg.N, bug: cfg.Bug, opt: optionsOf(cfg),
		sent: make([]uint64, cfg.N), recv: make([]dedup, cfg.N)}
}

func (n *Node) voters() []uint64 {
	v := make([]uint64, n.n)
	for i := range v {
		v[i] = uint64(i + 1)
	}
	return v
}

// raft returns the node's etcd raft instance. A node copied by the tools has none: it rebuilds
// it by replaying its journal over the storage it booted from, and checks that the rebuilt
// instance is where the node left it.
func (n *Node) raft() *core {
	if c := n.inst.get(); c != nil {
		return c
	}
	if !n.opt.journal {
		panic("etcdraft: node copied without a journal to rebuild etcd raft from (set journal=1)")
	}
	c := replay(uint64(n.id), n.opt, n.boot, n.journal)
	st := c.rn.BasicStatus()
	if st.HardState != n.hard || st.Lead != n.lead || st.RaftState != n.role || st.Applied != n.applied {
		panic(fmt.Sprintf("etcdraft: replaying the journal of n%d gives %v lead %d %v applied %d, not %v lead %d %v applied %d",
			n.id, st.HardState, st.Lead, st.RaftState, st.Applied, n.hard, n.lead, n.role, n.applied))
	}
	n.inst.set(c)
	return c
}

// do makes a call to the instance, in the journal first when the node keeps one.
func (n *Node) do(x call) {
	c := n.raft()
	if n.opt.journal {
		n.journal = appendCall(n.journal, x)
	}
	c.do(x)
}

// Start boots the node from what it had persisted: the write-ahead log (hard state, snapshot,
// entries) and the backend (the state machine as of its consistent index).
func (n *Node) Start(env node.Env) {
	n.inc, _ = node.Load[uint64](env, keyBoot)
	n.inc++
	env.Store(keyBoot, n.inc)
	env.Sync()

	w := loadWAL(env, n.voters())
	sm, ci := loadBackend(env, w.snap.Metadata.Index)
	if n.bug == BugIndexNotAtomic {
		// The seeded bug: the consistent index is read from where the WAL batch saved it,
		// apart from the data. A crash after a WAL sync and before the backend's batch commit
		// leaves it ahead of the data, and the entries in between are never applied here.
		if x, ok := node.Load[uint64](env, keyIndex); ok && x > ci {
			ci = x
		}
	}
	if ci < w.snap.Metadata.Index {
		panic(fmt.Sprintf("etcdraft: n%d's backend (index %d) is behind its snapshot (index %d)", n.id, ci, w.snap.Metadata.Index))
	}
	if commit := max(w.hard.Commit, w.snap.Metadata.Index); ci > commit {
		panic(fmt.Sprintf("etcdraft: n%d's backend (index %d) is past its commit index (%d)", n.id, ci, commit))
	}
	n.sm, n.applied, n.hard, n.snapIndex = sm, ci, w.hard, w.snap.Metadata.Index
	n.conf = cloneConf(w.snap.Metadata.ConfState)
	b := boot{Hard: w.hard, Snap: w.snap, Entries: w.entries, Applied: ci}
	c := newCore(uint64(n.id), n.opt, b)
	if n.opt.journal {
		n.boot = b
	}
	n.inst.set(c)
	st := c.rn.BasicStatus()
	n.hard, n.lead, n.role = st.HardState, st.Lead, st.RaftState // raft's own view of what it loaded
	n.logFirst, _ = c.st.FirstIndex()
	n.logLast, _ = c.st.LastIndex()
	if n.inc > 1 { // a restart: what the backend held must be what was applied there before
		term, err := c.st.Term(ci)
		must(err)
		n.appliedTerm = term
		env.Output(Applied{Index: ci, Term: term, Digest: n.sm.Digest, Restored: true})
		n.note(env, seenRecovered)
	}
	n.resetElection = true
	n.settle(env)
}

// Receive steps a message from a peer into etcd raft, unless it is a copy of one seen before.
func (n *Node) Receive(env node.Env, from node.ID, m node.Message) {
	msg, ok := m.(Msg)
	if !ok || int(from) < 1 || int(from) > n.n || msg.M.To != uint64(n.id) || msg.M.From != uint64(from) {
		return
	}
	if !n.recv[from-1].fresh(msg.Inc, msg.Seq) {
		return
	}
	term, lead := n.hard.Term, n.lead
	n.heard = msg.M
	n.do(call{Kind: callStep, Msg: msg.M})
	n.settle(env)
	if (msg.M.Type == raftpb.MsgVote || msg.M.Type == raftpb.MsgPreVote) && msg.M.Term > term &&
		lead != 0 && n.lead == lead && n.hard.Term == term {
		n.note(env, seenLeaseKept) // a vote refused within the leader's lease (CheckQuorum)
	}
}

// Timer handles the node's clocks.
func (n *Node) Timer(env node.Env, name string) {
	switch name {
	case timerTick:
		n.tickArmed = false
		if n.role != raft.StateLeader || n.opt.maxTicks >= 0 && n.ticks >= n.opt.maxTicks {
			break
		}
		n.ticks++
		n.do(call{Kind: callTick})
		switch {
		case n.raft().rn.BasicStatus().RaftState != raft.StateLeader:
			n.note(env, seenCheckQuorum) // the tick's CheckQuorum found no quorum
		case n.opt.checkQuorum && n.ticks%n.opt.electionTicks == 0:
			// etcd raft checks every ElectionTick ticks of a leader's clock; this one passed.
			env.Output(QuorumChecked{Term: n.hard.Term})
		}
	case timerElection:
		n.electionArmed = false
		if n.role == raft.StateLeader || !n.mayCampaign() {
			break
		}
		// etcd raft would campaign itself once its randomized election timeout has passed,
		// drawing that timeout from a process-wide random source nothing can seed. So a
		// follower's clock never ticks (only a leader's does): the driver draws the election
		// timeout, and when it fires the node campaigns, as raft would have done by itself.
		n.do(call{Kind: callCampaign})
		n.resetElection = true
	case timerLease:
		n.leaseArmed = false
		if n.role == raft.StateFollower && n.lead != 0 {
			// An election timeout without word from the leader: etcd raft's follower, whose
			// clock would have ticked that long, now grants votes again (its lease,
			// electionElapsed < ElectionTick, is over), though it campaigns only once its own
			// randomized timeout has passed. TickQuiesced advances that clock without letting
			// it campaign, which the driver's election timer does instead.
			n.do(call{Kind: callLeaseTicks, Index: uint64(n.opt.electionTicks)})
		}
	case timerSweep:
		n.sweepArmed = false
		n.sweep(env)
	case timerBackend:
		n.backendArmed = false
		n.commitBackend(env)
	}
	n.settle(env)
}

// mayCampaign reports whether the node is a voter and, when exploration bounds the terms,
// whether another campaign stays within them.
func (n *Node) mayCampaign() bool {
	return slices.Contains(n.conf.Voters, uint64(n.id)) && (n.opt.maxTerm == 0 || n.hard.Term < n.opt.maxTerm) &&
		(n.opt.candidates == 0 || int(n.id) <= n.opt.candidates)
}

// settle runs etcd raft's Ready loop until it has nothing more to hand out, then the calls
// the Ready handling deferred (reads sent again), and sets the timers the new state needs.
func (n *Node) settle(env node.Env) {
	c := n.raft()
	for rounds := 0; ; rounds++ {
		if rounds > 1000 {
			panic("etcdraft: the Ready loop does not settle")
		}
		if c.rn.HasReady() {
			n.handleReady(env, c)
			continue
		}
		if !n.resend() {
			break
		}
	}
	if n.opt.batch > 0 && n.dirty >= n.opt.batch {
		n.commitBackend(env) // the batch limit
	}
	n.maybeSnapshot(env)
	n.setTimers(env)
	n.heard = raftpb.Message{}
	if n.opt.journal {
		// A node that keeps a journal is copied before every step (the explorer's world): the
		// instance would only weigh on the state it leaves behind, which rebuilds it if ever
		// it steps again.
		n.inst = live{}
	}
}

// handleReady is one turn of the Ready loop, in the order etcd raft asks for: persist the hard
// state, the snapshot and the entries, and sync; then send the messages; then apply the
// snapshot and the committed entries; then Advance.
func (n *Node) handleReady(env node.Env, c *core) {
	rd := c.ready()
	if n.opt.journal {
		n.journal = appendCall(n.journal, call{Kind: callReady})
	}
	n.persist(env, c, rd)
	n.send(env, rd.Messages)
	n.apply(env, c, rd)
	c.advance(rd)
	if len(rd.CommittedEntries) > 0 {
		n.applied = rd.CommittedEntries[len(rd.CommittedEntries)-1].Index
	}
	n.logFirst, _ = c.st.FirstIndex()
	n.logLast, _ = c.st.LastIndex()
}

// send hands the Ready's messages to the network. Their entries share memory with the log in
// the MemoryStorage, which later Readies change; that is safe because the world keeps its own
// copy of what a node sends (node.Env.Send).
func (n *Node) send(env node.Env, msgs []raftpb.Message) {
	for _, m := range msgs {
		to := node.ID(m.To)
		if to < 1 || int(to) > n.n {
			continue
		}
		n.sent[to-1]++
		env.Send(to, Msg{Inc: n.inc, Seq: n.sent[to-1], M: m})
	}
}

func cloneEntries(es []raftpb.Entry) []raftpb.Entry {
	if es == nil {
		return nil
	}
	out := make([]raftpb.Entry, len(es))
	for i, e := range es {
		e.Data = slices.Clone(e.Data)
		out[i] = e
	}
	return out
}

func cloneConf(c raftpb.ConfState) raftpb.ConfState {
	return raftpb.ConfState{Voters: slices.Clone(c.Voters), Learners: slices.Clone(c.Learners),
		VotersOutgoing: slices.Clone(c.VotersOutgoing), LearnersNext: slices.Clone(c.LearnersNext), AutoLeave: c.AutoLeave}
}

// setTimers arms what the node's role needs: a leader's clock ticks; a follower or candidate
// waits for an election timeout, restarted whenever it hears from its leader, grants a vote,
// or changes term or role (where etcd raft resets its own election clock).
func (n *Node) setTimers(env node.Env) {
	tick := n.opt.tick
	if n.role == raft.StateLeader {
		if n.electionArmed {
			env.CancelTimer(timerElection)
			n.electionArmed = false
		}
		if !n.tickArmed && (n.opt.maxTicks < 0 || n.ticks < n.opt.maxTicks) {
			env.SetTimer(timerTick, tick, tick)
			n.tickArmed = true
		}
	} else {
		if n.tickArmed {
			env.CancelTimer(timerTick)
			n.tickArmed = false
		}
		h := n.heard
		fromLeader := (h.Type == raftpb.MsgApp || h.Type == raftpb.MsgHeartbeat || h.Type == raftpb.MsgSnap) &&
			h.From == n.lead && h.Term == n.hard.Term
		switch {
		case !n.mayCampaign():
			if n.electionArmed {
				env.CancelTimer(timerElection)
				n.electionArmed = false
			}
		case !n.electionArmed || n.resetElection || fromLeader:
			e := tick * time.Duration(n.opt.electionTicks)
			env.SetTimer(timerElection, e, 2*e-1)
			n.electionArmed = true
			if n.role == raft.StateFollower && n.lead != 0 && n.opt.checkQuorum {
				env.SetTimer(timerLease, e, e)
				n.leaseArmed = true
			}
		}
	}
	if n.leaseArmed && (n.role != raft.StateFollower || n.lead == 0) {
		env.CancelTimer(timerLease)
		n.leaseArmed = false
	}
	n.resetElection = false
	if !n.sweepArmed && (n.opt.expire > 0 && (len(n.reads) > 0 || len(n.writes) > 0) || n.inflight != nil) {
		env.SetTimer(timerSweep, n.opt.retry, n.opt.retry)
		n.sweepArmed = true
	}
	if !n.backendArmed && n.dirty > 0 && n.opt.backend > 0 {
		env.SetTimer(timerBackend, n.opt.backend, n.opt.backend)
		n.backendArmed = true
	}
}

// String summarizes the node for violation reports.
func (n Node) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s t%d", strings.ToLower(strings.TrimPrefix(n.role.String(), "State")), n.hard.Term)
	if n.lead != 0 {
		fmt.Fprintf(&b, " lead n%d", n.lead)
	}
	fmt.Fprintf(&b, " commit %d applied %d snapshot %d kv{", n.hard.Commit, n.applied, n.snapIndex)
	for i, k := range slices.Sorted(maps.Keys(n.sm.Data)) {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, n.sm.Data[k])
	}
	fmt.Fprintf(&b, "} reads %d writes %d", len(n.reads), len(n.writes))
	return b.String()
}
