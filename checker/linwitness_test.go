package checker

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/node"
)

// consensus is a sequential specification shaped like Paxos's: the first proposal is the
// decision, and every proposal answers with it.
var consensus = node.Sequential[int, int, int]{
	Name: "consensus",
	Init: func() int { return 0 },
	Step: func(decided, proposed int) (int, int) {
		if decided == 0 {
			decided = proposed
		}
		return decided, decided
	},
}.Spec()

// randomHistory draws a short history against spec: overlapping operations with random
// outputs (so that many are not linearizable), a few of unknown outcome, ties in time.
func randomHistory(t *rapid.T, spec *node.Spec) []node.Op {
	n := rapid.IntRange(0, 7).Draw(t, "ops")
	var h []node.Op
	for i := range n {
		call := rapid.IntRange(0, 20).Draw(t, "call")
		ret := call + rapid.IntRange(0, 10).Draw(t, "length")
		if rapid.IntRange(0, 5).Draw(t, "unknown") == 0 {
			ret = -1
		}
		v := rapid.IntRange(0, 2).Draw(t, "value")
		switch spec {
		case consensus:
			op := node.Op{Client: node.ClientID(i + 1), Input: 1 + rapid.IntRange(0, 2).Draw(t, "proposal"), Call: time.Duration(call) * ms}
			if ret >= 0 {
				op.Output, op.Return, op.Done = 1+v, time.Duration(ret)*ms, true
			}
			h = append(h, op)
		default:
			key := rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "key")
			if spec == ModelRegister {
				key = ""
			}
			if rapid.Bool().Draw(t, "write") {
				h = append(h, put(i+1, key, v, call, ret))
			} else {
				h = append(h, get(i+1, key, v, v != 0, call, ret))
			}
		}
	}
	return h
}

// The greedy witness never says yes where porcupine says no, and the verdict of the checker
// (witness, memo, porcupine) is porcupine's on every random short history, linearizable or
// not, partitioned by key or whole. The property would hold vacuously if the witness never
// found an order, or if every history were linearizable: both kinds must turn up.
func TestWitnessAgreesWithPorcupine(t *testing.T) {
	var witnessedN, illegalN int
	rapid.Check(t, func(t *rapid.T) {
		spec := rapid.SampledFrom([]*node.Spec{ModelRegister, ModelKV, consensus}).Draw(t, "spec")
		h := randomHistory(t, spec)
		ops, err := Operations(spec, h)
		if err != nil {
			t.Fatal(err)
		}
		want := porcupine.CheckOperationsTimeout(Porcupine(spec), ops, 0)
		if witnessed(spec, h) {
			witnessedN++
			if want != porcupine.Ok {
				t.Fatalf("the witness found an order of a history porcupine calls %v", want)
			}
		}
		if want == porcupine.Illegal {
			illegalN++
		}
		wantOutcome := Pass
		if want != porcupine.Ok {
			wantOutcome = Fail
		}
		if o, _, _ := JudgeHistory(spec, h, 0); o != wantOutcome {
			t.Fatalf("judged %v, porcupine says %v", o, want)
		}
	})
	if witnessedN == 0 || illegalN == 0 {
		t.Fatalf("vacuous: %d histories witnessed, %d not linearizable", witnessedN, illegalN)
	}
}

// The witness finds the obvious orders: a Paxos-like history whose decided proposal is called
// third of five concurrent ones, a sequential one, and one where the unknown-outcome write
// must go last.
func TestWitnessFindsObviousOrders(t *testing.T) {
	prop := func(c, v, call, ret, out int) node.Op {
		return node.Op{Client: node.ClientID(c), Input: v, Output: out, Call: time.Duration(call) * ms, Return: time.Duration(ret) * ms, Done: true}
	}
	cases := []struct {
		name string
		spec *node.Spec
		h    []node.Op
	}{
		{"consensus", consensus, []node.Op{prop(1, 1, 0, 50, 3), prop(2, 2, 1, 40, 3), prop(3, 3, 2, 30, 3), prop(4, 4, 3, 45, 3), prop(5, 5, 4, 60, 3)}},
		{"sequential", ModelRegister, []node.Op{put(1, "", 1, 0, 1), get(2, "", 1, true, 2, 3), put(1, "", 2, 4, 5), get(2, "", 2, true, 6, 7)}},
		{"unknown last", ModelRegister, []node.Op{put(1, "", 1, 0, 1), put(2, "", 2, 0, -1), get(3, "", 1, true, 5, 6)}},
		{"by key", ModelKV, []node.Op{put(1, "a", 1, 0, 10), put(2, "b", 2, 1, 9), get(3, "a", 1, true, 2, 8), get(4, "b", 2, true, 12, 13)}},
	}
	for _, c := range cases {
		if !witnessed(c.spec, c.h) {
			t.Errorf("%s: no witness found", c.name)
		}
	}
	// A stale read has no linearization, so no witness either; nor has a key whose read
	// answers what another key holds.
	stale := []node.Op{put(1, "", 1, 0, 1), put(1, "", 2, 2, 3), get(2, "", 1, true, 4, 5)}
	crossed := []node.Op{put(1, "a", 1, 0, 1), put(2, "b", 2, 0, 1), get(3, "a", 2, true, 4, 5)}
	if witnessed(ModelRegister, stale) || witnessed(ModelKV, crossed) {
		t.Error("a history that is not linearizable was witnessed")
	}
}
