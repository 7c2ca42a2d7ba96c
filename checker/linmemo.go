package checker

import (
	"cmp"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// A campaign of a small scenario judges histories of the same few shapes again and again:
// Paxos's calm runs each decide one of five values for five clients whose operations all
// overlap. Porcupine searches each on goroutines of its own, against a timer, which costs a
// calm Paxos run about as much as a third of its steps. So the checker keeps porcupine's
// verdict on each short history it found linearizable, and a history that linearizability
// cannot tell from it gets that verdict again without a second search.
//
// Whether a history is linearizable depends only on its operations' inputs and outputs and on
// which operation returned before which other was called (the real-time order), not on the
// times themselves, nor on the clients' numbers; and porcupine's verdict, Ok or Illegal, is
// exactly whether the history is linearizable. (An operation whose outcome is unknown returns
// at infinity for porcupine, with no output: it precedes nothing.) So a history is remembered
// as its operations in the order of their calls, each with its input, its output (nil when
// unknown) and the set of operations before it in real-time order: operation a precedes b
// when a returned strictly before b was called, as porcupine orders a call before a return at
// the same time. A remembered history matches only one equal in all of that, the values
// compared with reflect.DeepEqual, never by its hash alone.
//
// Only passing verdicts are kept: a history that is not linearizable is searched again, for
// its explanation, and a search that ran out of time (unknown) says nothing to keep. The memo
// holds histories of at most memoOps operations, and at most memoHistories of them; when it is
// full it starts afresh. It changes no verdict, only how often porcupine is asked.
const (
	memoOps       = 64 // the precedence sets are bit sets of a uint64
	memoHistories = 1 << 13
)

var passed struct {
	sync.Mutex
	m     map[historyKey][]memoHistory
	count int
	hits  int // for tests
}

type historyKey struct {
	spec *node.Spec
	hash uint64
}

// memoHistory is a history as linearizability sees it (see above).
type memoHistory []memoOp

type memoOp struct {
	in, out any
	after   uint64 // bit j: operation j (in call order) precedes this one
}

// memoOf returns the form in which a history is remembered, and its key; ok is false for a
// history too long to remember.
func memoOf(spec *node.Spec, ops []porcupine.Operation) (h memoHistory, key historyKey, ok bool) {
	if len(ops) == 0 || len(ops) > memoOps {
		return nil, key, false
	}
	var buf [memoOps]int
	order := buf[:len(ops)]
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ops[a].Call, ops[b].Call) })
	hs := sim.NewHasher()
	h = make(memoHistory, len(ops))
	for i, oi := range order {
		op := ops[oi]
		h[i] = memoOp{in: op.Input, out: op.Output}
		for j, oj := range order[:i] { // only an operation called earlier can return before op's call
			if ops[oj].Return < op.Call {
				h[i].after |= 1 << j
			}
		}
		hs.Uint64(h[i].after)
		hs.Uint64(sim.HashOf(op.Input))
		hs.Uint64(sim.HashOf(op.Output))
	}
	return h, historyKey{spec: spec, hash: hs.Sum()}, true
}

func (h memoHistory) equal(o memoHistory) bool {
	if len(h) != len(o) {
		return false
	}
	for i := range h {
		a, b := h[i], o[i]
		if a.after != b.after || !sameValue(a.in, b.in) || !sameValue(a.out, b.out) {
			return false
		}
	}
	return true
}

// sameValue is reflect.DeepEqual, with a quicker answer for values that compare equal with ==
// (which DeepEqual then finds equal too): the inputs and outputs of the histories of one
// campaign are mostly small plain values.
func sameValue(a, b any) bool {
	return plainEqual(a, b) || reflect.DeepEqual(a, b)
}

// plainEqual is a == b, false where == would panic (a slice inside an interface, say).
func plainEqual(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

// knownLinearizable reports whether porcupine found history h (of key k) linearizable before.
func knownLinearizable(k historyKey, h memoHistory) bool {
	passed.Lock()
	defer passed.Unlock()
	for _, o := range passed.m[k] {
		if o.equal(h) {
			passed.hits++
			return true
		}
	}
	return false
}

// rememberLinearizable keeps porcupine's passing verdict on history h (of key k).
func rememberLinearizable(k historyKey, h memoHistory) {
	passed.Lock()
	defer passed.Unlock()
	if passed.m == nil || passed.count >= memoHistories {
		passed.m, passed.count = map[historyKey][]memoHistory{}, 0
	}
	passed.m[k] = append(passed.m[k], h)
	passed.count++
}

// checkOperations is porcupine's verdict on ops against spec's model within limit, from the
// memo where porcupine gave it before.
func checkOperations(spec *node.Spec, model porcupine.Model, ops []porcupine.Operation, limit time.Duration) porcupine.CheckResult {
	h, k, ok := memoOf(spec, ops)
	if ok && knownLinearizable(k, h) {
		return porcupine.Ok
	}
	res := porcupine.CheckOperationsTimeout(model, ops, limit)
	if ok && res == porcupine.Ok {
		rememberLinearizable(k, h)
	}
	return res
}
