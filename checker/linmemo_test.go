package checker

import (
	"reflect"
	"testing"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/node"
)

// hits is how often the memo of passing verdicts has answered so far.
func hits() int {
	passed.Lock()
	defer passed.Unlock()
	return passed.hits
}

// A history porcupine passed is passed again from the memo, and so is one whose times differ
// but whose calls and returns come in the same order; one that differs in an output, in that
// order, or that is not linearizable at all is searched by porcupine again.
func TestLinearizableVerdictsRemembered(t *testing.T) {
	judge := func(h []node.Op) (Outcome, bool) {
		before := hits()
		o, _, _ := JudgeHistory(ModelRegister, h, 0)
		return o, hits() > before
	}
	concurrent := []node.Op{put(1, "", 5, 0, 10), put(1, "", 6, 20, 40), get(2, "", 5, true, 25, 35), get(3, "", 6, true, 26, 36)}
	if o, memo := judge(concurrent); o != Pass || memo {
		t.Fatalf("first judgement: %v, from the memo %v; want a pass from porcupine", o, memo)
	}
	if o, memo := judge(concurrent); o != Pass || !memo {
		t.Fatalf("the same history again: %v, from the memo %v; want a pass from the memo", o, memo)
	}
	shifted := []node.Op{put(1, "", 5, 100, 111), put(1, "", 6, 120, 150), get(2, "", 5, true, 125, 135), get(3, "", 6, true, 130, 140)}
	if o, memo := judge(shifted); o != Pass || !memo {
		t.Fatalf("other times, same order: %v, from the memo %v; want a pass from the memo", o, memo)
	}
	// The same operations, but the second write now returns before the reads begin: the
	// first read's 5 is stale. The memo must not answer for it.
	reordered := []node.Op{put(1, "", 5, 0, 10), put(1, "", 6, 20, 24), get(2, "", 5, true, 25, 35), get(3, "", 6, true, 26, 36)}
	for range 2 {
		if o, memo := judge(reordered); o != Fail || memo {
			t.Fatalf("a stale read: %v, from the memo %v; want a failure from porcupine", o, memo)
		}
	}
	otherOutput := []node.Op{put(1, "", 5, 0, 10), put(1, "", 6, 20, 40), get(2, "", 6, true, 25, 35), get(3, "", 6, true, 26, 36)}
	if o, memo := judge(otherOutput); o != Pass || memo {
		t.Fatalf("another output: %v, from the memo %v; want a pass from porcupine", o, memo)
	}
	// Equal times stay equal: porcupine orders a call before a return at the same time, which
	// makes the two operations concurrent; apart, they are not.
	tie := []node.Op{put(1, "", 5, 0, 10), get(2, "", 5, true, 10, 20)}
	tieApart := []node.Op{put(1, "", 5, 0, 10), get(2, "", 5, true, 11, 20)}
	judge(tie)
	if _, memo := judge(tieApart); memo {
		t.Fatal("a history with a tie and one without shared a verdict")
	}
}

// Whatever the memo holds, a verdict is porcupine's own: random short register histories,
// each judged twice (the second time, if the first passed, from the memo), agree with
// porcupine asked directly.
func TestLinearizableMemoAgreesWithPorcupine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "ops")
		var h []node.Op
		for i := range n {
			call := rapid.IntRange(0, 20).Draw(t, "call")
			ret := call + rapid.IntRange(0, 10).Draw(t, "length")
			if rapid.IntRange(0, 5).Draw(t, "unknown") == 0 {
				ret = -1
			}
			v := rapid.IntRange(0, 2).Draw(t, "value")
			if rapid.Bool().Draw(t, "write") {
				h = append(h, put(i+1, "", v, call, ret))
			} else {
				h = append(h, get(i+1, "", v, v != 0, call, ret))
			}
		}
		ops, err := Operations(ModelRegister, h)
		if err != nil {
			t.Fatal(err)
		}
		want := Pass
		if porcupine.CheckOperationsTimeout(Porcupine(ModelRegister), ops, 0) != porcupine.Ok {
			want = Fail
		}
		for range 2 {
			if o, _, _ := JudgeHistory(ModelRegister, h, 0); o != want {
				t.Fatalf("judged %v, porcupine says %v", o, want)
			}
		}
	})
}

// sameValue is reflect.DeepEqual, whatever the values: comparable or not, equal or not.
func TestSameValue(t *testing.T) {
	type pair struct {
		A int
		B any
	}
	values := []any{nil, 1, 2, "a", 1.5, pair{1, "x"}, pair{1, []int{1}}, pair{1, []int{1}}, []int{1}, []int{1}, map[string]int{"k": 1}, &pair{A: 1}, &pair{A: 1}}
	for _, a := range values {
		for _, b := range values {
			if got, want := sameValue(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("sameValue(%#v, %#v) = %v, DeepEqual says %v", a, b, got, want)
			}
		}
	}
}
