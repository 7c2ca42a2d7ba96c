package links

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// Module describes perfect links to the tools: a transport (see node.LinkSend).
var Module = &node.Module{
	Name:      "perfect-links",
	Summary:   "perfect point-to-point links: retransmit until acknowledged, deliver once",
	New:       New,
	Transport: true,
	Bugs: []node.Bug{
		{Name: BugNoDedup, Scenario: "default",
			Summary: "the receiver delivers every copy: a duplicate, or a retransmission after a lost ACK, is delivered twice"},
	},
	Invariants: []node.Invariant{
		{Name: "no-duplication", Check: noDuplication},
		{Name: "no-creation", Check: noCreation},
	},
	Sometimes: []node.Sometimes{
		{Name: "retransmission-delivered", Reached: func(w node.World) bool {
			for _, o := range w.NewOutputs() {
				if d, ok := o.Value.(Delivered); ok && d.Resent {
					return true
				}
			}
			return false
		}},
	},
	Progress: delivery,
}

// delivery (PL1, as the run can see it): once faults heal, every message a node that is up
// sent to a peer that is up gets acknowledged.
func delivery(w node.World) []string {
	var pending []string
	for id, l := range node.States[*Links](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if n := l.UnackedTo(p); n > 0 && w.Up(p) {
				pending = append(pending, fmt.Sprintf("n%d holds %d messages for n%d unacknowledged", id, n, p))
			}
		}
	}
	return pending
}

// delivery identifies one delivery at one incarnation of its receiver.
type deliveryKey struct {
	at        node.ID
	epoch     int
	from      node.ID
	fromEpoch int
	seq       int
}

// noDuplication (PL2): no incarnation of a node delivers the same message twice. (In
// exhaustive exploration a state's outputs are a set, where two equal deliveries are one:
// there the property cannot see duplicates.)
func noDuplication(w node.World) error {
	fresh := w.NewOutputs()
	if len(fresh) == 0 {
		return nil
	}
	seen, memo := node.Memo(w, "delivered", func() map[deliveryKey]bool { return map[deliveryKey]bool{} })
	if !memo {
		seen, fresh = map[deliveryKey]bool{}, w.Outputs()
	}
	for _, o := range fresh {
		d, ok := o.Value.(Delivered)
		if !ok {
			continue
		}
		k := deliveryKey{o.Node, d.Epoch, d.From, d.FromEpoch, d.Seq}
		if seen[k] {
			return fmt.Errorf("n%d delivered message %d.%d from n%d twice", o.Node, d.FromEpoch, d.Seq, d.From)
		}
		seen[k] = true
	}
	return nil
}

// noCreation (PL3): what a node delivers from p, p sent to it. The check reads the sender's
// state, so it judges deliveries from a sender still in the incarnation that sent them (one
// that has restarted since cannot tell any more what it sent).
func noCreation(w node.World) error {
	for _, o := range w.NewOutputs() {
		d, ok := o.Value.(Delivered)
		if !ok {
			continue
		}
		sender, ok := node.StateOf[*Links](w, d.From)
		if ok && sender.Epoch() == d.FromEpoch && !sender.Issued(o.Node, d.FromEpoch, d.Seq) {
			return fmt.Errorf("n%d delivered message %d.%d from n%d, which n%d never sent it", o.Node, d.FromEpoch, d.Seq, d.From, d.From)
		}
	}
	return nil
}
