package checker

import (
	"math"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/replica-io/replica/protocols/node"
)

// A spec whose Step panics on porcupine's goroutines does not end the process: the guard keeps
// the panic and raises it again on the checker's goroutine, naming the spec.
func TestASpecThatPanicsInPorcupineIsRaisedOnTheCallersGoroutine(t *testing.T) {
	spec := node.Sequential[int, int, int]{Name: "boom", Init: func() int { return 0 },
		Step: func(s, in int) (int, int) { panic("spec exploded") }}.Spec()
	var g guard
	ops := []porcupine.Operation{{ClientId: 0, Input: 1, Output: 1, Call: 0, Return: 10},
		{ClientId: 1, Input: 2, Output: 2, Call: 1, Return: 11}}
	res := porcupine.CheckOperations(porcupineModel(spec, &g), ops)
	if res {
		t.Fatal("a spec that panics accepted the history")
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "boom panicked: spec exploded") {
			t.Fatalf("rethrown %v", r)
		}
	}()
	g.rethrow()
	t.Fatal("the panic was not raised again")
}

// An operation answered with nil is checked as an answer, not taken for one of unknown
// outcome: a register that answers every read with nil is not linearizable, and a spec whose
// answers are ints refuses a nil answer outright.
func TestAnAnswerOfNilIsAnAnswer(t *testing.T) {
	type write struct{ V int }
	type read struct{}
	reg := node.Sequential[int, any, any]{Name: "register", Init: func() int { return 0 },
		Step: func(s int, in any) (int, any) {
			if w, ok := in.(write); ok {
				return w.V, "ok"
			}
			return s, s
		}}.Spec()
	history := []node.Op{
		{Client: 1, Seq: 1, Input: write{V: 7}, Output: "ok", Call: 1, Return: 2, Done: true},
		{Client: 2, Seq: 1, Input: read{}, Output: nil, Call: 3, Return: 4, Done: true},
	}
	if o, msg, _ := JudgeHistory(reg, history, 0); o != Fail {
		t.Errorf("a read answered nil after a write of 7: %v %s", o, msg)
	}
	history[1].Done, history[1].Return = false, math.MaxInt64 // never answered: anything goes
	if o, msg, _ := JudgeHistory(reg, history, 0); o != Pass {
		t.Errorf("a read of unknown outcome: %v %s", o, msg)
	}
	ints := node.Sequential[int, int, int]{Name: "ints", Init: func() int { return 0 },
		Step: func(s, in int) (int, int) { return s, in }}.Spec()
	o, msg, _ := JudgeHistory(ints, []node.Op{{Client: 1, Seq: 1, Input: 1, Output: nil, Call: 1, Return: 2, Done: true}}, 0)
	if o != Fail || !strings.Contains(msg, "an answer is nil") {
		t.Errorf("an int spec's answer of nil: %v %s", o, msg)
	}
}
