// Package replog is a replicated log as a component: a leader-driven sequence of consensus
// instances (multi-Paxos's log, over package paxos's Instances), with a pipeline window, and
// a leader from Omega.
//
// Interface:
//
//	request     Append{Entry}              add Entry to the log (at the leader)
//	indication  Committed{Index, Entry}    Entry is the log's Index-th entry; indicated in
//	                                       index order, each once per incarnation of the node
//	indication  Redirect{Entry, Leader}    this node does not lead: Entry was not appended
//
// Sub-components: "paxos" (consensus per slot: paxos.Instances of Entry) and "omega" (leader
// election: package omega).
//
// How it works. Only the node Omega trusts proposes: it gives each entry the next free slot,
// with at most Window slots undecided at once (the pipeline), and proposes it in that slot's
// Paxos instance. An entry that loses its slot to another value (a previous leader's, which
// Paxos's phase 1 finds and keeps) is proposed again in a later slot. A node that becomes
// leader first proposes a no-op in every slot it knows to be open, which either finds what an
// earlier leader got accepted there or fills the hole. Slots are committed in order, once
// every slot below is decided; each decided entry is synced before it counts, and a
// restarted node reads its log back and indicates it again from the start, so that the layer
// above rebuilds its state.
//
// A node that missed decisions (it was cut off, or restarted) catches up from the others:
// every node's periodic STATUS says how far it has committed, and a node behind sends FETCH,
// answered with a batch of committed entries. These messages need no perfect links: they are
// repeated until the node has caught up.
//
// Properties: log agreement (no two nodes commit different entries at one index, always) and,
// after healing, catch-up (every node that is up commits everything any node that is up has).
//
// Seeded bug: skip-gap (a node commits a decided slot while a slot below it is still
// undecided: nodes commit entries at different indices).
package replog

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/omega"
	"github.com/replica-io/replica/protocols/paxos"
)

// BugSkipGap is the seeded bug.
const BugSkipGap = "skip-gap"

// ParamWindow is the pipeline window: how many slots the leader may have undecided at once.
const (
	ParamWindow   = "window"
	DefaultWindow = 4
)

// Entry is what the log orders: a command of the layer above (its client, the client's
// sequence number, the operation), or a no-op that fills a slot.
type Entry struct {
	Client node.ClientID
	Seq    int
	Op     any
	Noop   bool
}

func (e Entry) String() string {
	if e.Noop {
		return "noop"
	}
	return fmt.Sprintf("c%d#%d %v", e.Client, e.Seq, e.Op)
}

// The interface.
type (
	Append    struct{ Entry Entry }
	Committed struct {
		Index int
		Entry Entry
	}
	Redirect struct {
		Entry  Entry
		Leader node.ID
	}
)

// The log's own messages, for catching up.
type (
	Status  struct{ Commit int }
	Fetch   struct{ From int }
	Entries struct {
		From    int
		Entries []Entry
	}
)

func (m Status) String() string { return fmt.Sprintf("STATUS(commit %d)", m.Commit) }
func (m Fetch) String() string  { return fmt.Sprintf("FETCH(from %d)", m.From) }
func (m Entries) String() string {
	return fmt.Sprintf("ENTRIES(%d..%d)", m.From, m.From+len(m.Entries)-1)
}

// The sub-components, by name, with the requests they take.
const (
	consensus      node.Sub[paxos.Propose[Entry]] = "paxos"
	leaderElection                                = "omega"
)

// Tuning.
const (
	timerStatus = "status"
	statusEvery = 250 * time.Millisecond
	batch       = 32 // entries per ENTRIES
	keyHigh     = "high"
)

// slotEntry is a decided slot above the committed prefix, or a proposal in flight.
type slotEntry struct {
	Slot  int
	Entry Entry
}

// Log is one node's replica of the log.
type Log struct {
	cfg    node.Config
	self   node.ID
	leader node.ID

	entries []Entry     // the committed prefix: entries[i] is index i+1
	ahead   []slotEntry // decided slots above it, by slot
	high    int         // the highest slot known to be in use

	// The leader's side.
	next     int         // the next slot to propose in
	inflight []slotEntry // proposed, not decided
	queue    []Entry     // waiting for a slot
}

// New returns node id's log.
func New(cfg node.Config, id node.ID) node.Node { return &Log{cfg: cfg, self: id} }

func (l *Log) commit() int { return len(l.entries) }

func (l *Log) window() int { return max(1, l.cfg.Param(ParamWindow, DefaultWindow)) }

// Start reads back what the node had decided, indicating the committed prefix again.
func (l *Log) Start(env node.Env) {
	high, _ := node.Load[int](env, keyHigh)
	for s := 1; s <= high; s++ {
		if e, ok := node.Load[Entry](env, entryKey(s)); ok {
			l.learn(env, s, e)
		}
	}
	l.high = high
	env.SetTimer(timerStatus, statusEvery, statusEvery+statusEvery/2)
}

func entryKey(slot int) string { return "entry/" + strconv.Itoa(slot) }

// Request appends an entry, at the leader.
func (l *Log) Request(env node.Env, req node.Request) {
	a, ok := node.OpOf[Append](req)
	if !ok {
		return
	}
	if l.leader != l.self {
		node.Indicate(env, Redirect{Entry: a.Entry, Leader: l.leader})
		return
	}
	l.queue = append(l.queue, a.Entry)
	l.fill(env)
}

// Indication: decisions from the consensus instances, the leader from Omega.
func (l *Log) Indication(env node.Env, child string, ind any) {
	switch ind := ind.(type) {
	case paxos.SlotDecided[Entry]:
		l.decided(env, ind.Slot, ind.Value)
	case omega.Leader:
		l.follow(env, ind.ID)
	}
}

// follow takes the leader Omega trusts. A node that starts leading first proposes a no-op in
// every open slot it knows of; one that stops hands its waiting entries back.
func (l *Log) follow(env node.Env, leader node.ID) {
	was := l.leader == l.self
	l.leader = leader
	switch {
	case leader == l.self && !was:
		l.next = max(l.next, l.commit()+1)
		l.fillHoles(env)
		l.next = max(l.next, l.high+1)
		l.fill(env)
	case leader != l.self && was:
		for _, e := range l.queue {
			node.Indicate(env, Redirect{Entry: e, Leader: leader})
		}
		// What it proposed may still be decided (the next leader's phase 1 finds it); if not,
		// its clients time out and ask again.
		l.queue, l.inflight = nil, nil
	}
}

// fillHoles, at the leader, proposes a no-op in every slot below the highest in use that is
// neither decided nor being proposed: it finds what an earlier leader got accepted there, or
// fills the hole, so that the slots above can commit.
func (l *Log) fillHoles(env node.Env) {
	if l.leader != l.self {
		return
	}
	for s := l.commit() + 1; s <= l.high; s++ {
		if !l.isDecided(s) && !l.proposing(s) {
			l.propose(env, s, Entry{Noop: true})
		}
	}
}

// fill proposes waiting entries in free slots, up to the window.
func (l *Log) fill(env node.Env) {
	for l.leader == l.self && len(l.queue) > 0 && len(l.inflight) < l.window() {
		e := l.queue[0]
		l.queue = l.queue[1:]
		for l.isDecided(l.next) || l.proposing(l.next) {
			l.next++
		}
		l.propose(env, l.next, e)
		l.next++
	}
}

func (l *Log) propose(env node.Env, slot int, e Entry) {
	l.inflight = append(l.inflight, slotEntry{slot, e})
	l.high = max(l.high, slot)
	consensus.Request(env, paxos.Propose[Entry]{Slot: slot, Value: e})
}

func (l *Log) proposing(slot int) bool {
	return slices.ContainsFunc(l.inflight, func(p slotEntry) bool { return p.Slot == slot })
}

func (l *Log) isDecided(slot int) bool {
	if slot <= l.commit() {
		return true
	}
	_, found := l.findAhead(slot)
	return found
}

func (l *Log) findAhead(slot int) (int, bool) {
	return slices.BinarySearchFunc(l.ahead, slot, func(a slotEntry, s int) int { return a.Slot - s })
}

// decided records slot's decision, durably, and commits what it can. The leader's entry that
// lost the slot to another value is proposed again.
func (l *Log) decided(env node.Env, slot int, e Entry) {
	if l.isDecided(slot) {
		return
	}
	env.Store(entryKey(slot), e)
	if slot > l.high {
		l.high = slot
		env.Store(keyHigh, slot)
	}
	env.Sync()
	if i := slices.IndexFunc(l.inflight, func(p slotEntry) bool { return p.Slot == slot }); i >= 0 {
		mine := l.inflight[i].Entry
		l.inflight = slices.Delete(l.inflight, i, i+1)
		if mine != e && !mine.Noop {
			l.queue = append([]Entry{mine}, l.queue...)
		}
	}
	l.learn(env, slot, e)
	l.fillHoles(env)
	l.fill(env)
}

// learn adds a decided slot and commits the prefix it completes.
func (l *Log) learn(env node.Env, slot int, e Entry) {
	if i, found := l.findAhead(slot); !found && slot > l.commit() {
		l.ahead = slices.Insert(l.ahead, i, slotEntry{slot, e})
	}
	for len(l.ahead) > 0 && (l.ahead[0].Slot == l.commit()+1 || l.cfg.Bug == BugSkipGap) {
		// The seeded bug skips the check that every slot below is decided.
		next := l.ahead[0]
		l.ahead = l.ahead[1:]
		l.entries = append(l.entries, next.Entry)
		env.Output(Committed{Index: l.commit(), Entry: next.Entry})
		node.Indicate(env, Committed{Index: l.commit(), Entry: next.Entry})
	}
}

// Receive handles the catch-up messages.
func (l *Log) Receive(env node.Env, from node.ID, m node.Message) {
	switch m := m.(type) {
	case Status:
		if m.Commit > l.commit() {
			env.Send(from, Fetch{From: l.commit() + 1})
		}
	case Fetch:
		if m.From >= 1 && m.From <= l.commit() {
			end := min(l.commit(), m.From-1+batch)
			env.Send(from, Entries{From: m.From, Entries: slices.Clone(l.entries[m.From-1 : end])})
		}
	case Entries:
		for i, e := range m.Entries {
			if s := m.From + i; s >= 1 {
				l.decided(env, s, e)
			}
		}
	}
}

// Timer: every node tells the others how far it has committed, so that any node behind (the
// leader too, after a restart) fetches what it lacks from one that is ahead.
func (l *Log) Timer(env node.Env, name string) {
	if name != timerStatus {
		return
	}
	if l.commit() > 0 {
		env.Broadcast(Status{Commit: l.commit()})
	}
	env.SetTimer(timerStatus, statusEvery, statusEvery+statusEvery/2)
}

// Commit is how many entries the node has committed; Leader whom it follows.
func (l *Log) Commit() int       { return l.commit() }
func (l *Log) Leader() node.ID   { return l.leader }
func (l *Log) Entry(i int) Entry { return l.entries[i-1] }

// Size is the number of entries the node keeps: committed, decided ahead, in flight, waiting.
func (l *Log) Size() int { return len(l.entries) + len(l.ahead) + len(l.inflight) + len(l.queue) }
