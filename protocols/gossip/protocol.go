package gossip

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// Module describes gossip to the tools.
var Module = &node.Module{
	Name:    "gossip",
	Summary: "anti-entropy: push the latest state to everyone, then to a random peer every round",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugPushOnce, Scenario: "default",
			Summary: "no periodic anti-entropy: a state is pushed once, and a lost push is never repaired"},
	},
	Invariants: []node.Invariant{{Name: "no-creation", Check: noCreation}},
	Progress:   dissemination,
}

// dissemination: every node that is up has the latest version of every peer that is up.
func dissemination(w node.World) []string {
	var pending []string
	for q, g := range node.States[*Gossip](w) {
		for p, h := range node.States[*Gossip](w) {
			if p != q && w.Correct(q) && h.has && g.HeardFrom(p).Less(h.Latest()) {
				pending = append(pending, fmt.Sprintf("n%d has n%d's state %v, not its latest %v", q, p, g.HeardFrom(p), h.Latest()))
			}
		}
	}
	return pending
}

// noCreation: a version received from p was published by p.
func noCreation(w node.World) error {
	if len(w.NewOutputs()) == 0 {
		return nil
	}
	type key struct {
		node    node.ID
		version Version
	}
	type index struct {
		seen      int
		published map[key]bool
	}
	ix, memo := node.Memo(w, "published", func() *index { return &index{published: map[key]bool{}} })
	if !memo {
		ix = &index{published: map[key]bool{}}
	}
	outs := w.Outputs()
	for _, o := range outs[ix.seen:] {
		if p, ok := o.Value.(Published); ok {
			ix.published[key{o.Node, p.Version}] = true
		}
	}
	ix.seen = len(outs)
	for o, h := range node.NewOutputs[Heard](w) {
		if !ix.published[key{h.From, h.Version}] {
			return fmt.Errorf("n%d received n%d's version %v, which n%d never published", o.Node, h.From, h.Version, h.From)
		}
	}
	return nil
}
