package checker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

const ms = time.Millisecond

// Shorthands for history entries: client c calls op at call (ms) and returns res at ret; a
// return of -1 means the outcome is unknown.
func put(c int, key string, v, call, ret int) node.Op {
	return entry(c, kv.Op{Kind: kv.Put, Key: key, Value: v}, kv.Result{Value: v, OK: true}, call, ret)
}

func get(c int, key string, v int, set bool, call, ret int) node.Op {
	return entry(c, kv.Op{Kind: kv.Get, Key: key}, kv.Result{Value: v, OK: set}, call, ret)
}

func entry(c int, in kv.Op, out kv.Result, call, ret int) node.Op {
	op := node.Op{Client: node.ClientID(c), Input: in, Call: time.Duration(call) * ms}
	if ret >= 0 {
		op.Output, op.Return, op.Done = out, time.Duration(ret)*ms, true
	}
	return op
}

func check(t *testing.T, spec *node.Spec, h []node.Op) porcupine.CheckResult {
	t.Helper()
	ops, err := Operations(spec, h)
	if err != nil {
		t.Fatal(err)
	}
	return porcupine.CheckOperationsTimeout(Porcupine(spec), ops, 10*time.Second)
}

// Shorthands for the two specifications of package kv.
var (
	ModelRegister = kv.Register
	ModelKV       = kv.Store
)

func TestModels(t *testing.T) {
	tests := []struct {
		name  string
		model *node.Spec
		h     []node.Op
		want  porcupine.CheckResult
	}{
		{"a read of a register never written", ModelRegister, []node.Op{
			get(1, "", 0, false, 0, 10),
		}, porcupine.Ok},
		{"a read that claims a value nobody wrote", ModelRegister, []node.Op{
			get(1, "", 7, true, 0, 10),
		}, porcupine.Illegal},
		{"sequential write then read", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), get(2, "", 5, true, 20, 30),
		}, porcupine.Ok},
		{"a stale read after a write completed", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, 30), get(2, "", 5, true, 40, 50),
		}, porcupine.Illegal},
		{"a read concurrent with a write sees either value", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, 40), get(2, "", 5, true, 25, 35), get(3, "", 6, true, 26, 36),
		}, porcupine.Ok},
		{"new then old: reads in a row cannot go back", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, 100), get(2, "", 6, true, 30, 40), get(3, "", 5, true, 50, 60),
		}, porcupine.Illegal},
		{"a write with unknown outcome may have taken effect", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, -1), get(2, "", 6, true, 200, 210),
		}, porcupine.Ok},
		{"or not", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, -1), get(2, "", 5, true, 200, 210),
		}, porcupine.Ok},
		{"but not both, in that order", ModelRegister, []node.Op{
			put(1, "", 5, 0, 10), put(1, "", 6, 20, -1), get(2, "", 6, true, 200, 210), get(2, "", 5, true, 220, 230),
		}, porcupine.Illegal},
		{"keys are independent", ModelKV, []node.Op{
			put(1, "a", 1, 0, 10), put(2, "b", 2, 0, 10), get(3, "a", 1, true, 20, 30), get(3, "b", 2, true, 40, 50),
			get(3, "c", 0, false, 60, 70),
		}, porcupine.Ok},
		{"one bad key fails the store", ModelKV, []node.Op{
			put(1, "a", 1, 0, 10), put(2, "b", 2, 0, 10), put(2, "b", 3, 20, 30), get(3, "a", 1, true, 40, 50),
			get(3, "b", 2, true, 60, 70),
		}, porcupine.Illegal},
		{"compare-and-swap", ModelKV, []node.Op{
			put(1, "a", 1, 0, 10),
			entry(2, kv.Op{Kind: kv.CAS, Key: "a", Expect: 1, Value: 2}, kv.Result{Value: 2, OK: true}, 20, 30),
			entry(3, kv.Op{Kind: kv.CAS, Key: "a", Expect: 1, Value: 3}, kv.Result{Value: 2, OK: false}, 40, 50),
		}, porcupine.Ok},
		{"a swap that cannot have succeeded", ModelKV, []node.Op{
			put(1, "a", 1, 0, 10),
			entry(2, kv.Op{Kind: kv.CAS, Key: "a", Expect: 9, Value: 2}, kv.Result{Value: 2, OK: true}, 20, 30),
		}, porcupine.Illegal},
	}
	for _, tt := range tests {
		if got := check(t, tt.model, tt.h); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOperationsRejectsWhatTheModelCannotRead(t *testing.T) {
	tests := []struct {
		model *node.Spec
		h     []node.Op
		want  string
	}{
		{ModelKV, []node.Op{{Client: 1, Input: "put 1", Done: false}}, "is a string, but spec kv takes kv.Op"},
		{ModelKV, []node.Op{{Client: 1, Input: kv.Op{Kind: kv.Get}, Output: 7, Done: true}}, "is a int, but spec kv answers kv.Result"},
	}
	for _, tt := range tests {
		if _, err := Operations(tt.model, tt.h); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Operations(%v): error %v, want one that says %q", tt.h, err, tt.want)
		}
	}
	// A register has one key: an operation on another is one it cannot take.
	if got := check(t, ModelRegister, []node.Op{put(1, "k", 1, 0, 10)}); got != porcupine.Illegal {
		t.Errorf("a register's history with key k: %s, want Illegal", got)
	}
}

// queue is a user's own sequential specification: a FIFO queue of ints, where a dequeue of
// an empty queue answers -1.
type queueOp struct {
	Enqueue bool
	Value   int
}

var queue = node.Sequential[[]int, queueOp, int]{
	Name: "queue",
	Init: func() []int { return nil },
	Step: func(q []int, op queueOp) ([]int, int) {
		if op.Enqueue {
			return append(q[:len(q):len(q)], op.Value), op.Value
		}
		if len(q) == 0 {
			return q, -1
		}
		return q[1:], q[0]
	},
}.Spec()

func TestAUsersOwnSpecification(t *testing.T) {
	op := func(c int, in queueOp, out, call, ret int) node.Op {
		o := node.Op{Client: node.ClientID(c), Input: in, Call: time.Duration(call) * ms}
		if ret >= 0 {
			o.Output, o.Return, o.Done = out, time.Duration(ret)*ms, true
		}
		return o
	}
	enq := func(c, v, call, ret int) node.Op { return op(c, queueOp{true, v}, v, call, ret) }
	deq := func(c, v, call, ret int) node.Op { return op(c, queueOp{}, v, call, ret) }
	tests := []struct {
		name string
		h    []node.Op
		want porcupine.CheckResult
	}{
		{"first in, first out", []node.Op{enq(1, 1, 0, 10), enq(1, 2, 20, 30), deq(2, 1, 40, 50), deq(2, 2, 60, 70)}, porcupine.Ok},
		{"last in, first out is not a queue", []node.Op{enq(1, 1, 0, 10), enq(1, 2, 20, 30), deq(2, 2, 40, 50)}, porcupine.Illegal},
		{"concurrent enqueues may go either way", []node.Op{enq(1, 1, 0, 30), enq(2, 2, 0, 30), deq(3, 2, 40, 50), deq(3, 1, 60, 70)}, porcupine.Ok},
		{"a value dequeued twice", []node.Op{enq(1, 1, 0, 10), deq(2, 1, 20, 30), deq(3, 1, 40, 50)}, porcupine.Illegal},
		{"an empty queue answers -1", []node.Op{deq(1, -1, 0, 10), enq(1, 5, 20, 30)}, porcupine.Ok},
	}
	for _, tt := range tests {
		if got := check(t, queue, tt.h); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	l := &Linearizability{spec: queue, limit: time.Second}
	f := l.judge([]node.Op{enq(1, 1, 0, 10), enq(1, 2, 20, 30), deq(2, 2, 40, 50)})
	if f == nil || !strings.Contains(f.message, "not linearizable as a queue") {
		t.Errorf("judge: %+v", f)
	}
}

// TestUnobservableIsSound: dropping the unknown operations nobody saw never changes the
// verdict, on random small histories of one key with unique values.
func TestUnobservableIsSound(t *testing.T) {
	m := Porcupine(ModelKV)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "ops")
		var h []node.Op
		for i := range n {
			call := rapid.IntRange(0, 50).Draw(t, "call")
			ret := call + rapid.IntRange(0, 30).Draw(t, "length")
			if rapid.IntRange(0, 3).Draw(t, "unknown") == 0 {
				ret = -1
			}
			if rapid.Bool().Draw(t, "write") {
				h = append(h, put(i+1, "k", 100+i, call, ret))
			} else {
				v := rapid.IntRange(99, 100+n).Draw(t, "read")
				h = append(h, get(i+1, "k", v, v != 99, call, ret))
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
		full, pruned := porcupine.CheckOperations(m, ops), porcupine.CheckOperations(m, kept)
		if full != pruned {
			t.Fatalf("linearizable %v with every operation, %v without the unobservable ones", full, pruned)
		}
	})
}

func TestUnobservableDropsOnlyUnseenUnknowns(t *testing.T) {
	ops := []node.Op{
		put(1, "", 5, 0, 10),        // answered: kept
		put(2, "", 6, 0, -1),        // unknown and read below: kept
		put(3, "", 7, 0, -1),        // unknown and never seen: dropped
		get(4, "", 0, false, 0, -1), // an unknown read: dropped
		get(5, "", 6, true, 20, 30),
	}
	kept := kv.Unobservable(ops)
	if dropped := len(ops) - len(kept); dropped != 2 || len(kept) != 3 {
		t.Fatalf("kept %v, dropped %d; want the put of 7 and the unknown read dropped", kept, dropped)
	}
	for _, op := range kept {
		if op.Input.(kv.Op).Value == 7 {
			t.Errorf("kept the unseen unknown put of 7")
		}
	}
}

// hard is a history porcupine cannot settle quickly: many concurrent writes and reads, then
// a read of a value never written, so that only an exhaustive search proves it illegal.
func hard() []node.Op {
	var h []node.Op
	for i := 1; i <= 18; i++ {
		h = append(h, put(i, "", i, 0, 100), get(100+i, "", i, true, 0, 100))
	}
	return append(h, get(999, "", 12345, true, 200, 300))
}

func TestATimeLimitGivesUnknown(t *testing.T) {
	m := Porcupine(ModelRegister)
	ops, _ := Operations(ModelRegister, hard())
	if got := porcupine.CheckOperationsTimeout(m, ops, 20*time.Millisecond); got != porcupine.Unknown {
		t.Fatalf("check with a 20ms limit: %s, want Unknown", got)
	}
}

func TestExplainWritesTheVisualization(t *testing.T) {
	l := &Linearizability{spec: ModelRegister, limit: time.Second}
	h := []node.Op{put(1, "", 5, 0, 10), put(1, "", 6, 20, 100), get(2, "", 6, true, 30, 40), get(3, "", 5, true, 50, 60)}
	v := l.judge(h)
	if v == nil || l.outcome != Fail {
		t.Fatalf("verdict %v, violation %v; want a failure", l.outcome, v)
	}
	if !strings.Contains(v.message, "not linearizable as a register") {
		t.Errorf("message %q", v.message)
	}
	details := strings.Join(v.details, "\n")
	for _, want := range []string{"longest legal order", "get() -> 5/true"} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
	base := filepath.Join(t.TempDir(), "run-seed3.capsule")
	paths, err := l.Explain(base)
	if err != nil || len(paths) != 1 || !strings.HasSuffix(paths[0], "run-seed3.linearizability.html") {
		t.Fatalf("Explain: %v, %v", paths, err)
	}
	html, err := os.ReadFile(paths[0])
	if err != nil || !strings.Contains(string(html), "<html") {
		t.Errorf("the visualization is not an HTML page (%v)", err)
	}
}
