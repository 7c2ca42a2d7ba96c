package links

import (
	"fmt"
	"strconv"

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
			for _, l := range node.States[*Links](w) {
				if l.Redelivered() {
					return true
				}
			}
			return false
		}},
	},
	Progress: delivery,
}

// delivery (PL1, as the run can see it): once faults heal, every message a node that is up
// sent to a correct peer that is up gets acknowledged.
func delivery(w node.World) []string {
	var pending []string
	for id, l := range node.States[*Links](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			// Reliable delivery (PL1) is owed between correct nodes: a Byzantine peer may
			// never acknowledge what it was sent.
			if n := l.UnackedTo(p); n > 0 && w.Up(p) && w.Correct(p) {
				pending = append(pending, "n"+strconv.Itoa(int(id))+" holds "+strconv.Itoa(n)+" messages for n"+strconv.Itoa(int(p))+" unacknowledged") // no fmt: judged after every step
			}
		}
	}
	return pending
}

// noDuplication (PL2): no incarnation of a node delivers a message twice: it delivered
// exactly as many messages of each sender's incarnation as it holds distinct numbers of.
func noDuplication(w node.World) error {
	for id, l := range node.States[*Links](w) {
		if from, n, distinct, dup := l.Duplicates(); dup {
			return fmt.Errorf("n%d delivered %d messages of n%d's incarnation, but only %d distinct ones: one of them twice", id, n, from, distinct)
		}
	}
	return nil
}

// noCreation (PL3): what a node delivers from p, p sent to it: no sequence number delivered
// is beyond what p has numbered for it, while p is in the incarnation that numbered them (one
// that has restarted since cannot tell any more what it sent).
func noCreation(w node.World) error {
	for q, l := range node.States[*Links](w) {
		for p, sender := range node.States[*Links](w) {
			if epoch, seq := l.Highest(p); epoch == sender.Epoch() && seq > sender.Issued(q) {
				return fmt.Errorf("n%d delivered message %d.%d from n%d, which n%d never sent it (it numbered %d)", q, epoch, seq, p, p, sender.Issued(q))
			}
		}
	}
	return nil
}
