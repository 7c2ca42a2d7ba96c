package node

import (
	"fmt"
	"reflect"
)

// Spec is a sequential specification: the object a client history must be linearizable
// against (a register, a key-value store, a queue, a lock, a counter). A workload names its
// Spec, and every tool checks the history of every run against it: the campaigns after each
// run, the explorer at the end of every path.
//
// Write one with Sequential, which is typed; Spec is its untyped form for the checkers.
type Spec struct {
	Name string
	// Init returns the initial state. Step applies operation in to state and returns the new
	// state and what the object answers; it must not change state (return a new one).
	Init func() any
	Step func(state, in any) (next, out any)
	// Equal compares two answers; nil compares them with reflect.DeepEqual.
	Equal func(a, b any) bool
	// Key names the part of the object an operation touches, when parts are independent
	// (the keys of a key-value store): a history is then checked part by part, which is
	// exponentially faster. nil means the object is one part.
	Key func(in any) string
	// Describe prints a state for reports (nil: %v).
	Describe func(state any) string
	// Prune, when set, drops operations of unknown outcome that no answered operation can
	// have observed (reads, say), which the check may leave out without changing its verdict:
	// the search grows exponentially with operations that may take effect at any later time.
	// The check of a long run applies it to windows of the history too (package checker): it
	// must judge by what the answered operations it is given return and compare, so that an
	// operation it drops could take effect after them whatever state they start from.
	Prune func(history []Op) []Op
	// Input and Output are the operation and answer types, to tell a history of the wrong
	// types from one that is not linearizable; nil accepts any.
	Input, Output reflect.Type
}

// Sequential is a typed sequential specification over states S, operations I and answers O.
type Sequential[S, I, O any] struct {
	Name string
	Init func() S
	// Step returns the state after in and the object's answer; it must not change s.
	Step func(s S, in I) (S, O)
	// Equal compares answers (nil: reflect.DeepEqual); Key partitions the object (nil: one
	// part); Describe prints a state (nil: %v).
	Equal    func(a, b O) bool
	Key      func(in I) string
	Describe func(s S) string
}

// Spec returns the untyped form of q for the checkers.
func (q Sequential[S, I, O]) Spec() *Spec {
	if q.Init == nil || q.Step == nil {
		panic(fmt.Sprintf("node.Sequential %q: Init and Step are required", q.Name))
	}
	sp := &Spec{
		Name:   q.Name,
		Init:   func() any { return q.Init() },
		Step:   func(s, in any) (any, any) { return q.Step(as[S](s), as[I](in)) },
		Input:  reflect.TypeFor[I](),
		Output: reflect.TypeFor[O](),
	}
	if q.Equal != nil {
		sp.Equal = func(a, b any) bool { return q.Equal(as[O](a), as[O](b)) }
	}
	if q.Key != nil {
		sp.Key = func(in any) string { return q.Key(as[I](in)) }
	}
	if q.Describe != nil {
		sp.Describe = func(s any) string { return q.Describe(as[S](s)) }
	}
	return sp
}

// as is v as a T: a nil v is T's zero value, which for an interface type T (a spec over any,
// or over a sum type of operations) is what a nil operation, answer or state is. CheckTypes
// has refused a v of another type before a spec's function sees it.
func as[T any](v any) T {
	t, _ := v.(T)
	return t
}

// Same reports whether answer a is the answer b, by the spec's Equal.
func (sp *Spec) Same(a, b any) bool {
	if sp.Equal != nil {
		return sp.Equal(a, b)
	}
	if t := reflect.TypeOf(a); t != nil && t == reflect.TypeOf(b) && plainKind(t.Kind()) {
		return a == b // what DeepEqual says of two integers, booleans or strings, without its walk
	}
	return reflect.DeepEqual(a, b)
}

// plainKind is a kind whose values are equal, deeply, exactly when == says so: no floats
// (NaN), no references to follow.
func plainKind(k reflect.Kind) bool {
	return k == reflect.Bool || k == reflect.String || k >= reflect.Int && k <= reflect.Uintptr
}

// CheckTypes says which of an operation and its answer (nil: unknown outcome) is not of the
// spec's types, or nil when both are.
func (sp *Spec) CheckTypes(in, out any) error {
	if sp.Input != nil && !isA(in, sp.Input) {
		return fmt.Errorf("an operation is a %T, but spec %s takes %v", in, sp.Name, sp.Input)
	}
	if out != nil && sp.Output != nil && !isA(out, sp.Output) {
		return fmt.Errorf("an answer is a %T, but spec %s answers %v", out, sp.Name, sp.Output)
	}
	return nil
}

// CheckAnswered is CheckTypes of an operation that was answered: its answer is out, nil
// included, which only an interface type of answers takes.
func (sp *Spec) CheckAnswered(in, out any) error {
	if err := sp.CheckTypes(in, nil); err != nil {
		return err
	}
	if sp.Output != nil && !isA(out, sp.Output) {
		return fmt.Errorf("an answer is %s, but spec %s answers %v", describeType(out), sp.Name, sp.Output)
	}
	return nil
}

func describeType(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("a %T", v)
}

// isA reports whether v is a t: of type t, or, for an interface type t, nil or of a type
// that implements it.
func isA(v any, t reflect.Type) bool {
	if t.Kind() == reflect.Interface {
		return v == nil || reflect.TypeOf(v).Implements(t)
	}
	return v != nil && reflect.TypeOf(v) == t
}
