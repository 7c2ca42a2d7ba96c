package checker

import (
	"cmp"
	"math"
	"slices"

	"github.com/anishathalye/porcupine"
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
// its call is, and the model accepted each operation's output in it, through the same Step
// porcupine uses. The history is then linearizable, which is exactly porcupine's Ok. If the
// greedy order gets stuck, that proves nothing, and porcupine is asked as before: a witness
// can only say yes, and never without the order to show for it.

// witnessSteps bounds the model steps the greedy search tries, per operation and overall, so
// that a history it cannot order costs little before porcupine searches it.
const witnessSteps = 8

// witnessed reports whether a greedy linearization of ops exists under model, partitioned as
// the model partitions histories (each part must have one).
func witnessed(model porcupine.Model, ops []porcupine.Operation) bool {
	if model.Partition == nil {
		return witnessedPart(model, ops)
	}
	for _, part := range model.Partition(ops) {
		if !witnessedPart(model, part) {
			return false
		}
	}
	return true
}

// witnessedPart is witnessed for one part of a history (see above).
func witnessedPart(model porcupine.Model, ops []porcupine.Operation) bool {
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
		if op.Return == math.MaxInt64 {
			later = append(later, i)
		} else {
			pending = append(pending, i)
		}
	}
	byCall := func(a, b int) int { return cmp.Or(cmp.Compare(ops[a].Call, ops[b].Call), cmp.Compare(a, b)) }
	slices.SortFunc(pending, byCall)
	slices.SortFunc(later, byCall)
	byReturn = append(byReturn, pending...)
	slices.SortFunc(byReturn, func(a, b int) int {
		return cmp.Or(cmp.Compare(ops[a].Return, ops[b].Return), cmp.Compare(a, b))
	})
	state := model.Init()
	budget := witnessSteps * (n + 1)
	for r := 0; len(pending) > 0; {
		for placed[byReturn[r]] {
			r++
		}
		first := ops[byReturn[r]].Return // the earliest return of an operation still to be put
		k := -1
		for j, i := range pending {
			if ops[i].Call > first || budget == 0 {
				break // it may not come before that one, nor may any called later
			}
			budget--
			if ok, next := model.Step(state, ops[i].Input, ops[i].Output); ok {
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
		ok, next := model.Step(state, ops[i].Input, ops[i].Output)
		if !ok {
			return false
		}
		state = next
	}
	return true
}
