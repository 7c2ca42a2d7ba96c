// Package multipaxos is a linearizable key-value store assembled from the component library,
// not written by hand:
//
//	""                 smr          the key-value state machine, with client sessions
//	log                replog       the replicated log: leader-driven, a pipeline window
//	log/paxos          paxos        consensus per slot (single-decree Paxos instances)
//	log/paxos/links    links        perfect links under the consensus messages
//	log/omega          omega        the leader, from Omega
//	log/omega/fd       fd           an eventually perfect failure detector under Omega
//
// Each component keeps its own properties wherever it runs: a seeded bug in the failure
// detector shows as a violation of the detector's property at log/omega/fd, a bug in the
// links as one of log/paxos/links. The stack adds what belongs to the whole: clients, their
// history (linearizable against kv.Store), and the timing its scenarios are scaled by. Nodes
// crash and restart from durable state: the acceptors' promises, the log's decided entries and
// the links' epochs are synced; the store and the sessions are rebuilt from the log.
//
// Swapping a component is one line of Parts: a detector with another timeout policy, or the
// consensus over the bare network instead of perfect links (drop the Over and the links part).
package multipaxos

import (
	"time"

	"github.com/replica-io/replica/protocols/fd"
	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/links"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/omega"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/protocols/quorum"
	"github.com/replica-io/replica/protocols/replog"
	"github.com/replica-io/replica/protocols/smr"
)

// Parts is the stack.
var Parts = []node.Part{
	{Path: "", Module: smr.Module},
	{Path: "log", Module: replog.Module},
	{Path: "log/paxos", Module: paxos.InstancesModule[replog.Entry](), Over: "links"},
	{Path: "log/paxos/links", Module: links.Module},
	{Path: "log/omega", Module: omega.Module},
	{Path: "log/omega/fd", Module: fd.Module},
}

// Workload: a few clients, each running a handful of reads, writes and compare-and-swaps
// over a few keys.
const (
	Clients = 3
	Ops     = 6
)

// Protocol describes the stack to the tools.
var Protocol = node.Compose(&node.Protocol{
	Name:     "multipaxos",
	Summary:  "linearizable key-value store: state machine over a replicated log over Paxos instances, leader from Omega over a failure detector, over perfect links",
	DefaultN: 3,
	MinN:     1,
	Quorum:   quorum.Majority,
	Workload: &node.Workload{
		Clients:  Clients,
		Ops:      Ops,
		Timeout:  300 * time.Millisecond,
		Attempts: maxAttempts,
		Next:     nextOp,
		Result:   node.ReplyReader(func(r smr.Reply) (any, bool, node.ID) { return r.Result, r.OK, r.Leader }),
		Spec:     kv.Store,
	},
	Timing:  node.Timing{Delay: 10 * time.Millisecond, Settle: 500 * time.Millisecond},
	MaxSize: maxSize,
}, Parts...)

var keys = []string{"x", "y", "z"}

// nextOp draws a client's operation over a few keys and small values, so that operations on
// a key overlap and compare-and-swaps succeed now and then.
func nextOp(c node.ClientID, seq int, choose func(n int) int) any {
	key := keys[choose(len(keys))]
	switch k := choose(10); {
	case k < 4:
		return kv.Op{Kind: kv.Get, Key: key}
	case k < 8:
		return kv.Op{Kind: kv.Put, Key: key, Value: 1 + choose(9)}
	default:
		return kv.Op{Kind: kv.CAS, Key: key, Expect: choose(10), Value: 1 + choose(9)}
	}
}

// maxSize bounds a node's state, component by component: the links hold at most
// links.MaxUnacked messages for each peer and as many out-of-order numbers from each; the
// consensus at most paxos.MaxOpen live instances; the log every entry it committed (a client's
// command is appended once per attempt at most, and a new leader may fill a few holes with
// no-ops), with what is decided ahead, in flight and waiting; the state machine a few keys,
// one session per client and the requests waiting.
func maxSize(cfg node.Config) int {
	ops := Clients * Ops
	buffers := 2 * cfg.N * links.MaxUnacked
	log := 2 * maxAttempts * ops
	machine := len(keys) + 2*Clients*maxAttempts
	return buffers + paxos.MaxOpen + log + machine
}

// maxAttempts is how many times, at most, a client sends one operation.
const maxAttempts = 8
