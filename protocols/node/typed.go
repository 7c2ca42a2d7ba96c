package node

import (
	"fmt"
	"iter"
)

// Typed helpers: a protocol's storage, outputs and node states are its own Go types, and these
// give them back as those types, so that protocol code and properties need no type assertions.

// Load reads what a node stored under key as a T. ok is false when nothing is stored there. A
// value of another type is a bug of the protocol's (two kinds of record under one key), and
// Load panics naming both types: the simulator reports the panic as a violation with its seed.
func Load[T any](env Env, key string) (v T, ok bool) {
	x, ok := env.Load(key)
	if !ok {
		return v, false
	}
	v, ok = x.(T)
	if !ok {
		panic(fmt.Sprintf("node.Load: storage key %q holds a %T, not a %T", key, x, v))
	}
	return v, true
}

// StateOf returns node id's state as a T; ok is false while the node is down or when its
// state is not a T (another protocol's node, say).
func StateOf[T any](w World, id ID) (T, bool) {
	st, ok := w.State(id).(T)
	return st, ok
}

// States yields every node that is up, in increasing ID order, with its state as a T.
func States[T any](w World) iter.Seq2[ID, T] {
	return func(yield func(ID, T) bool) {
		for id := ID(1); int(id) <= w.Config().N; id++ {
			if st, ok := w.State(id).(T); ok && !yield(id, st) {
				return
			}
		}
	}
}

// Outputs yields, in order, every output of the run whose value is a T, with the value.
func Outputs[T any](w World) iter.Seq2[Output, T] { return outputsOf[T](w.Outputs()) }

// NewOutputs yields the outputs of the latest step whose value is a T, so that a property
// checks each output once. (An iterator costs an allocation or two per call: a property of a
// protocol whose steps are tiny, asked after every step, is cheaper as a plain loop over
// w.NewOutputs(), as AnyNew and FirstOutput are.)
func NewOutputs[T any](w World) iter.Seq2[Output, T] { return outputsOf[T](w.NewOutputs()) }

// AnyNew reports whether the latest step output a T for which f holds: what a
// sometimes-property asks after every step. A plain loop, where NewOutputs's iterator would
// cost its closures' allocations at every step of every run.
func AnyNew[T any](w World, f func(T) bool) bool {
	for _, o := range w.NewOutputs() {
		if v, ok := o.Value.(T); ok && f(v) {
			return true
		}
	}
	return false
}

func outputsOf[T any](outs []Output) iter.Seq2[Output, T] {
	return func(yield func(Output, T) bool) {
		for _, o := range outs {
			if v, ok := o.Value.(T); ok && !yield(o, v) {
				return
			}
		}
	}
}

// OutputCount is the number of outputs of the run so far: len(w.Outputs()), from a world
// that does not keep them all (a Streamed protocol's run) too.
func OutputCount(w World) int {
	if c, ok := w.(interface{ OutputCount() int }); ok {
		return c.OutputCount()
	}
	return len(w.Outputs())
}

// OpCount is the number of operations the clients have invoked so far: len(w.History()),
// from a world that does not keep them all (a Streamed protocol's run) too.
func OpCount(w World) int {
	if c, ok := w.(interface{ OpCount() int }); ok {
		return c.OpCount()
	}
	return len(w.History())
}

// FirstOutput returns the first output of the run whose value is a T.
// (A plain loop: properties ask this after every step of every run, where an iterator's
// closures would cost allocations.)
func FirstOutput[T any](w World) (Output, T, bool) {
	for _, o := range w.Outputs() {
		if v, ok := o.Value.(T); ok {
			return o, v, true
		}
	}
	var zero T
	return Output{}, zero, false
}

// SendAll sends m to every node of the cluster, this one included: its own copy travels the
// loopback, which the network never loses, and arrives like any other message.
func SendAll(env Env, m Message) {
	for _, to := range env.Nodes() {
		env.Send(to, m)
	}
}

// OpOf returns a request's operation as a T; ok is false when it is of another type.
func OpOf[T any](req Request) (T, bool) {
	op, ok := req.Op.(T)
	return op, ok
}

// Answered yields every answered operation of the clients' history whose input is an I and
// answer an O, in invocation order.
func Answered[I, O any](w World) iter.Seq2[I, O] {
	return func(yield func(I, O) bool) {
		for _, op := range w.History() {
			in, ok := op.Input.(I)
			out, ok2 := op.Output.(O)
			if op.Done && ok && ok2 && !yield(in, out) {
				return
			}
		}
	}
}

// ReplyReader makes a Workload.Result from a function of the protocol's own reply type R. A
// reply of another type is declined (ok false), so that the client tries again.
func ReplyReader[R any](read func(reply R) (result any, ok bool, leader ID)) func(any) (any, bool, ID) {
	return func(reply any) (any, bool, ID) {
		r, ok := reply.(R)
		if !ok {
			return nil, false, 0
		}
		return read(r)
	}
}

// Memo returns what a property keeps under key for the run, made by init the first time it
// is asked; ok is false where the world keeps nothing for properties (an explorer's states, a
// test's fake world), and the property must then work from the world alone. A property that
// judges each new output against all before it keeps its index of the past here instead of
// rescanning every output at every step. (A world's Memo with a nil init only looks, and
// returns nil where nothing is kept yet.)
func Memo[T any](w World, key string, init func() T) (v T, ok bool) {
	m, ok := w.(interface {
		Memo(key string, init func() any) any
	})
	if !ok {
		return v, false
	}
	if v := m.Memo(key, nil); v != nil { // a look first: the closure below costs an allocation
		return v.(T), true
	}
	return m.Memo(key, func() any { return init() }).(T), true
}

// MutatorOf makes a Mutator that changes messages of type M only: mutate receives them typed,
// and every other message is left alone.
func MutatorOf[M any](name string, mutate func(m M, choose func(n int) int) (Message, bool)) Mutator {
	return Mutator{Name: name, Mutate: func(m Message, choose func(n int) int) (Message, bool) {
		x, ok := m.(M)
		if !ok {
			return nil, false
		}
		return mutate(x, choose)
	}}
}
