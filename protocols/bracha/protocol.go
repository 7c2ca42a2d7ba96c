package bracha

import (
	"fmt"
	"iter"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bug.
const BugWeakReady = "weak-ready"

// Module is Bracha's broadcast as a component: each node reliably broadcasts a value of its
// own, and indicates (and outputs) every delivery.
var Module = &node.Module{
	Name:    "bracha",
	Summary: "Bracha's Byzantine reliable broadcast: each node's value delivered by all or none, the same everywhere",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugWeakReady, Scenario: "twins",
			Summary: "a node sends READY after f echoes instead of an echo quorum: equivocation makes correct nodes deliver different values"},
	},
	Invariants: []node.Invariant{
		{Name: "agreement", Check: agreement},
		{Name: "validity", Check: validity},
		{Name: "integrity", Check: integrity},
	},
	Sometimes: []node.Sometimes{
		{Name: "delivered", Required: true, Reached: func(w node.World) bool { return len(deliveries(w, all)) > 0 }},
		{Name: "byzantine-sender-delivered", Reached: byzantineDelivered},
	},
	Progress: totality,
	Mutators: []node.Mutator{
		{Name: "value", Mutate: mutateValue},
		{Name: "sender", Mutate: mutateSender},
	},
}

// Protocol describes Bracha's broadcast to the tools: a stack of one component, Module.
var Protocol = node.Compose(&node.Protocol{
	Name:      "bracha",
	Summary:   "Bracha's Byzantine reliable broadcast: echo and ready quorums, n >= 3f+1",
	DefaultN:  4,
	MinN:      4,
	Quorum:    func(n int) int { return n - quorum.MaxByzantine(n) },
	MaxFaulty: quorum.MaxByzantine,
	Timing:    node.Timing{Delay: 10 * time.Millisecond, Settle: 200 * time.Millisecond},
	MaxSize: func(cfg node.Config) int {
		// Per instance, an echo and a ready tally, each with at most MaxValuesPerVoter
		// values per voter.
		return cfg.N * 2 * cfg.N * quorum.MaxValuesPerVoter
	},
}, node.Part{Module: Module})

// delivery is a Delivery output of a correct node.
type delivery struct {
	node node.ID
	Delivery
}

// deliveries lists the correct nodes' deliveries among outputs (all of them, or the latest
// step's).
func deliveries(w node.World, outputs func(node.World) iter.Seq2[node.Output, Delivery]) []delivery {
	var ds []delivery
	for o, d := range outputs(w) {
		if w.Correct(o.Node) {
			ds = append(ds, delivery{o.Node, d})
		}
	}
	return ds
}

var (
	all    = node.Outputs[Delivery]
	latest = node.NewOutputs[Delivery]
)

// agreement: no two correct nodes deliver different values for the same sender.
func agreement(w node.World) error {
	fresh := deliveries(w, latest)
	if len(fresh) == 0 {
		return nil
	}
	for _, d := range fresh {
		for _, e := range deliveries(w, all) {
			if e.Sender == d.Sender && e.Value != d.Value {
				return fmt.Errorf("n%d delivered %d from n%d but n%d delivered %d", d.node, d.Value, d.Sender, e.node, e.Value)
			}
		}
	}
	return nil
}

// validity: what a correct node delivers from a correct sender is what that sender broadcast.
func validity(w node.World) error {
	for _, d := range deliveries(w, latest) {
		if !w.Correct(d.Sender) {
			continue
		}
		for o, b := range node.Outputs[Broadcast](w) {
			if o.Node == d.Sender && b.Value != d.Value {
				return fmt.Errorf("n%d delivered %d from n%d, which broadcast %d", d.node, d.Value, d.Sender, b.Value)
			}
		}
	}
	return nil
}

// integrity: a correct node delivers at most once per sender.
func integrity(w node.World) error {
	fresh := deliveries(w, latest)
	if len(fresh) == 0 {
		return nil
	}
	seen := map[[2]node.ID]int{}
	for _, d := range deliveries(w, all) {
		k := [2]node.ID{d.node, d.Sender}
		if seen[k]++; seen[k] > 1 {
			return fmt.Errorf("n%d delivered n%d's broadcast twice", d.node, d.Sender)
		}
	}
	return nil
}

// totality is the liveness demanded after healing: every correct node that is up has
// delivered every correct sender's broadcast, and every broadcast a correct node delivered.
func totality(w node.World) []string {
	n := w.Config().N
	delivered := make([]bool, n+1) // delivered[s]: some correct node delivered s
	for _, d := range deliveries(w, all) {
		delivered[d.Sender] = true
	}
	var pending []string
	for s := node.ID(1); int(s) <= n; s++ {
		if !w.Correct(s) && !delivered[s] {
			continue
		}
		for id, st := range node.States[*Node](w) {
			if w.Correct(id) && st.Delivered(s) == 0 {
				pending = append(pending, fmt.Sprintf("n%d has not delivered n%d's broadcast", id, s))
			}
		}
	}
	return pending
}

// byzantineDelivered: a correct node delivered a Byzantine sender's broadcast (the adversary
// did not simply keep every faulty broadcast from completing).
func byzantineDelivered(w node.World) bool {
	for _, d := range deliveries(w, all) {
		if !w.Correct(d.Sender) {
			return true
		}
	}
	return false
}

// mutateValue changes the value of an INITIAL, ECHO or READY, by a little: small-scope
// mutations (ByzzFuzz) find the bugs that near-miss values cause.
func mutateValue(m node.Message, choose func(int) int) (node.Message, bool) {
	bump := Value(1 + choose(3))
	switch m := m.(type) {
	case Initial:
		m.Value += bump
		return m, true
	case Echo:
		m.Value += bump
		return m, true
	case Ready:
		m.Value += bump
		return m, true
	}
	return nil, false
}

// mutateSender moves an ECHO, READY or PULL to a neighbouring sender's instance (or past the
// last one, which receivers must refuse).
func mutateSender(m node.Message, choose func(int) int) (node.Message, bool) {
	shift := func(s node.ID) node.ID {
		if choose(2) == 0 && s > 1 {
			return s - 1
		}
		return s + 1
	}
	switch m := m.(type) {
	case Echo:
		m.Sender = shift(m.Sender)
		return m, true
	case Ready:
		m.Sender = shift(m.Sender)
		return m, true
	case Pull:
		m.Sender = shift(m.Sender)
		return m, true
	}
	return nil, false
}
