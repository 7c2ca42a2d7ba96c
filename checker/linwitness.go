package checker

import (
	"cmp"
	"math"
	"slices"

	"github.com/replica-io/replica/protocols/node"
)

// A witness before the search.
//
// Most histories a campaign judges are linearizable, and most of those in an obvious order:
// Paxos's five proposals all answer with the decision, and the one that proposed it goes
// first. Porcupine finds such an order too, but on goroutines of its own against a timer,
// which costs a calm Paxos run as much as a tenth of its steps. So before asking porcupine,
// the checker looks for one linearization greedily, without backtracking: it takes the
// operations in the order of their calls, and at each point puts next the first one that may
// come next in real time (no operation still to be put returned before it was called) and
// whose output the model accepts from the state reached so far. The operations of unknown
// outcome, which return at infinity, go last (nothing can have to come after them), where the
// model accepts them as porcupine's does.
//
// If that builds an order of every operation, the order is a linearization: it respects the
// real-time order, since an operation is put only once every operation that returned before
// its call is, and the model accepted each operation's output in it, through the same steps
// porcupine's model of the spec takes (Porcupine). The history is then linearizable, which is exactly porcupine's Ok. If the
// greedy order gets stuck, that proves nothing, and porcupine is asked as before: a witness
// can only say yes, and never without the order to show for it.

// witnessSteps bounds the model steps the greedy search tries, per operation and overall, so
// that a history it cannot order costs little before porcupine searches it.
const witnessSteps = 8

// wop is an operation as porcupine sees it (Operations): an unknown outcome returns at
// infinity with no output.
type wop struct {
	in, out   any
	call, ret int64
}

// witnessed reports whether a greedy linearization of history exists under spec, each key's
// operations on their own where the spec has keys (as porcupine partitions them). The
// operations must be of the spec's types.
func witnessed(spec *node.Spec, history []node.Op) bool {
	var buf [64]wop
	ops := buf[:0]
	if len(history) > len(buf) {
		ops = make([]wop, 0, len(history))
	}
	for _, h := range history {
		o := wop{in: h.Input, call: int64(h.Call), ret: math.MaxInt64}
		if h.Done {
			o.out, o.ret = h.Output, int64(h.Return)
		}
		ops = append(ops, o)
	}
	if spec.Key == nil {
		return witnessedPart(spec, ops)
	}
	return witnessedByKey(spec, ops)
}

// witnessedByKey is witnessed for a spec with keys: every key's operations, in their order,
// must have a greedy linearization from the initial state.
func witnessedByKey(spec *node.Spec, ops []wop) bool {
	var kbuf [64]string
	var pbuf [64]wop
	var sbuf [64]bool
	keys, part, seen := kbuf[:0], pbuf[:0], sbuf[:]
	if len(ops) > len(kbuf) {
		keys, part, seen = make([]string, 0, len(ops)), make([]wop, 0, len(ops)), make([]bool, len(ops))
	}
	for _, o := range ops {
		keys = append(keys, spec.Key(o.in))
	}
	for i := range ops {
		if seen[i] {
			continue // its key's operations were witnessed with the first of them
		}
		part = part[:0]
		for j := i; j < len(ops); j++ {
			if keys[j] == keys[i] {
				part, seen[j] = append(part, ops[j]), true
			}
		}
		if !witnessedPart(spec, part) {
			return false
		}
	}
	return true
}

// witnessedPart is witnessed for the operations of one key (see above).
func witnessedPart(spec *node.Spec, ops []wop) bool {
	n := len(ops)
	var ibuf [3 * 64]int
	var pbuf [64]bool
	idx, placed := ibuf[:], pbuf[:]
	if n > 64 {
		idx, placed = make([]int, 3*n), make([]bool, n)
	}
	// Three lists of operations' indices, each in its own third of idx: those with an outcome
	// in call order (the ones still to be put) and in return order, the others in call order.
	pending, byReturn, later := idx[0:0:n], idx[n:n:2*n], idx[2*n:2*n:3*n]
	for i, op := range ops {
		if op.ret == math.MaxInt64 {
			later = append(later, i)
		} else {
			pending = append(pending, i)
		}
	}
	byCall := func(a, b int) int { return cmp.Or(cmp.Compare(ops[a].call, ops[b].call), cmp.Compare(a, b)) }
	slices.SortFunc(pending, byCall)
	slices.SortFunc(later, byCall)
	byReturn = append(byReturn, pending...)
	slices.SortFunc(byReturn, func(a, b int) int {
		return cmp.Or(cmp.Compare(ops[a].ret, ops[b].ret), cmp.Compare(a, b))
	})
	state := spec.Init()
	budget := witnessSteps * (n + 1)
	for r := 0; len(pending) > 0; {
		for placed[byReturn[r]] {
			r++
		}
		first := ops[byReturn[r]].ret // the earliest return of an operation still to be put
		k := -1
		for j, i := range pending {
			if ops[i].call > first || budget == 0 {
				break // it may not come before that one, nor may any called later
			}
			budget--
			if ok, next := accepts(spec, state, ops[i]); ok {
				state, k = next, j
				break
			}
		}
		if k < 0 {
			return false // stuck: no proof either way
		}
		placed[pending[k]] = true
		if k == 0 {
			pending = pending[1:]
		} else {
			pending = slices.Delete(pending, k, k+1)
		}
	}
	for _, i := range later {
		ok, next := accepts(spec, state, ops[i])
		if !ok {
			return false
		}
		state = next
	}
	return true
}

// accepts is porcupine's step of the spec's model (Porcupine): operation o from state, which
// an unknown outcome always passes.
func accepts(spec *node.Spec, state any, o wop) (bool, any) {
	next, got := spec.Step(state, o.in)
	if o.ret == math.MaxInt64 { // never answered
		return true, next
	}
	return spec.Same(got, o.out), next
}
