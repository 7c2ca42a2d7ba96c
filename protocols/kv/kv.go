// Package kv defines the operations of a key-value store and of a single register, shared by
// the protocols that serve them (ABD, Raft's store) and by the linearizability checker that
// judges their histories. A register is a store with one key, "".
package kv

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// Kind is what an operation does.
type Kind uint8

const (
	Get Kind = iota // read Key
	Put             // write Value to Key
	CAS             // write Value to Key if it holds Expect
)

func (k Kind) String() string {
	switch k {
	case Get:
		return "get"
	case Put:
		return "put"
	case CAS:
		return "cas"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Op is a client's operation: the input of a history entry.
type Op struct {
	Kind   Kind
	Key    string
	Value  int
	Expect int
}

func (o Op) String() string {
	switch o.Kind {
	case Get:
		if o.Value != 0 || o.Expect != 0 { // fields a get does not use: shown when set (a corrupted entry, say)
			return fmt.Sprintf("get(%s; value %d, expect %d)", o.Key, o.Value, o.Expect)
		}
		return fmt.Sprintf("get(%s)", o.Key)
	case Put:
		return fmt.Sprintf("put(%s,%d)", o.Key, o.Value)
	default:
		return fmt.Sprintf("cas(%s,%d->%d)", o.Key, o.Expect, o.Value)
	}
}

// Result is what an operation returned: the value read (0 for a key never written), and for
// a compare-and-swap whether it swapped.
type Result struct {
	Value int
	OK    bool
}

func (r Result) String() string { return fmt.Sprintf("%d/%v", r.Value, r.OK) }

// Apply runs op on a sequential store: the specification every replicated store must be
// linearizable against.
func Apply(state map[string]int, op Op) Result {
	switch op.Kind {
	case Put:
		state[op.Key] = op.Value
		return Result{Value: op.Value, OK: true}
	case CAS:
		if state[op.Key] != op.Expect {
			return Result{Value: state[op.Key], OK: false}
		}
		state[op.Key] = op.Value
		return Result{Value: op.Value, OK: true}
	default:
		v, ok := state[op.Key]
		return Result{Value: v, OK: ok}
	}
}

// Cell is the state of one key (or of a register) in the sequential specifications: the
// value it holds, and whether it was ever written.
type Cell struct {
	Value int
	Set   bool
}

func (c Cell) String() string {
	if !c.Set {
		return "unset"
	}
	return fmt.Sprint(c.Value)
}

// step applies op to one key through Apply, the specification itself, so that the checkers'
// models cannot drift from what the protocols implement.
func step(c Cell, op Op) (Cell, Result) {
	store := map[string]int{}
	if c.Set {
		store[op.Key] = c.Value
	}
	r := Apply(store, op)
	v, ok := store[op.Key]
	return Cell{Value: v, Set: ok}, r
}

// Store is the sequential specification of a key-value store, checked key by key (a store is
// linearizable exactly when each of its keys is).
var Store = withPrune(node.Sequential[Cell, Op, Result]{
	Name: "kv", Init: func() Cell { return Cell{} }, Step: step,
	Key:      func(op Op) string { return op.Key },
	Describe: Cell.String,
}.Spec())

// Register is the sequential specification of a single register: a store whose only key is
// "". An operation on another key is a step the register cannot take.
var Register = withPrune(node.Sequential[Cell, Op, Result]{
	Name: "register", Init: func() Cell { return Cell{} },
	Step: func(c Cell, op Op) (Cell, Result) {
		if op.Key != "" {
			return c, Result{Value: -1} // answers nothing a correct register answers
		}
		return step(c, op)
	},
	Describe: Cell.String,
}.Spec())

func withPrune(s *node.Spec) *node.Spec {
	s.Prune = Unobservable
	return s
}

// Unobservable drops the operations whose outcome is unknown and whose effect no answered
// operation saw: reads (they change nothing), and writes whose value no answered operation
// returned or compared against. Dropping them is sound: such an operation can always be put
// last in a linearization, where it changes nothing anyone saw, so the history is
// linearizable with it exactly when it is without it. It matters because the search grows
// exponentially with operations that may take effect at any later time, which is what an
// unknown write is (clients that gave up, runs that ended).
func Unobservable(history []node.Op) []node.Op {
	type cellValue struct {
		key   string
		value int
	}
	seen := map[cellValue]bool{}
	for _, op := range history {
		out, ok := op.Output.(Result)
		in, ok2 := op.Input.(Op)
		if !op.Done || !ok || !ok2 {
			continue
		}
		seen[cellValue{in.Key, out.Value}] = true
		if in.Kind == CAS {
			seen[cellValue{in.Key, in.Expect}] = true
		}
	}
	// A compare-and-swap of unknown outcome that is kept (someone saw the value it writes)
	// may have taken effect only if the value it expects was there: that value is observed
	// too, and so on, until nothing more is kept.
	kept := func(op node.Op) bool {
		in, ok := op.Input.(Op)
		return !ok || op.Done || in.Kind != Get && seen[cellValue{in.Key, in.Value}]
	}
	for changed := true; changed; {
		changed = false
		for _, op := range history {
			if in, ok := op.Input.(Op); ok && !op.Done && in.Kind == CAS && kept(op) && !seen[cellValue{in.Key, in.Expect}] {
				seen[cellValue{in.Key, in.Expect}] = true
				changed = true
			}
		}
	}
	out := history[:0:0]
	for _, op := range history {
		if kept(op) {
			out = append(out, op)
		}
	}
	return out
}
