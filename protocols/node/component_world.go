package node

import (
	"iter"
	"time"
)

// Scope returns the world as the component at path sees it, for its properties: State gives
// each node's component at path (nil where the node is down, is not a stack, or is
// Byzantine), Outputs and NewOutputs only the component's own outputs, with their values as
// the component output them; the rest (configuration, time, history, which nodes are up) is
// the whole world's. A property written against a component alone holds the same way inside
// any stack. Scoping a scoped world goes further down: path is then relative to it.
func Scope(w World, path string) World {
	var s scoped
	switch x := w.(type) {
	case scoped:
		s = scoped{w: x.w, path: childPath(x.path, path)}
	case memoScoped:
		s = scoped{w: x.w, path: childPath(x.path, path)}
	default:
		s = scoped{w: w, path: path}
	}
	if _, ok := s.w.(memoWorld); ok {
		return memoScoped{s}
	}
	return s
}

type scoped struct {
	w    World
	path string
}

// memoWorld is a world that keeps memos for properties (see Memo).
type memoWorld interface {
	Memo(key string, init func() any) any
}

// memoScoped is a scoped view of a world with memos: the component's properties keep theirs
// under keys of their own.
type memoScoped struct{ scoped }

func (s memoScoped) Memo(key string, init func() any) any {
	return s.w.(memoWorld).Memo("["+s.path+"]"+key, init)
}

func (s scoped) Config() Config                { return s.w.Config() }
func (s scoped) Now() time.Duration            { return s.w.Now() }
func (s scoped) Correct(id ID) bool            { return s.w.Correct(id) }
func (s scoped) History() []Op                 { return s.w.History() }
func (s scoped) Up(id ID) bool                 { return s.w.Up(id) }
func (s scoped) Healed() (bool, time.Duration) { return s.w.Healed() }

func (s scoped) State(id ID) Node {
	if st, ok := s.w.State(id).(*Stack); ok {
		return st.Component(s.path)
	}
	return nil
}

// NewOutputs are the component's outputs of the latest step.
func (s scoped) NewOutputs() []Output {
	fresh := s.w.NewOutputs()
	for i, o := range fresh {
		if !s.mine(o) {
			return s.filter(fresh[:i:i], fresh[i+1:])
		}
	}
	return fresh
}

// Outputs are the component's outputs of the whole run. Where the world keeps memos for
// properties (the simulator's does) the list is kept up to date step by step instead of
// being filtered again for every property at every step.
func (s scoped) Outputs() []Output {
	type index struct {
		seen int
		outs []Output
	}
	all := s.w.Outputs()
	ix, ok := Memo(s.w, "node.Scope outputs of "+s.path, func() *index { return &index{} })
	if !ok {
		return s.filter(nil, all)
	}
	if ix.seen < len(all) {
		ix.outs = s.filter(ix.outs, all[ix.seen:])
		ix.seen = len(all)
	}
	return ix.outs
}

// mine reports whether output o is the component's, as it stands (a value left wrapped in
// an AtPath by a driver needs unwrapping first, which mine does not count as standing).
func (s scoped) mine(o Output) bool {
	_, wrapped := o.Value.(AtPath)
	return o.Path == s.path && !wrapped
}

// filter appends to dst the outputs among outs that are the component's, unwrapped.
func (s scoped) filter(dst, outs []Output) []Output {
	for _, o := range outs {
		if o.Path == "" {
			o.Path, o.Value = SplitOutput(o.Value)
		}
		if o.Path == s.path {
			dst = append(dst, o)
		}
	}
	return dst
}

// StateAt returns the state of the component at path in node id's stack as a T; ok is
// false while the node is down, when it is not a stack (a Byzantine node), when the stack
// has no component there, or when it is not a T. Inside a component's own properties the
// path is relative to the component.
func StateAt[T any](w World, id ID, path string) (T, bool) {
	st, ok := Scope(w, path).State(id).(T)
	return st, ok
}

// StatesAt yields, in increasing ID order, every node whose component at path is a T.
func StatesAt[T any](w World, path string) iter.Seq2[ID, T] { return States[T](Scope(w, path)) }
