package checker

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

func cas(c int, key string, expect, v int, swapped bool, call, ret int) node.Op {
	out := kv.Result{Value: v, OK: true}
	if !swapped {
		out = kv.Result{Value: expect + 1000, OK: false}
	}
	return entry(c, kv.Op{Kind: kv.CAS, Key: key, Expect: expect, Value: v}, out, call, ret)
}

// An unknown compare-and-swap whose written value someone read took effect, so the unknown
// write of the value it expected is observed too: pruning it would make a linearizable
// history look illegal (found by a multipaxos swarm: put(z,6) and cas(z,6->5) of unknown
// outcome, then get(z) -> 5).
func TestUnobservableKeepsWhatAnObservedCASExpected(t *testing.T) {
	h := []node.Op{
		put(1, "z", 6, 0, -1),
		cas(2, "z", 6, 5, true, 1, -1),
		get(3, "z", 5, true, 100, 110),
	}
	if got := check(t, ModelKV, kv.Unobservable(h)); got != porcupine.Ok {
		t.Fatalf("the pruned history is %v; want it linearizable, as the whole one is (%v)", got, check(t, ModelKV, h))
	}
	if kept := kv.Unobservable(h); len(kept) != 3 {
		t.Errorf("kept %d of 3 operations", len(kept))
	}
}

// TestUnobservableIsSoundWithCAS: as TestUnobservableIsSound, with compare-and-swaps.
func TestUnobservableIsSoundWithCAS(t *testing.T) {
	m := Porcupine(ModelKV)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 7).Draw(t, "ops")
		var h []node.Op
		for i := range n {
			call := rapid.IntRange(0, 50).Draw(t, "call")
			ret := call + rapid.IntRange(0, 30).Draw(t, "length")
			if rapid.IntRange(0, 2).Draw(t, "unknown") == 0 {
				ret = -1
			}
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				h = append(h, put(i+1, "k", 100+i, call, ret))
			case 1:
				v := rapid.IntRange(99, 100+n).Draw(t, "read")
				h = append(h, get(i+1, "k", v, v != 99, call, ret))
			default:
				h = append(h, cas(i+1, "k", rapid.IntRange(100, 100+n).Draw(t, "expect"), 100+i, rapid.Bool().Draw(t, "swapped"), call, ret))
			}
		}
		ops, err := Operations(ModelKV, h)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := Operations(ModelKV, kv.Unobservable(h))
		if err != nil {
			t.Fatal(err)
		}
		if full, pruned := porcupine.CheckOperations(m, ops), porcupine.CheckOperations(m, kept); full != pruned {
			t.Fatalf("linearizable %v with every operation, %v without the unobservable ones", full, pruned)
		}
	})
}
