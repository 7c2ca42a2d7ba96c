package paxos

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bugs.
const (
	BugNoPersist = "no-persist"
	BugNoRetry   = "no-retry"
)

// Parameters that bound the protocol for exhaustive exploration.
const (
	ParamProposers = "proposers" // only nodes 1..proposers propose (0: all)
	ParamMaxRound  = "max-round" // no ballot beyond this round (0: no bound)
)

// Module is single-decree Paxos as a component: a request proposes a value (a client's, for
// the paxos protocol; the layer above's, inside a stack), and the reply is the decision.
var Module = &node.Module{
	Name:    "paxos",
	Summary: "single-decree Paxos consensus: propose a value, learn the decision",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugNoPersist, Scenario: "crash-restart",
			Summary: "acceptors keep their promise only in volatile state: after a restart they accept a lower ballot"},
		{Name: BugNoRetry, Scenario: "default",
			Summary: "a proposer never retries after its ballot fails: one lost message stalls it for good"},
	},
	Invariants: []node.Invariant{
		{Name: "agreement", Check: agreement, OnOutput: true},
		{Name: "validity", Check: validity, OnOutput: true},
	},
	Sometimes: []node.Sometimes{
		{Name: "decided", Required: true, OnOutput: true, Reached: func(w node.World) bool { return len(w.Outputs()) > 0 }},
	},
	Progress: progress,
}

// Protocol describes Paxos to the tools: a stack of one component, Module, serving clients.
var Protocol = node.Compose(&node.Protocol{
	Name:     "paxos",
	Summary:  "single-decree Paxos: proposers, durable acceptors, learners",
	DefaultN: 3,
	MinN:     1,
	Quorum:   quorum.Majority,
	// Acceptors sync their promises and acceptances before they answer, and a proposer its
	// round before it uses it: the whole cluster may crash at once.
	Tolerates: node.Tolerance{ClusterCrash: true},
	Abstract:  abstract,
	Workload: &node.Workload{
		Clients: 5,
		Ops:     1,
		Timeout: 400 * time.Millisecond,
		Next: func(c node.ClientID, seq int, choose func(int) int) any {
			return Value(100*int(c) + seq) // distinct per client and operation
		},
		Result: func(reply any) (any, bool, node.ID) { return reply, true, 0 },
		Spec:   Consensus,
	},
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond},
	// Explored: 3 acceptors, 2 of them proposers, one ballot each, one crash, two client
	// requests. Agreement and validity read the decisions as a set, so the order in which
	// nodes decide is not part of a state.
	Explore: node.Explore{
		Params:  map[string]int{ParamProposers: 2, ParamMaxRound: 1},
		Crashes: 1, Requests: 2, Targets: []node.ID{1, 2},
		UnorderedOutputs: true,
	},
}, node.Part{Module: Module})

// Consensus is the sequential specification of single-decree consensus, as clients see it:
// the first value proposed is decided, and every proposal answers with the decision.
var Consensus = node.Sequential[Value, Value, Value]{
	Name: "consensus",
	Init: func() Value { return 0 },
	Step: func(decided, proposed Value) (Value, Value) {
		if decided == 0 {
			decided = proposed
		}
		return decided, decided
	},
}.Spec()

// agreement: no two nodes ever decide different values.
func agreement(w node.World) error {
	fresh := w.NewOutputs()
	if len(fresh) == 0 {
		return nil // most steps output nothing, and what came before was judged already
	}
	first, d, ok := node.FirstOutput[Decision[Value]](w)
	if !ok {
		return nil
	}
	for _, o := range fresh { // a plain loop: this runs after every step
		e, ok := o.Value.(Decision[Value])
		if !ok || e == d {
			continue
		}
		if o.Node == first.Node { // one node changed its mind: say what came between
			if between := node.Between(w, o.Node, first.Time, o.Time); between != "" {
				return fmt.Errorf("n%d decided %v, then %s, then decided %v", o.Node, d.Value, between, e.Value)
			}
		}
		return fmt.Errorf("n%d decided %v, but n%d decided %v", o.Node, e.Value, first.Node, d.Value)
	}
	return nil
}

// validity: a decided value is one that was proposed: by a client, or, inside a stack, by
// the layer above (a Proposal output).
func validity(w node.World) error {
	for _, o := range w.NewOutputs() {
		if d, ok := o.Value.(Decision[Value]); ok && !proposed(w, d.Value) {
			return fmt.Errorf("n%d decided %v, which no client proposed", o.Node, d.Value)
		}
	}
	return nil
}

func proposed(w node.World, v Value) bool {
	for _, op := range w.History() {
		if op.Input == v {
			return true
		}
	}
	for _, p := range node.Outputs[Proposal[Value]](w) {
		if p.Value == v {
			return true
		}
	}
	return false
}

// progress: every node that is up has learned the decision.
func progress(w node.World) []string {
	var pending []string
	for id, st := range node.States[*Node[Value]](w) {
		if w.Correct(id) && st.decided == 0 {
			pending = append(pending, fmt.Sprintf("n%d has not decided", id))
		}
	}
	return pending
}
