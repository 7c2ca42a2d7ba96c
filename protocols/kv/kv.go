// Package kv defines the operations of a key-value store and of a single register, shared by
// the protocols that serve them (ABD, Raft's store) and by the linearizability checker that
// judges their histories. A register is a store with one key, "".
package kv

import "fmt"

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
