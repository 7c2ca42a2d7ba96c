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
	switch x := w.(type) {
	case scoped:
		w, path = x.w, childPath(x.path, path)
	case *memoScoped:
		w, path = x.w, childPath(x.path, path)
	}
	return scope(w, path, keysOf(path))
}

// Scoper scopes worlds to one path, with what that takes made once: for properties that look
// at a component of a stack after every step.
type Scoper struct {
	path string
	keys scopeKeys
}

// ScopeTo returns the Scoper of path.
func ScopeTo(path string) Scoper { return Scoper{path: path, keys: keysOf(path)} }

// Of is Scope(w, path).
func (s Scoper) Of(w World) World {
	switch w.(type) {
	case scoped, *memoScoped:
		return Scope(w, s.path)
	}
	return scope(w, s.path, s.keys)
}

// scopeKeys are the memo keys of a component's view and of its outputs.
type scopeKeys struct{ view, outputs string }

func keysOf(path string) scopeKeys {
	return scopeKeys{view: "node.Scope view of " + path, outputs: "node.Scope outputs of " + path}
}

// scope is Scope of a world that is not itself scoped, with the memo keys made already. A
// world with memos keeps the scoped view too, so that the properties evaluated after every
// step do not each make one.
func scope(w World, path string, keys scopeKeys) World {
	if m, ok := w.(memoWorld); ok {
		v := m.Memo(keys.view, newView).(*memoScoped)
		if v.w == nil {
			v.scoped = scoped{w: w, path: path, key: keys.outputs}
		}
		return v
	}
	return scoped{w: w, path: path, key: keys.outputs}
}

type scoped struct {
	w    World
	path string
	key  string // the memo key of the component's outputs (see Outputs)
}

// memoWorld is a world that keeps memos for properties (see Memo).
type memoWorld interface {
	Memo(key string, init func() any) any
}

// memoScoped is a scoped view of a world with memos: the component's properties keep theirs
// under keys of their own.
type memoScoped struct {
	scoped
	// The component's outputs of the latest step, filtered once for all its properties.
	freshOf *Output // the first of the world's new outputs they were filtered from
	freshN  int
	fresh   []Output
	index   *outputIndex // the memo of the component's outputs (see Outputs)
}

// NewOutputs filters the world's new outputs once per step.
func (s *memoScoped) NewOutputs() []Output {
	all := s.w.NewOutputs()
	if len(all) == 0 {
		return nil
	}
	if &all[0] != s.freshOf || len(all) != s.freshN {
		s.freshOf, s.freshN = &all[0], len(all)
		s.fresh = s.scoped.NewOutputs()
	}
	return s.fresh
}

func newView() any { return &memoScoped{} }

func (s *memoScoped) Memo(key string, init func() any) any {
	return s.w.(memoWorld).Memo("["+s.path+"]"+key, init)
}

func (s scoped) Config() Config                { return s.w.Config() }
func (s scoped) Now() time.Duration            { return s.w.Now() }
func (s scoped) Correct(id ID) bool            { return s.w.Correct(id) }
func (s scoped) History() []Op                 { return s.w.History() }
func (s scoped) Up(id ID) bool                 { return s.w.Up(id) }
func (s scoped) Healed() (bool, time.Duration) { return s.w.Healed() }

func (s scoped) State(id ID) Node {
	n := s.w.State(id)
	if st, ok := n.(*Stack); ok {
		return st.Component(s.path)
	}
	if s.path == "" {
		return n // a protocol that is not a stack is its own root
	}
	return nil
}

// NewOutputs are the component's outputs of the latest step.
func (s scoped) NewOutputs() []Output {
	return s.own(s.w.NewOutputs())
}

// own is filter(nil, outs) without a copy when every output is the component's already (a
// protocol that is no stack, whose root sees all of them): the explorer's states ask after
// every step, and have no memos to keep a filtered list in.
func (s scoped) own(outs []Output) []Output {
	for i, o := range outs {
		if !s.mine(o) {
			return s.filter(outs[:i:i], outs[i:])
		}
	}
	return outs
}

// Outputs are the component's outputs of the whole run. Where the world keeps memos for
// properties (the simulator's does) the list is kept up to date step by step instead of
// being filtered again for every property at every step.
func (s scoped) Outputs() []Output {
	all := s.w.Outputs()
	ix, ok := Memo(s.w, s.key, newOutputIndex)
	if !ok {
		return s.own(all)
	}
	return s.update(ix, all)
}

// Outputs of a view with memos: the view finds its index once, not at every call.
func (s *memoScoped) Outputs() []Output {
	if s.index == nil {
		s.index, _ = Memo(s.w, s.key, newOutputIndex)
	}
	all := s.w.Outputs()
	if ix := s.index; ix.same && ix.seen == len(all) {
		return all // nothing new since the last call: what update would return, without its copy of s
	}
	return s.update(s.index, all)
}

// outputIndex is a component's outputs among the first seen of the world's. While every one
// of those is the component's as it stands (a protocol that is not a stack, at its root),
// they are the world's own list, and no copy is made.
type outputIndex struct {
	seen int
	same bool // the component's outputs are all[:seen]; outs is unused
	outs []Output
}

func newOutputIndex() *outputIndex { return &outputIndex{same: true} }

// update brings ix up to date with all, the world's outputs, and returns the component's.
func (s scoped) update(ix *outputIndex, all []Output) []Output {
	if ix.same {
		i := ix.seen
		for i < len(all) && s.mine(all[i]) {
			i++
		}
		ix.seen = i
		if i == len(all) {
			return all
		}
		ix.same, ix.outs = false, append([]Output(nil), all[:i]...)
	}
	if ix.seen < len(all) {
		ix.outs = s.filter(ix.outs, all[ix.seen:])
		ix.seen = len(all)
	}
	return ix.outs
}

// OutputCount is the number of the component's outputs so far (node.OutputCount): counted by
// the world where it does not keep them all (a Streamed protocol's run), else listed.
func (s scoped) OutputCount() int {
	if c, ok := s.w.(interface {
		Streaming() bool
		OutputCountAt(path string) int
	}); ok && c.Streaming() {
		return c.OutputCountAt(s.path)
	}
	return len(s.Outputs())
}

// OpCount is the whole world's (node.OpCount): a component shares its stack's clients.
func (s scoped) OpCount() int { return OpCount(s.w) }

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
	switch x := w.(type) {
	case scoped:
		w, path = x.w, childPath(x.path, path)
	case *memoScoped:
		w, path = x.w, childPath(x.path, path)
	}
	st, ok := scoped{w: w, path: path}.State(id).(T)
	return st, ok
}

// StatesAt yields, in increasing ID order, every node whose component at path is a T.
func StatesAt[T any](w World, path string) iter.Seq2[ID, T] { return States[T](Scope(w, path)) }
