package sim

import "slices"

// Walk takes one step of a random walk from s, for the explorer's probe (explore.WalkModel):
// an enabled action drawn by pick(n), which returns a number in [0, n), with each choice its
// step asks for drawn by pick as well. Unlike Next it makes only the successor it returns. It
// returns false when s has no successor.
func (u *Untimed) Walk(s *UState, pick func(n int) int) (*UState, bool) {
	if s.fail != nil {
		return nil, false
	}
	as := u.actions(s)
	for len(as) > 0 {
		i := pick(len(as))
		if next, ok := u.walkChoices(s, as[i], pick); ok {
			return next, true
		}
		as = slices.Delete(as, i, i+1) // a step that turned out not to be possible
	}
	return nil, false
}

// walkChoices applies a with its choices drawn one by one: the step runs with the choices
// drawn so far (zero beyond them, as branch runs it), and each further choice it asked for is
// drawn from its arity; a nonzero draw runs the step again, whose later choices may differ.
// As in branch, a run that was not possible still says what it asked for, and a later draw
// may make it possible.
func (u *Untimed) walkChoices(s *UState, a uaction, pick func(n int) int) (*UState, bool) {
	a.choices = slices.Clip(a.choices) // its own, to draw into
	next, asked, ok := u.apply(s, a, nil)
	for j := len(a.choices); j < len(asked); j++ { // a step not possible with zeros may be with others
		v := 0
		if asked[j] > 1 {
			v = pick(asked[j])
		}
		a.choices = append(a.choices, v)
		if v != 0 {
			next, asked, ok = u.apply(s, a, nil)
		}
	}
	return next, ok
}
