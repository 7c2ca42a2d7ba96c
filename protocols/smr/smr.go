// Package smr is the state machine layer as a component: it turns a replicated log into a
// key-value service with client sessions (Schneider's state machine approach, with the
// sessions that make retried commands run once, as in Raft's section 6.3).
//
// Clients send it requests (kv.Op); it appends each as an entry of the log below and answers
// once the entry is committed and applied. Every node applies the committed entries in log
// order to its own copy of the store. A client's retry of an operation (after a timeout, or
// at another node) carries the same sequence number; the session table, part of the
// replicated state, keeps each client's last sequence number and result, so a command
// committed twice is applied once and the retry gets the first answer.
//
// Interface: the root of a stack; clients' requests (kv.Op) in, replies (Reply) out.
// Sub-components: "log", a replicated log (package replog, or anything with its interface).
//
// Properties: linearizability of the clients' history against kv.Store (the protocol's
// workload), and exactly-once: a node applies a client's command at one index only.
//
// Seeded bug: no-session (the state machine applies every committed command, retries
// included: an operation can take effect twice).
package smr

import (
	"fmt"
	"maps"
	"slices"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/replog"
)

// BugNoSession is the seeded bug.
const BugNoSession = "no-session"

// Reply answers a client: the result, or OK false with the leader to ask instead.
type Reply struct {
	Result kv.Result
	OK     bool
	Leader node.ID
}

// Applied is the output of applying a client's command at a log index.
type Applied struct {
	Index  int
	Client node.ClientID
	Seq    int
}

// session is a client's last command and its result.
type session struct {
	Seq    int
	Result kv.Result
}

// the log below, by name.
const log node.Sub[replog.Append] = "log"

// Machine is one node's copy of the key-value store.
type Machine struct {
	cfg      node.Config
	store    map[string]int
	sessions map[node.ClientID]session
	applied  int            // log entries applied
	waiting  []node.Request // clients' requests this node appended, not yet answered
}

// New returns node id's state machine.
func New(cfg node.Config, id node.ID) node.Node {
	return &Machine{cfg: cfg, store: map[string]int{}, sessions: map[node.ClientID]session{}}
}

// Start: the log below indicates its committed entries again, from the first.
func (m *Machine) Start(env node.Env) {}

// Request takes a client's operation: answered from the session table if it ran already,
// otherwise appended to the log.
func (m *Machine) Request(env node.Env, req node.Request) {
	op, ok := node.OpOf[kv.Op](req)
	if !ok {
		return
	}
	if s, ok := m.sessions[req.Client]; ok && s.Seq >= req.Seq {
		if s.Seq == req.Seq {
			env.Reply(req, Reply{Result: s.Result, OK: true})
		}
		return
	}
	if !slices.ContainsFunc(m.waiting, func(w node.Request) bool { return w.Client == req.Client && w.Seq == req.Seq }) {
		m.waiting = append(m.waiting, req)
	}
	log.Request(env, replog.Append{Entry: replog.Entry{Client: req.Client, Seq: req.Seq, Op: op}})
}

// Indication: committed entries to apply, and entries the log did not take.
func (m *Machine) Indication(env node.Env, child string, ind any) {
	switch ind := ind.(type) {
	case replog.Committed:
		m.apply(env, ind.Index, ind.Entry)
	case replog.Redirect:
		m.answer(env, ind.Entry.Client, ind.Entry.Seq, Reply{Leader: ind.Leader})
	}
}

// apply runs a committed entry, once per client command.
func (m *Machine) apply(env node.Env, index int, e replog.Entry) {
	if index != m.applied+1 {
		return // applied already (a log read back after a restart starts again from 1)
	}
	m.applied = index
	op, ok := e.Op.(kv.Op)
	if e.Noop || !ok {
		return
	}
	s, seen := m.sessions[e.Client]
	if seen && s.Seq >= e.Seq && m.cfg.Bug != BugNoSession {
		return // a retry committed twice: it ran already
	}
	m.sessions[e.Client] = session{Seq: e.Seq, Result: kv.Apply(m.store, op)}
	env.Output(Applied{Index: index, Client: e.Client, Seq: e.Seq})
	m.answer(env, e.Client, e.Seq, Reply{Result: m.sessions[e.Client].Result, OK: true})
}

// answer replies to the client's waiting request with that sequence number, if any.
func (m *Machine) answer(env node.Env, c node.ClientID, seq int, r Reply) {
	for i, w := range m.waiting {
		if w.Client == c && w.Seq == seq {
			env.Reply(w, r)
			m.waiting = slices.Delete(m.waiting, i, i+1)
			return
		}
	}
}

func (m *Machine) Receive(node.Env, node.ID, node.Message) {}
func (m *Machine) Timer(node.Env, string)                  {}

// Size counts the keys, the sessions and the waiting requests.
func (m *Machine) Size() int { return len(m.store) + len(m.sessions) + len(m.waiting) }

func (m *Machine) String() string {
	keys := slices.Sorted(maps.Keys(m.store))
	s := fmt.Sprintf("applied %d:", m.applied)
	for _, k := range keys {
		s += fmt.Sprintf(" %s=%d", k, m.store[k])
	}
	return s
}

// Module describes the state machine to the tools.
var Module = &node.Module{
	Name:    "kv-state-machine",
	Summary: "a key-value store with client sessions, applying a replicated log in order",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugNoSession, Scenario: "slow-commits",
			Summary: "the state machine applies every committed command, retries included: an operation takes effect twice"},
	},
	Invariants: []node.Invariant{{Name: "exactly-once", Check: exactlyOnce}},
}

// exactlyOnce: a node applies each client command at one log index only (after a restart it
// applies the log again, at the same indices).
func exactlyOnce(w node.World) error {
	if len(w.NewOutputs()) == 0 {
		return nil
	}
	type key struct {
		node   node.ID
		client node.ClientID
		seq    int
	}
	seen, memo := node.Memo(w, "applied", func() map[key]int { return map[key]int{} })
	fresh := w.NewOutputs()
	if !memo {
		seen, fresh = map[key]int{}, w.Outputs()
	}
	for _, o := range fresh {
		a, ok := o.Value.(Applied)
		if !ok {
			continue
		}
		k := key{o.Node, a.Client, a.Seq}
		if at, ok := seen[k]; ok && at != a.Index {
			return fmt.Errorf("n%d applied client c%d's command %d twice: at index %d and at %d", o.Node, a.Client, a.Seq, at, a.Index)
		}
		seen[k] = a.Index
	}
	return nil
}
