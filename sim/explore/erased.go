package explore

import (
	"context"
	"fmt"
)

// Erased is a model with its state type hidden, so that models of different state types fit
// one list (the command line's registry of plain models, say). Erase makes one.
type Erased interface {
	// Explore runs a search of the model (see Run).
	Explore(ctx context.Context, opts Options) (*Result, error)
	// Steps describes path p one line per step, the initial state first: each action's label
	// and the state it leads to.
	Steps(p Path) ([]string, error)
	// Symmetric reports whether the model can be reduced by symmetry (Options.Symmetry).
	Symmetric() bool
}

// Erase hides m's state type; format prints a state for Steps (nil: the %v of the state).
func Erase[S any](m Model[S], format func(S) string) Erased {
	if format == nil {
		format = func(s S) string { return fmt.Sprint(s) }
	}
	return erased[S]{m, format}
}

type erased[S any] struct {
	m      Model[S]
	format func(S) string
}

func (e erased[S]) Explore(ctx context.Context, opts Options) (*Result, error) {
	return Run(ctx, e.m, opts)
}

func (e erased[S]) Symmetric() bool {
	_, ok := e.m.(SymmetricModel[S])
	return ok
}

func (e erased[S]) Steps(p Path) ([]string, error) {
	states, err := Replay(e.m, p)
	if err != nil {
		return nil, err
	}
	labels, err := Labels(e.m, p)
	if err != nil {
		return nil, err
	}
	lines := []string{fmt.Sprintf("initial state %d: %s", p.Init, e.format(states[0]))}
	for i, l := range labels {
		lines = append(lines, fmt.Sprintf("%s: %s", l, e.format(states[i+1])))
	}
	return lines, nil
}
