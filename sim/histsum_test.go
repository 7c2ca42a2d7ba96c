package sim_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
)

// The untimed world stores a history by its linearization frontier (histsum.go). This test
// holds the frontier to the checker (porcupine) on random small histories of a register, a
// two-key store and consensus: the frontier is empty exactly when the checker says the
// history is not linearizable, and two orders of the same operations with one frontier are
// linearizable or not together after every continuation tried (more answers, more calls),
// which is what lets the explorer store their states once.
func TestLinearizationFrontierAgreesWithChecker(t *testing.T) {
	specs := []struct {
		name string
		spec *node.Spec
		op   func(r *rand.Rand) (in, out any)
	}{
		{"register", kv.Register, registerOp("")},
		{"kv", kv.Store, func(r *rand.Rand) (any, any) { return registerOp([]string{"a", "b"}[r.IntN(2)])(r) }},
		{"consensus", paxos.Consensus, func(r *rand.Rand) (any, any) {
			return paxos.Value(1 + r.IntN(3)), paxos.Value(1 + r.IntN(3))
		}},
	}
	for _, sp := range specs {
		r := rand.New(rand.NewPCG(7, uint64(len(sp.name))))
		var failed, merged, continued int
		for trial := 0; trial < 400; trial++ {
			ops := randomOps(r, 2+r.IntN(3), sp.op)
			h1, h2 := interleave(r, ops, 1, 1), interleave(r, ops, 1, 1)
			k1, n1, ok1 := sim.LinFrontierForTest(sp.spec, h1)
			k2, _, ok2 := sim.LinFrontierForTest(sp.spec, h2)
			if !ok1 || !ok2 {
				t.Fatalf("%s: frontier gave up on %d operations", sp.name, len(ops))
			}
			lin := linearizable(t, sp.spec, h1)
			if (n1 > 0) != lin {
				t.Fatalf("%s: frontier of %d pairs, checker linearizable %v, for %v", sp.name, n1, lin, h1)
			}
			if !lin {
				failed++
			}
			if k1 != k2 {
				continue
			}
			if !lin {
				continue // both frontiers empty: nothing to continue
			}
			if !slices.Equal(h1, h2) {
				merged++ // two orders of a linearizable history stored as one
			}
			for range 3 {
				more := randomOps(r, r.IntN(2), sp.op)
				for i := range more {
					more[i].Client = node.ClientID(10 + i)
				}
				e1, e2 := extend(r, h1, more, sp.op), []node.Op(nil)
				e2 = slices.Clone(h2)
				for _, op := range e1[len(h1):] {
					e2 = append(e2, op)
				}
				answerSame(e1, e2, len(h1))
				continued++
				if a, b := linearizable(t, sp.spec, e1), linearizable(t, sp.spec, e2); a != b {
					t.Fatalf("%s: one frontier, but after the same continuation linearizable %v and %v:\n%v\n%v", sp.name, a, b, e1, e2)
				}
				// and one frontier after it too, so that the states that follow are one
				if f1, _, _ := sim.LinFrontierForTest(sp.spec, e1); f1 != must(sim.LinFrontierForTest(sp.spec, e2)) {
					t.Fatalf("%s: one frontier, but two after the same continuation:\n%v\n%v", sp.name, e1, e2)
				}
			}
		}
		t.Logf("%s: %d of 400 not linearizable; %d pairs of different orders of a linearizable history merged, %d continuations of linearizable pairs compared", sp.name, failed, merged, continued)
		if failed == 0 || merged == 0 {
			t.Errorf("%s: %d not linearizable, %d merged: the test shows nothing", sp.name, failed, merged)
		}
	}
}

func registerOp(key string) func(r *rand.Rand) (any, any) {
	return func(r *rand.Rand) (any, any) {
		v := 1 + r.IntN(2)
		if r.IntN(2) == 0 {
			return kv.Op{Kind: kv.Put, Key: key, Value: v}, kv.Result{Value: v, OK: true}
		}
		got := r.IntN(3)
		return kv.Op{Kind: kv.Get, Key: key}, kv.Result{Value: got, OK: got != 0}
	}
}

// randomOps makes n operations of distinct clients, each answered (with a random answer) or not.
func randomOps(r *rand.Rand, n int, op func(*rand.Rand) (any, any)) []node.Op {
	ops := make([]node.Op, n)
	for i := range ops {
		in, out := op(r)
		ops[i] = node.Op{Client: node.ClientID(i + 1), Seq: 1, Input: in, Output: out, Done: r.IntN(4) != 0}
		if !ops[i].Done {
			ops[i].Output = nil
		}
	}
	return ops
}

// interleave stamps ops with a random order of their calls and answers, at times start,
// start+step, ...
func interleave(r *rand.Rand, ops []node.Op, start, step int) []node.Op {
	out := slices.Clone(ops)
	called := make([]bool, len(out))
	answered := make([]bool, len(out))
	at := time.Duration(start)
	var order []int // the operations in the order of their calls
	for {
		var next []int // 2i: call i; 2i+1: answer i
		for i, op := range out {
			if !called[i] {
				next = append(next, 2*i)
			} else if op.Done && !answered[i] {
				next = append(next, 2*i+1)
			}
		}
		if len(next) == 0 {
			break
		}
		e := next[r.IntN(len(next))]
		i := e / 2
		if e%2 == 0 {
			called[i], out[i].Call = true, at
			order = append(order, i)
		} else {
			answered[i], out[i].Return = true, at
		}
		at += time.Duration(step)
	}
	sorted := make([]node.Op, len(out))
	for j, i := range order {
		sorted[j] = out[i]
	}
	return sorted
}

// extend continues h: some of its unanswered operations are answered and more are called,
// after h's events, interleaved at random.
func extend(r *rand.Rand, h, more []node.Op, op func(*rand.Rand) (any, any)) []node.Op {
	out := slices.Clone(h)
	at := time.Duration(1000)
	for i := range out {
		if !out[i].Done && r.IntN(2) == 0 {
			_, res := op(r)
			out[i].Output, out[i].Return, out[i].Done = res, at+time.Duration(2*r.IntN(6)), true
		}
	}
	tail := interleave(r, more, 1001, 2) // odd times, between and after those answers
	return append(out, tail...)
}

// answerSame copies to e2 the answers that extend gave e1's first n operations, matched by
// client and sequence (the two histories order them differently).
func answerSame(e1, e2 []node.Op, n int) {
	for _, a := range e1[:n] {
		for j := range e2[:n] {
			if e2[j].Client == a.Client && e2[j].Seq == a.Seq && !e2[j].Done && a.Done {
				e2[j].Output, e2[j].Return, e2[j].Done = a.Output, a.Return, true
			}
		}
	}
}

func linearizable(t *testing.T, spec *node.Spec, h []node.Op) bool {
	t.Helper()
	o, msg, _ := checker.JudgeHistory(spec, h, 10*time.Second)
	if o != checker.Pass && o != checker.Fail {
		t.Fatalf("checker: %v %s", o, msg)
	}
	return o == checker.Pass
}

func must(h uint64, _ int, _ bool) uint64 { return h }
