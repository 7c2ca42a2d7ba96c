package sim

import "errors"

// Partial-order reduction. Two deliveries (or timer firings) at different nodes commute
// when each step touches only its own node's state and adds messages: either order leads to
// the same state, and neither step disables the other. The explorer's sleep sets (package
// explore, Options.Reduce) use that to skip a transition whose successor another order
// already reaches. The world decides locality after running a step, not from the protocol's
// description: a step is local when it changed no node but its own (copy on write says
// which), made no output, touched no client and no history, and spent no budget. Crashes,
// restarts, client actions, drops and Byzantine deviations are never local, so never skipped
// past.

// Reducible reports whether sleep sets are sound in this world, and if not, why not.
func (u *Untimed) Reducible() error {
	if u.opts.Duplicate {
		// A duplicating network keeps messages as a set (canonicalFlight): a node that
		// sends a copy of a message another node consumes does not commute with it.
		return errors.New("a duplicating network keeps messages as a set, so deliveries at different nodes need not commute")
	}
	return nil
}

// NextSleep yields the successors of s, as Next does, but not those of actions asleep says
// to skip; for each it gives the action's identity (stable across the states a sleep set
// travels through: the message's link and content, or the timer's node and name) and the
// node whose local step it is, or 0 if the step is not local.
func (u *Untimed) NextSleep(s *UState, asleep func(id uint64) bool, yield func(next *UState, id uint64, node int32) bool) {
	if s.fail != nil {
		return
	}
	for _, a := range u.actions(s) {
		id := actionID(s, a)
		if asleep(id) {
			continue
		}
		var local bool // of the branch just applied: branch yields right after applying
		ok := u.branch(a.choices, func(choices []int) (*UState, []int, bool) {
			b := a
			b.choices = choices
			next, asked, ok, l := u.applyLocal(s, b)
			local = l
			return next, asked, ok
		}, func(_ []int, next *UState) bool {
			n := int32(0)
			if local {
				n = int32(a.node)
			}
			return yield(next, id, n)
		})
		if !ok {
			return
		}
	}
}

// applyLocal is apply, also saying whether the step was local (see above).
func (u *Untimed) applyLocal(s *UState, a uaction) (next *UState, asked []int, ok, local bool) {
	x := u.newStep(s, a.choices, nil)
	defer func() {
		if r := recover(); r != nil {
			prop, msg := failure(r)
			next, asked, ok, local = x.failed(prop, msg), x.asked, true, false
		}
	}()
	if !x.act(a) {
		return nil, x.asked, false, false
	}
	local = x.local(a)
	return x.seal(), x.asked, true, local
}

// local reports whether the step that took a touched nothing but a's node and the network.
func (x *ustep) local(a uaction) bool {
	p := x.from
	switch {
	case a.kind != uDeliver && a.kind != uTimer, a.keep:
		return false
	case x.owned&^(1<<(a.node-1)) != 0, x.ownedCl, x.ownedH:
		return false
	case len(x.outputs) != len(p.outputs), len(x.history) != len(p.history), len(x.byID) != len(p.byID):
		return false
	case len(x.sent) != len(p.sent), x.clock != p.clock, x.crashes != p.crashes, x.timeouts != p.timeouts, x.byz != p.byz:
		return false
	}
	return true
}

// actionID identifies action a of s by what it acts on, not by its place in s's list.
func actionID(s *UState, a uaction) uint64 {
	h := NewHasher()
	h.Uint64(uint64(a.kind)<<32 | uint64(a.node))
	switch a.kind {
	case uDeliver, uDrop, uMutate, uWithhold:
		m := s.inFlight[a.msg]
		h.Uint64(uint64(m.from)<<32 | uint64(m.to))
		h.Uint64(m.h)
		if a.keep {
			h.Uint64(1)
		}
	case uTimer:
		h.String(a.timer)
	default:
		h.Int(a.client)
		h.Int(a.msg)
	}
	return h.Sum()
}
