package replog

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// Module describes the replicated log to the tools.
var Module = &node.Module{
	Name:    "replicated-log",
	Summary: "leader-driven log of consensus instances with a pipeline window; catch-up from the leader",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugSkipGap, Scenario: "default",
			Summary: "a node commits a decided slot while a slot below is still undecided: nodes commit entries at different indices"},
	},
	Invariants: []node.Invariant{{Name: "log-agreement", Check: agreement}},
	Sometimes: []node.Sometimes{
		// A leader filled a hole an earlier leader left: recovery ran, and mattered.
		{Name: "noop-committed", Reached: func(w node.World) bool {
			for _, o := range w.NewOutputs() {
				if c, ok := o.Value.(Committed); ok && c.Entry.Noop {
					return true
				}
			}
			return false
		}},
	},
	Progress: catchUp,
}

// agreement: no two nodes commit different entries at the same index.
func agreement(w node.World) error {
	if len(w.NewOutputs()) == 0 {
		return nil
	}
	type first struct {
		node  node.ID
		entry Entry
	}
	seen, memo := node.Memo(w, "committed", func() map[int]first { return map[int]first{} })
	fresh := w.NewOutputs()
	if !memo {
		seen, fresh = map[int]first{}, w.Outputs()
	}
	for _, o := range fresh {
		c, ok := o.Value.(Committed)
		if !ok {
			continue
		}
		f, ok := seen[c.Index]
		if !ok {
			seen[c.Index] = first{o.Node, c.Entry}
			continue
		}
		if f.entry != c.Entry {
			return fmt.Errorf("index %d: n%d committed %v, but n%d committed %v", c.Index, o.Node, c.Entry, f.node, f.entry)
		}
	}
	return nil
}

// catchUp: every node that is up has committed as much as any node that is up.
func catchUp(w node.World) []string {
	most, by := 0, node.ID(0)
	for id, l := range node.States[*Log](w) {
		if w.Correct(id) && l.commit() > most {
			most, by = l.commit(), id
		}
	}
	var pending []string
	for id, l := range node.States[*Log](w) {
		if w.Correct(id) && l.commit() < most {
			pending = append(pending, fmt.Sprintf("n%d has committed %d entries, n%d %d", id, l.commit(), by, most))
		}
	}
	return pending
}
