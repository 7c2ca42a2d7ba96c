package sim

import (
	"slices"

	"github.com/replica-io/replica/protocols/node"
)

// Byzantine nodes in the untimed world. A Byzantine node runs the protocol's correct code, as
// in the timed world; what the adversary does instead of the right thing are actions of the
// explorer, each spending one unit of the Byzantine budget (UntimedOptions.Byzantine):
//
//	mutate    a message of the node in flight is changed by one of the protocol's mutators
//	          (the timed world's mutateWith, each of its choices explored); changing the copy
//	          to one peer and not another's is equivocation
//	replay    a message the node sent before goes out again, to any peer
//	withhold  a message of the node in flight is never sent (silent, selective)
//
// and a reply of the node to a client may be withheld or mutated too (a choice of its step).
// Channels stay authenticated: a Byzantine node speaks only as itself. The timed world's
// twins have no untimed counterpart.

// byzantineActions adds the Byzantine nodes' deviations, while the budget lasts.
func (u *Untimed) byzantineActions(s *UState, as []uaction) []uaction {
	if u.faulty == nil || int(s.byz) >= u.opts.Byzantine {
		return as
	}
	for i, m := range s.inFlight {
		if m.from == 0 || !u.faulty[m.from-1] || i > 0 && sameMsg(m, s.inFlight[i-1]) {
			continue
		}
		if len(u.proto.Mutators) > 0 {
			as = append(as, uaction{kind: uMutate, node: m.from, msg: i})
		}
		as = append(as, uaction{kind: uWithhold, node: m.from, msg: i})
	}
	for i, m := range s.sent {
		for _, to := range u.ids {
			if to != m.from {
				as = append(as, uaction{kind: uReplay, node: to, msg: i})
			}
		}
	}
	return as
}

// deviate takes a Byzantine action; false means it cannot be taken (no mutator applies).
func (x *ustep) deviate(a uaction) bool {
	switch a.kind {
	case uMutate:
		m := x.inFlight[a.msg]
		v, name, ok := mutateWith(x.proto.Mutators, m.m, x.adversaryChoice)
		if !ok {
			return false
		}
		x.byz++
		x.record(Mutation, m.from, m.to, 0, act{"mutate (" + name + "): " + Summary(m.m) + " ->", v})
		h := HashOf(v)
		x.inFlight[a.msg] = umsg{from: m.from, to: m.to, seq: m.seq, m: v, h: h}
		if x.log != nil {
			x.log.mutated = v
		}
		x.remember(umsg{from: m.from, m: v, h: h})
	case uWithhold:
		m := x.inFlight[a.msg]
		x.byz++
		x.record(Mutation, m.from, m.to, 0, act{"withholds", m.m})
		x.inFlight = slices.Delete(x.inFlight, a.msg, a.msg+1)
	case uReplay:
		m := x.from.sent[a.msg]
		x.byz++
		v := cloneAny(m.m)
		x.record(Mutation, m.from, a.node, 0, act{"replay:", v})
		x.record(Send, m.from, a.node, 0, v)
		x.inFlight = append(x.inFlight, umsg{from: m.from, to: a.node, seq: len(x.inFlight) + 1, m: v, h: m.h})
	}
	return true
}

// bendReply is the adversary's choice about a Byzantine node's reply to a client: pass it on
// (choice 0), withhold it, or mutate it. ok is false for a withheld reply.
func (x *ustep) bendReply(from node.ID, req node.Request, result any) (any, bool) {
	bend := replyBend{}
	defer func() {
		if x.log != nil {
			x.log.bends = append(x.log.bends, bend)
		}
	}()
	switch x.adversaryChoice(3) {
	case 1:
		x.byz++
		bend.withheld = true
		x.record(Mutation, from, 0, req.Client, act{"withholds reply", result})
		return nil, false
	case 2:
		if v, name, ok := mutateWith(x.proto.Mutators, result, x.adversaryChoice); ok {
			x.byz++
			bend.changed, bend.value = true, v
			x.record(Mutation, from, 0, req.Client, act{"mutate (" + name + "): reply " + Summary(result) + " ->", v})
			return v, true
		}
	}
	return result, true
}
