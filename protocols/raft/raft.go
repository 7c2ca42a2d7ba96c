package raft

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Role is what a server currently is (§5.1), with the pre-candidate of the Pre-Vote
// extension (§9.6) between follower and candidate.
type Role uint8

const (
	Follower Role = iota
	PreCandidate
	Candidate
	Leader
)

func (r Role) String() string {
	return [...]string{"follower", "precandidate", "candidate", "leader"}[r]
}

// The messages: the RPCs of Figure 2 as one-way messages, with their replies.
type (
	// RequestVote asks for a vote in Term (§5.2). A pre-vote (§9.6) asks whether the voter
	// would grant it, without changing anyone's term. Transfer marks the election that a
	// leadership transfer started (§3.10): voters must not refuse it for knowing a leader.
	RequestVote struct {
		Term                int
		LastIndex, LastTerm int
		PreVote, Transfer   bool
	}
	// Vote answers a RequestVote. A granted pre-vote carries the term it was asked for.
	Vote struct {
		Term             int
		PreVote, Granted bool
	}
	// AppendEntries replicates Entries after (PrevIndex, PrevTerm), and tells the follower
	// what is committed; with no entries it is a heartbeat (§5.3). Round numbers the
	// leader's broadcasts: a follower echoes it, which confirms leadership for reads (§6.4).
	AppendEntries struct {
		Term                int
		PrevIndex, PrevTerm int
		Entries             []Entry
		Commit              int
		Round               int
	}
	// AppendReply answers AppendEntries and InstallSnapshot. On success the follower's log
	// matches the leader's through Match. On failure ConflictTerm and ConflictIndex let the
	// leader skip a whole term at a time (§5.3, "fast backtracking"), and PrevIndex says which
	// probe was refused, so that a late refusal of an older probe is ignored.
	AppendReply struct {
		Term                        int
		Success                     bool
		Match                       int
		PrevIndex                   int
		ConflictTerm, ConflictIndex int
		Round                       int
	}
	// InstallSnapshot sends a follower that lags behind the leader's compacted log the
	// leader's snapshot, whole (§7).
	InstallSnapshot struct {
		Term     int
		Snapshot Snapshot
		Round    int
	}
	// TimeoutNow tells the target of a leadership transfer to start an election at once (§3.10).
	TimeoutNow struct{ Term int }
)

func (m RequestVote) String() string {
	kind := "RequestVote"
	if m.PreVote {
		kind = "PreVote"
	}
	if m.Transfer {
		kind += "(transfer)"
	}
	return fmt.Sprintf("%s t%d last=%d/t%d", kind, m.Term, m.LastIndex, m.LastTerm)
}

func (m Vote) String() string {
	kind := "Vote"
	if m.PreVote {
		kind = "PreVote"
	}
	return fmt.Sprintf("%s t%d granted=%v", kind, m.Term, m.Granted)
}

func (m AppendEntries) String() string {
	return fmt.Sprintf("AppendEntries t%d prev=%d/t%d %v commit=%d r%d", m.Term, m.PrevIndex, m.PrevTerm, m.Entries, m.Commit, m.Round)
}

func (m AppendReply) String() string {
	if m.Success {
		return fmt.Sprintf("AppendReply t%d ok match=%d r%d", m.Term, m.Match, m.Round)
	}
	return fmt.Sprintf("AppendReply t%d refused prev=%d conflict=%d/t%d r%d", m.Term, m.PrevIndex, m.ConflictIndex, m.ConflictTerm, m.Round)
}

func (m InstallSnapshot) String() string {
	return fmt.Sprintf("InstallSnapshot t%d %s r%d", m.Term, m.Snapshot, m.Round)
}

func (m TimeoutNow) String() string { return fmt.Sprintf("TimeoutNow t%d", m.Term) }

// Outputs: what the properties observe.
type (
	// Elected: the node became leader of Term.
	Elected struct{ Term int }
	// Applied: the node applied the entry at Index to its state machine.
	Applied struct {
		Index, Term int
		Type        EntryType
		Client      node.ClientID
		Seq         int
	}
)

func (o Elected) String() string { return fmt.Sprintf("elected t%d", o.Term) }
func (o Applied) String() string {
	if o.Type == Command {
		return fmt.Sprintf("applied %d t%d c%d.%d", o.Index, o.Term, o.Client, o.Seq)
	}
	return fmt.Sprintf("applied %d t%d %s", o.Index, o.Term, o.Type)
}

// Timing (§5.6: broadcastTime << electionTimeout << MTBF). Election timeouts are drawn from
// [electionMin, electionMax] through the driver, so that servers rarely time out together.
const (
	heartbeatInterval = 50 * time.Millisecond
	electionMin       = 150 * time.Millisecond
	electionMax       = 300 * time.Millisecond
)

// Timer names.
const (
	timerElection    = "election"
	timerHeartbeat   = "heartbeat"
	timerCheckQuorum = "check-quorum"
	timerReconfig    = "reconfigure"
	timerTransfer    = "transfer"
	timerTransferEnd = "transfer-end"
	timerVoteRetry   = "vote-retry"
)

// Node is one Raft server.
type Node struct {
	cfg node.Config
	opt options
	id  node.ID

	// Persistent state on all servers (Figure 2), synced before the node answers.
	term     int
	votedFor node.ID
	log      Log
	snap     Snapshot // the state machine as of log.Base

	// Volatile state on all servers.
	role         Role
	leader       node.ID // the leader of this term, as far as the node knows; 0 once its election timer fires
	commit       int     // highest index known to be committed
	applied      int     // highest index applied to the state machine
	members      Members // the latest configuration in the log, committed or not (§4.1)
	configIndex  int     // the index of that configuration's entry (log.Base if it came with the snapshot)
	sm           Store
	votes        quorum.Votes // voters that granted this (pre-)candidacy
	answered     quorum.Votes // voters that answered it, either way
	granted      int          // votes counted (see the dup-vote bug)
	transferVote bool         // the candidacy comes from a leadership transfer

	// Volatile state on leaders, reset at each election.
	next, match []int        // per node (index id-1): next entry to send, highest entry known replicated
	acked       []int        // per node: highest heartbeat round it echoed in this term
	termStart   int          // index of the leader's no-op: once committed, so is all that came before
	active      quorum.Votes // nodes heard from since the last CheckQuorum
	round       int          // the latest broadcast round
	confirmed   int          // the latest round a majority echoed: the leader was leader then
	waiting     []pending    // write requests waiting for their entry to be applied
	reads       []pendingRead
	transferee  node.ID // the target of a leadership transfer under way
	timeoutSent bool

	seen coverage // notable events of this incarnation, for sometimes-properties
}

// pending is a client request whose entry is at Index.
type pending struct {
	Index int
	Req   node.Request
}

// pendingRead is a read waiting until heartbeat round Round confirms leadership and the state
// machine reaches Index (§6.4).
type pendingRead struct {
	Index, Round int
	Req          node.Request
}

// New returns server id of a cluster configured by cfg.
func New(cfg node.Config, id node.ID) node.Node {
	return &Node{cfg: cfg, opt: optionsOf(cfg), id: id}
}

// Start boots the server, or recovers it after a crash from what it had synced: its term and
// vote, its snapshot and its log. Everything else (commit index, the state machine past the
// snapshot, the leader) is relearned.
func (n *Node) Start(env node.Env) {
	n.id = env.Self()
	if hs, ok := load[hardState](n, env, keyState); ok {
		n.term, n.votedFor = hs.Term, hs.Vote
	}
	n.snap = Snapshot{Members: AllMembers(min(n.opt.voters, n.cfg.N))}
	if s, ok := load[Snapshot](n, env, keySnapshot); ok {
		n.snap = s
	}
	n.log = n.loadLog(env, n.snap)
	n.sm = n.snap.restore()
	n.commit, n.applied = n.snap.Index, n.snap.Index
	n.reconfigure()
	n.role = Follower
	n.armElection(env)
}

// Receive dispatches a message to its handler.
func (n *Node) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case RequestVote:
		n.onRequestVote(env, from, m)
	case Vote:
		n.onVote(env, from, m)
	case AppendEntries:
		n.onAppendEntries(env, from, m)
	case AppendReply:
		n.onAppendReply(env, from, m)
	case InstallSnapshot:
		n.onInstallSnapshot(env, from, m)
	case TimeoutNow:
		n.onTimeoutNow(env, m)
	}
}

// Timer dispatches a timer to its handler.
func (n *Node) Timer(env node.Env, name string) {
	switch name {
	case timerElection:
		n.electionTimeout(env)
	case timerHeartbeat:
		n.heartbeat(env)
	case timerCheckQuorum:
		n.checkQuorum(env)
	case timerReconfig:
		n.reconfigureTimeout(env)
	case timerTransfer:
		n.startTransfer(env)
	case timerVoteRetry:
		n.retryVotes(env)
	case timerTransferEnd:
		n.transferee = 0 // the transfer did not finish within an election timeout: lead on (§3.10)
	}
}

// becomeFollower moves to term (forgetting the vote of an older term) as a follower of
// leader, which may be 0 when the node does not know it.
func (n *Node) becomeFollower(env node.Env, term int, leader node.ID) {
	if term > n.term {
		n.term, n.votedFor = term, 0
		n.saveState(env)
		n.sync(env)
	}
	if n.role == Leader {
		n.stepDown(env)
		n.armElection(env)
	}
	if n.role != Follower {
		env.CancelTimer(timerVoteRetry)
	}
	n.role = Follower
	n.leader = leader
}

// follow is a follower hearing from the leader of term: the leader is alive, so the election
// timer starts over.
func (n *Node) follow(env node.Env, term int, leader node.ID) {
	n.becomeFollower(env, term, leader)
	n.armElection(env)
}

// armElection (re)starts the election timer with a randomized timeout (§5.2).
func (n *Node) armElection(env node.Env) { env.SetTimer(timerElection, electionMin, electionMax) }

// send hands m to peer to.
func (n *Node) send(env node.Env, to node.ID, m node.Message) { env.Send(to, m) }

// toMembers sends m to every voting member but this node.
func (n *Node) toMembers(env node.Env, m node.Message) {
	for id := n.members.Next(0); id != 0; id = n.members.Next(id) {
		if id != n.id {
			env.Send(id, m)
		}
	}
}

// reconfigure sets the configuration to the latest one in the log, or the snapshot's (§4.1:
// a server uses the latest configuration in its log, whether or not it is committed).
func (n *Node) reconfigure() {
	n.members, n.configIndex = n.configAt(n.log.Last())
}

// configAt returns the configuration in force at index i, and the index of its entry.
func (n *Node) configAt(i int) (Members, int) {
	for j := i; j > n.log.Base; j-- {
		if e := n.log.At(j); e.Type == Config {
			return e.Members, j
		}
	}
	return n.snap.Members, n.log.Base
}

// Size is the node's memory in entries and rows: its log past the snapshot, its client
// sessions, and the client requests it holds. See Protocol.MaxSize for the bound.
func (n *Node) Size() int {
	return len(n.log.Entries) + len(n.sm.Sessions) + len(n.waiting) + len(n.reads)
}

// String summarizes the node for violation reports.
func (n *Node) String() string {
	return fmt.Sprintf("%s t%d vote=%d leader=%d log=(%d/t%d..%d/t%d) commit=%d applied=%d config=%s@%d",
		n.role, n.term, n.votedFor, n.leader, n.log.Base, n.log.BaseTerm, n.log.Last(), n.log.LastTerm(),
		n.commit, n.applied, n.members, n.configIndex)
}

// Term, Role and Leader tell tools outside the package who leads, as far as this node knows.
func (n *Node) Term() int       { return n.term }
func (n *Node) Role() Role      { return n.role }
func (n *Node) Leader() node.ID { return n.leader }
