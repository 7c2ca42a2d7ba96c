package sim

import (
	"fmt"
	gomaps "maps"
	"reflect"
	"slices"

	"github.com/replica-io/replica/protocols/node"
)

// The adversary at every depth. A protocol built from components (node.Compose) sends its
// sub-components' messages in Envelopes, and a component that runs over a transport (perfect
// links) has its messages carried inside the transport's own. The adversary needs no special
// knowledge of either: Compose lifts each component's mutators so that they find the
// component's messages wherever they travel, and the adversary tries them like any other
// mutator. Silent, replay, selective and twins act on whole messages, whatever they carry.
//
// What this file adds is that a strategy which could not bend a message says so, instead of
// leaving a count at zero with no warning: when mutate or equivocate picks a message that no
// mutator of the protocol reaches, the trace records it (once per Byzantine node and kind of
// message) and World.Unreached lists it.

// bend is mutate for Byzantine node t, noting a message no mutator reaches.
func (w *World) bend(t *traitor, m node.Message) (node.Message, string, bool) {
	v, name, ok := w.mutate(m)
	if !ok {
		w.unreachable(t, m)
	}
	return v, name, ok
}

// unreachable records that no mutator of the protocol reaches message m of node t.
func (w *World) unreachable(t *traitor, m node.Message) {
	kind := MessageKind(m)
	if t.unreached == nil {
		t.unreached = map[string]int{}
	}
	t.unreached[kind]++
	if t.unreached[kind] == 1 {
		w.record(Mutation, t.id, 0, 0, "no mutator of the protocol reaches "+kind+": mutate and equivocate leave it as sent")
	}
}

// Unreached lists, per Byzantine node and kind of message, how often mutate or equivocate
// picked a message that none of the protocol's mutators could change ("n3: log/paxos/links
// links.Ack: 12"), in a fixed order.
func (w *World) Unreached() []string {
	var out []string
	for _, t := range w.byz {
		if t == nil {
			continue
		}
		for _, k := range slices.Sorted(gomaps.Keys(t.unreached)) {
			out = append(out, fmt.Sprintf("n%d: %s: %d", t.id, k, t.unreached[k]))
		}
	}
	return out
}

// MessageKind names a message's type with the path of the component that sent it, looking
// through envelopes and into what transports carry: "log/paxos/links links.Data carrying
// paxos.Prepare".
func MessageKind(m node.Message) string {
	if e, ok := m.(node.Envelope); ok {
		return e.Path + " " + MessageKind(e.Msg)
	}
	name := "nil"
	if m != nil {
		name = reflect.TypeOf(m).String()
	}
	if c, ok := m.(node.Carrier); ok {
		return name + " carrying " + MessageKind(c.Carried())
	}
	return name
}
