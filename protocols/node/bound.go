package node

import "unsafe"

// Bound is a protocol's invariants and sometimes-properties bound to one world for a run,
// for a driver that asks them after every step: the view a component's property judges (the
// world scoped to the component, see Scope) is found once, when the run binds them, rather
// than by two type assertions and a memo look-up at every step for every property.
//
// A bound property gets the very world its Check or Reached would have made for itself: a
// world with memos keeps a component's view in its memos for the whole run, and Scope hands
// out that one view every time; a world without memos gets a scoped value equal to the one
// Scope makes. So a bound property reaches the verdict the unbound one reaches, step for
// step. A property that is not lifted from a component, or whose Check or Reached was
// replaced after Compose made it, is called as it stands.
type Bound struct {
	inv  []boundInv
	some []boundSome
}

type boundInv struct {
	check    func(World) error
	w        World
	onOutput bool // see Invariant.OnOutput
}

type boundSome struct {
	reached  func(World) bool
	w        World
	onOutput bool // see Sometimes.OnOutput
}

// lifted is what Compose knows of a property it lifted from a component: the component's
// path, the memo keys of its view, the component's own check, and the func value Compose made
// of it (to tell whether the property still holds that one).
type lifted struct {
	path    string
	keys    scopeKeys
	check   func(World) error
	reached func(World) bool
	made    unsafe.Pointer
}

// funcWord is the identity of a func value: the closure it points at.
func funcWord[F any](f F) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&f)) }

// Bind binds p's invariants and sometimes-properties to w, reusing b's room. Views are made
// in the order the properties come, which is the order their first check would have made
// them in.
func (b *Bound) Bind(p *Protocol, w World) {
	b.inv = b.inv[:0]
	for i := range p.Invariants {
		inv := &p.Invariants[i]
		if l := inv.lift; l != nil && funcWord(inv.Check) == l.made {
			b.inv = append(b.inv, boundInv{l.check, liftScope(w, l.path, l.keys), inv.OnOutput})
		} else {
			b.inv = append(b.inv, boundInv{inv.Check, w, inv.OnOutput})
		}
	}
	b.some = b.some[:0]
	for i := range p.Sometimes {
		s := &p.Sometimes[i]
		if l := s.lift; l != nil && funcWord(s.Reached) == l.made {
			b.some = append(b.some, boundSome{l.reached, liftScope(w, l.path, l.keys), s.OnOutput})
		} else {
			b.some = append(b.some, boundSome{s.Reached, w, s.OnOutput})
		}
	}
}

// Check is p.Invariants[i].Check(w) for the p and w bound.
func (b *Bound) Check(i int) error {
	c := &b.inv[i]
	return c.check(c.w)
}

// OnOutput is p.Invariants[i].OnOutput for the p bound: whether a step that output nothing
// may skip Check(i).
func (b *Bound) OnOutput(i int) bool { return b.inv[i].onOutput }

// Reached is p.Sometimes[i].Reached(w) for the p and w bound.
func (b *Bound) Reached(i int) bool {
	s := &b.some[i]
	return s.reached(s.w)
}

// ReachedOnOutput is p.Sometimes[i].OnOutput for the p bound: whether a step that output
// nothing may skip Reached(i).
func (b *Bound) ReachedOnOutput(i int) bool { return b.some[i].onOutput }

// Invariants and Sometimes are the numbers of properties bound.
func (b *Bound) Invariants() int { return len(b.inv) }
func (b *Bound) Sometimes() int  { return len(b.some) }
