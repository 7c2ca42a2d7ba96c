package explore

import "fmt"

// The nondeterminism guard. A model whose Next gives different successors for the same
// state (because it reads a clock, a global random source or the order of a Go map) makes
// every count and path meaningless, and silently so. Checking every step would double the
// work; checking a fixed, deterministic sample (the initial states and about one new state
// in 1024, chosen by fingerprint) catches a model that is nondeterministic in more than a
// corner, at a cost lost in the noise.

// sampled reports whether the guard checks the state with fingerprint fp. It looks at bits
// that the visited set's hashing does not use, so the sample is spread over the table.
func sampled(fp uint64) bool { return (fp*0xbf58476d1ce4e5b9)>>54 == 0 }

type guardFailure struct {
	fp  uint64 // of the state, to report the same failure for any number of workers
	err error
}

type step struct {
	action int
	fp     uint64
}

// steps returns the actions Next enables in s and the fingerprints of their successors.
func (e *engine[S]) steps(s S) []step {
	var out []step
	e.m.Next(s, func(action int, next S) bool {
		out = append(out, step{action, e.m.Fingerprint(e.normal(next))})
		return true
	})
	return out
}

// checkStep expands s twice and compares, and checks that actions come in increasing order.
// With symmetry, a model that can test its own symmetry (SymmetryChecker) tests it on s.
// The calls are watched by sl, as at the given depth.
func (e *engine[S]) checkStep(sl *slot[S], s S, depth int) error {
	sl.begin(s, depth)
	defer sl.end()
	if e.canon != nil {
		if c, ok := e.m.(SymmetryChecker[S]); ok {
			if err := c.CheckSymmetry(s); err != nil {
				return err
			}
		}
	}
	a, b := e.steps(s), e.steps(s)
	for i := 1; i < len(a); i++ {
		if a[i].action <= a[i-1].action {
			return fmt.Errorf("model's Next yields action %s after %s from state %v; actions must come in increasing order",
				e.actionName(s, a[i].action), e.actionName(s, a[i-1].action), s)
		}
	}
	if len(a) != len(b) {
		return fmt.Errorf("model is not deterministic: from state %v, Next enabled %d actions, then %d", s, len(a), len(b))
	}
	for i := range a {
		switch {
		case a[i].action != b[i].action:
			return fmt.Errorf("model is not deterministic: from state %v, Next enabled action %s, then %s in its place",
				s, e.actionName(s, a[i].action), e.actionName(s, b[i].action))
		case a[i].fp != b[i].fp:
			return fmt.Errorf("model is not deterministic: action %s from state %v gave two different successors",
				e.actionName(s, a[i].action), s)
		}
	}
	return nil
}

// actionName names an action for error messages, with its label when the model has labels.
func (e *engine[S]) actionName(s S, action int) string {
	if l, ok := e.m.(LabeledModel[S]); ok {
		return fmt.Sprintf("%d (%s)", action, l.Label(s, action))
	}
	return fmt.Sprint(action)
}
