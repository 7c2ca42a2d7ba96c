package paxos

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Ballot numbers a proposal attempt. Ballots are totally ordered by round, then by the
// proposer's ID, so that two proposers never use the same ballot.
type Ballot struct {
	Round int
	Node  node.ID
}

// Less orders ballots.
func (b Ballot) Less(o Ballot) bool {
	return b.Round < o.Round || b.Round == o.Round && b.Node < o.Node
}

func (b Ballot) String() string { return fmt.Sprintf("%d.%d", b.Round, b.Node) }

// Value is what the cluster agrees on in the paxos protocol; zero means none. As a
// component (see Instances) Paxos agrees on values of any comparable type V, whose zero
// value means none.
type Value int

// The messages of the protocol, named after the phases of the paper.
type (
	// Prepare (1a) asks acceptors to promise ballot B.
	Prepare struct{ B Ballot }
	// Promise (1b) promises B and reports the acceptor's accepted proposal (zero if none).
	Promise[V comparable] struct {
		B, Accepted Ballot
		Value       V
	}
	// Accept (2a) asks acceptors to accept Value in ballot B.
	Accept[V comparable] struct {
		B     Ballot
		Value V
	}
	// Accepted (2b) tells the proposer of ballot B that an acceptor accepted Value.
	Accepted[V comparable] struct {
		B     Ballot
		Value V
	}
	// Nack refuses ballot B: the acceptor promised a higher one.
	Nack struct{ B, Promised Ballot }
	// Decided tells the other nodes what was decided.
	Decided[V comparable] struct{ Value V }
)

func (m Promise[V]) String() string {
	return fmt.Sprintf("Promise{B:%v Accepted:%v Value:%+v}", m.B, m.Accepted, m.Value)
}
func (m Accept[V]) String() string   { return fmt.Sprintf("Accept{B:%v Value:%+v}", m.B, m.Value) }
func (m Accepted[V]) String() string { return fmt.Sprintf("Accepted{B:%v Value:%+v}", m.B, m.Value) }
func (m Decided[V]) String() string  { return fmt.Sprintf("Decided{Value:%+v}", m.Value) }

// Proposal is the output of a node asked by the layer above to propose Value, for the
// validity property (a client's proposal is in the history already).
type Proposal[V comparable] struct{ Value V }

// Decision is the output of a learner.
type Decision[V comparable] struct{ Value V }

func (d Decision[V]) String() string { return fmt.Sprintf("Decision{Value:%+v}", d.Value) }

// acceptorState is what an acceptor keeps in durable storage.
type acceptorState[V comparable] struct {
	Promised, Accepted Ballot
	Value              V
}

// Node is one Paxos node: proposer, acceptor and learner, agreeing on a value of type V.
type Node[V comparable] struct {
	cfg node.Config

	// Acceptor (durable, but see the no-persist bug).
	acc acceptorState[V]

	// Proposer.
	round    int    // the highest round seen (durable, so a restarted proposer never reuses a ballot)
	ballot   Ballot // the ballot being tried, zero if none
	phase    int    // 1 or 2 while trying ballot
	promises quorum.Votes
	best     Ballot // highest accepted ballot reported by a promise
	bestVal  V
	own      V // the value this node proposes: the first request it got
	waiting  []node.Request
	// passive: the node proposes only once it has a value of its own (a request), instead of
	// driving every undecided instance it hears of; a log's instances are passive, so that
	// only its leader proposes (see Instances).
	passive bool

	// Learner: the proposer learns from its acceptors' answers, and tells the others.
	accepts quorum.Votes // acceptors that accepted ballot, in phase 2
	decided V
}

const (
	keyAcceptor = "acceptor"
	keyRound    = "round"
	timerRetry  = "retry"
)

// Retry timeouts: long enough for a round trip under normal delays, randomized so that
// duelling proposers fall out of step.
const (
	retryMin = 60 * time.Millisecond
	retryMax = 150 * time.Millisecond
)

// New returns node id of a cluster configured by cfg.
func New(cfg node.Config, id node.ID) node.Node {
	return &Node[Value]{cfg: cfg}
}

func (n *Node[V]) quorum() int { return quorum.Majority(n.cfg.N) }

// Start recovers the acceptor's promise and accepted proposal, and the proposer's round. The
// learner forgot any decision; its timer makes it ask again.
func (n *Node[V]) Start(env node.Env) {
	n.acc, _ = node.Load[acceptorState[V]](env, keyAcceptor)
	n.round, _ = node.Load[int](env, keyRound)
	if n.mayPropose(env.Self()) {
		env.SetTimer(timerRetry, retryMin, retryMax)
	}
}

// Request is a client (or, for a component, the layer above) asking the cluster to decide
// its value; the reply is the decision.
func (n *Node[V]) Request(env node.Env, req node.Request) {
	var none V
	if n.decided != none {
		env.Reply(req, n.decided)
		return
	}
	n.waiting = append(n.waiting, req)
	v, ok := node.OpOf[V](req)
	if ok && req.Client == 0 {
		env.Output(Proposal[V]{Value: v})
	}
	if ok && n.own == none {
		n.own = v
	}
	if n.ballot == (Ballot{}) {
		n.propose(env)
	}
}

// Timer fires while the node has not decided: its last ballot did not finish in time, so it
// tries a higher one. A node with no value of its own proposes too: phase 1 either teaches
// it the decision or finds an accepted value to drive to a decision.
func (n *Node[V]) Timer(env node.Env, name string) {
	var none V
	if name != timerRetry || n.decided != none {
		return
	}
	if n.cfg.Bug == BugNoRetry {
		return // the seeded bug: one attempt, and never another
	}
	n.propose(env)
}

// Receive dispatches a message to the role it is for.
func (n *Node[V]) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case Prepare:
		n.onPrepare(env, from, m)
	case Promise[V]:
		n.onPromise(env, from, m)
	case Accept[V]:
		n.onAccept(env, from, m)
	case Accepted[V]:
		n.onAccepted(env, from, m)
	case Nack:
		n.onNack(env, m)
	case Decided[V]:
		n.decide(env, m.Value)
	}
}

// send delivers m to peer to, handling it at once when to is this node itself.
func (n *Node[V]) send(env node.Env, to node.ID, m node.Message) {
	if to == env.Self() {
		n.Receive(env, to, m)
		return
	}
	env.Send(to, m)
}

// toAll sends m to every node, this one included.
func (n *Node[V]) toAll(env node.Env, m node.Message) {
	env.Broadcast(m)
	n.Receive(env, env.Self(), m)
}

// propose starts phase 1 with a ballot higher than any seen.
func (n *Node[V]) propose(env node.Env) {
	if !n.mayPropose(env.Self()) {
		return
	}
	n.round++
	env.Store(keyRound, n.round)
	env.Sync()
	n.ballot = Ballot{Round: n.round, Node: env.Self()}
	n.phase = 1
	n.promises, n.accepts = quorum.Votes{}, quorum.Votes{}
	n.best, n.bestVal = Ballot{}, *new(V)
	if n.mayPropose(env.Self()) {
		env.SetTimer(timerRetry, retryMin, retryMax) // there is another ballot to try
	}
	n.toAll(env, Prepare{B: n.ballot})
}

// mayPropose applies the bounds that make exhaustive exploration finite: only the first
// "proposers" nodes propose, and no ballot goes beyond round "max-round" (0: no bound). A
// passive node proposes only a value of its own.
func (n *Node[V]) mayPropose(self node.ID) bool {
	if p := n.cfg.Param(ParamProposers, 0); p > 0 && int(self) > p {
		return false
	}
	if n.passive && n.own == *new(V) {
		return false
	}
	r := n.cfg.Param(ParamMaxRound, 0)
	return r == 0 || n.round < r
}

// onPrepare is phase 1b: promise to ignore lower ballots, and report what was accepted.
func (n *Node[V]) onPrepare(env node.Env, from node.ID, m Prepare) {
	if n.decided != *new(V) {
		n.send(env, from, Decided[V]{Value: n.decided})
		return
	}
	if !n.acc.Promised.Less(m.B) {
		n.send(env, from, Nack{B: m.B, Promised: n.acc.Promised})
		return
	}
	n.acc.Promised = m.B
	n.persist(env)
	n.send(env, from, Promise[V]{B: m.B, Accepted: n.acc.Accepted, Value: n.acc.Value})
}

// onPromise collects phase 1b answers; with a majority, the proposer moves to phase 2 with
// the value of the highest accepted ballot reported, or its own.
func (n *Node[V]) onPromise(env node.Env, from node.ID, m Promise[V]) {
	if m.B != n.ballot || n.phase != 1 || !n.promises.Add(from) {
		return
	}
	if m.Accepted != (Ballot{}) && n.best.Less(m.Accepted) {
		n.best, n.bestVal = m.Accepted, m.Value
	}
	if n.promises.Count() < n.quorum() {
		return
	}
	var none V
	v := n.bestVal
	if v == none {
		v = n.own
	}
	if v == none {
		n.phase = 0 // nothing was chosen, and there is nothing to propose
		return
	}
	n.phase = 2
	n.toAll(env, Accept[V]{B: n.ballot, Value: v})
}

// onAccept is phase 2b: accept unless a higher ballot was promised, and tell the proposer.
func (n *Node[V]) onAccept(env node.Env, from node.ID, m Accept[V]) {
	if n.decided != *new(V) {
		n.send(env, from, Decided[V]{Value: n.decided})
		return
	}
	if m.B.Less(n.acc.Promised) {
		n.send(env, from, Nack{B: m.B, Promised: n.acc.Promised})
		return
	}
	n.acc = acceptorState[V]{Promised: m.B, Accepted: m.B, Value: m.Value}
	n.persist(env)
	n.send(env, from, Accepted[V]{B: m.B, Value: m.Value})
}

// persist syncs the acceptor's state before it answers: an acceptor that forgot a promise
// after a crash could break it.
func (n *Node[V]) persist(env node.Env) {
	if n.cfg.Bug == BugNoPersist {
		// The seeded bug: only the accepted proposal reaches the disk; the promise stays in
		// memory. After a restart, Promised falls back to the last accepted ballot.
		env.Store(keyAcceptor, acceptorState[V]{Promised: n.acc.Accepted, Accepted: n.acc.Accepted, Value: n.acc.Value})
		env.Sync()
		return
	}
	env.Store(keyAcceptor, n.acc)
	env.Sync()
}

// onAccepted is the proposer learning: a value accepted by a majority in one ballot is
// chosen. (Paxos Made Simple, section 2.3: the proposer acts as the distinguished learner,
// which saves the acceptors from telling every node.)
func (n *Node[V]) onAccepted(env node.Env, from node.ID, m Accepted[V]) {
	if m.B != n.ballot || n.phase != 2 || !n.accepts.Add(from) {
		return
	}
	if n.accepts.Count() >= n.quorum() {
		env.Broadcast(Decided[V]{Value: m.Value})
		n.decide(env, m.Value)
	}
}

// onNack learns of a higher ballot: the next attempt must go above it.
func (n *Node[V]) onNack(env node.Env, m Nack) {
	if m.Promised.Round > n.round {
		n.round = m.Promised.Round
	}
}

// decide records the decision once, and answers the clients that were waiting.
func (n *Node[V]) decide(env node.Env, v V) {
	if n.decided != *new(V) {
		return
	}
	n.decided = v
	n.ballot, n.phase = Ballot{}, 0
	env.CancelTimer(timerRetry)
	env.Output(Decision[V]{Value: v})
	for _, req := range n.waiting {
		env.Reply(req, v)
	}
	n.waiting = nil
}
