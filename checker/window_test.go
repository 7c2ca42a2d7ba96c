package checker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// genHistory draws a history of a key-value store over keys: clients run operations one at a
// time, each takes effect at a point inside its interval (or, for one of unknown outcome, at
// a point after its call, or never), and the answers are what the store answered in that
// order, so the history is linearizable; with corrupt, one answered read may then answer a
// value it never could have, and the history may or may not stay linearizable.
func genHistory(t *rapid.T, keys []string, ops int, corrupt bool) []node.Op {
	type planned struct {
		op    node.Op
		at    int // the point it takes effect at, -1 for never
		index int
	}
	clients := rapid.IntRange(1, 4).Draw(t, "clients")
	giveUp := rapid.IntRange(2, 30).Draw(t, "one in this many operations is given up on")
	free := make([]int, clients)
	ids := make([]int, clients)
	for c := range ids {
		ids[c] = c + 1
	}
	next := clients + 1
	var plan []planned
	for i := range ops {
		c := rapid.IntRange(0, clients-1).Draw(t, "client")
		call := free[c] + rapid.IntRange(0, 12).Draw(t, "gap")
		dur := rapid.IntRange(1, 20).Draw(t, "duration")
		key := keys[rapid.IntRange(0, len(keys)-1).Draw(t, "key")]
		var in kv.Op
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			in = kv.Op{Kind: kv.Get, Key: key}
		case 1:
			in = kv.Op{Kind: kv.Put, Key: key, Value: rapid.IntRange(1, 3).Draw(t, "value")}
		default:
			in = kv.Op{Kind: kv.CAS, Key: key, Expect: rapid.IntRange(0, 3).Draw(t, "expect"), Value: rapid.IntRange(1, 3).Draw(t, "value")}
		}
		p := planned{op: node.Op{Client: node.ClientID(ids[c]), Seq: i, Input: in, Call: time.Duration(call) * ms,
			Return: time.Duration(call+dur) * ms, Done: true}, at: call + rapid.IntRange(0, dur).Draw(t, "point"), index: i}
		if rapid.IntRange(1, giveUp).Draw(t, "unknown") == 1 { // the client gives up: a new identity follows
			p.op.Done, p.op.Return = false, 0
			p.at = call + rapid.IntRange(0, 300).Draw(t, "late point")
			if rapid.Bool().Draw(t, "never") {
				p.at = -1
			}
			ids[c], next = next, next+1
		}
		free[c] = call + dur + 1
		plan = append(plan, p)
	}
	order := slices.Clone(plan)
	slices.SortStableFunc(order, func(a, b planned) int { return a.at - b.at })
	store := map[string]int{}
	for _, p := range order {
		if p.at < 0 {
			continue
		}
		r := kv.Apply(store, p.op.Input.(kv.Op))
		if p.op.Done {
			plan[p.index].op.Output = r
		}
	}
	if corrupt {
		i := rapid.IntRange(0, len(plan)-1).Draw(t, "corrupt")
		if op := &plan[i].op; op.Done && op.Input.(kv.Op).Kind == kv.Get {
			op.Output = kv.Result{Value: rapid.IntRange(0, 4).Draw(t, "bad value"), OK: true}
		}
	}
	h := make([]node.Op, len(plan))
	for i, p := range plan {
		h[i] = p.op
	}
	slices.SortStableFunc(h, func(a, b node.Op) int { return int(a.Call - b.Call) }) // invocation order
	return h
}

// The windowed check gives the whole history's verdict, with windows as short as two
// operations (so that histories of a few dozen operations are cut many times), on the store
// and on the register, with concurrent writes of equal values, compare-and-swaps and
// operations of unknown outcome that take effect late or never.
func TestWindowedVerdictIsTheWholeHistorys(t *testing.T) {
	cuts, fails := 0, 0
	rapid.Check(t, func(t *rapid.T) {
		spec, keys := kv.Store, []string{"x", "y"}
		if rapid.Bool().Draw(t, "register") {
			spec, keys = kv.Register, []string{""}
		}
		h := genHistory(t, keys, rapid.IntRange(1, 40).Draw(t, "ops"), rapid.Bool().Draw(t, "corrupt"))
		want, _, _ := JudgeHistory(spec, h, 10*time.Second)
		min := rapid.IntRange(1, 4).Draw(t, "window")
		got, msg, _, n := JudgeWindowed(spec, h, 10*time.Second, min)
		if got != want {
			t.Fatalf("windowed (at least %d operations, %d cuts): %v %s; the whole history: %v", min, n, got, msg, want)
		}
		cuts += n
		if got == Fail {
			fails++
		}
	})
	if cuts == 0 || fails == 0 {
		t.Errorf("the histories drawn were cut %d times and failed %d times: the property tested nothing", cuts, fails)
	}
}

// A history is kept whole until it grows past the monitor's threshold (wholeMax), and the
// windows of its keys are made only then, from what was kept: wherever the threshold falls
// in the history, the verdict is the whole history's.
func TestWindowsMadeAtTheThreshold(t *testing.T) {
	cuts := 0
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, []string{"x", "y"}, rapid.IntRange(1, 40).Draw(t, "ops"), rapid.Bool().Draw(t, "corrupt"))
		want, _, _ := JudgeHistory(kv.Store, h, 10*time.Second)
		whole := rapid.IntRange(0, len(h)).Draw(t, "whole")
		ws := newWindows(kv.Store, 10*time.Second, whole, rapid.IntRange(1, 4).Draw(t, "window"))
		for _, op := range h {
			ws.add(op)
		}
		ws.finish()
		if ws.outcome != want {
			t.Fatalf("kept whole for %d operations, then windowed (%d cuts): %v; the whole history: %v", whole, ws.cuts, ws.outcome, want)
		}
		cuts += max(ws.cuts, 0)
	})
	if cuts == 0 {
		t.Error("no history was cut: the property tested nothing")
	}
}

// A long linearizable history is judged in many windows and passes; one stale read in its
// middle fails it, with the property's message and an explanation.
func TestWindowedLongHistory(t *testing.T) {
	var h []node.Op
	for i := range 3000 {
		at := i * 10
		key := []string{"a", "b", "c"}[i%3]
		h = append(h, put(1+i%2, key, i, at, at+4), get(3, key, i, true, at+5, at+9))
	}
	o, msg, _, cuts := JudgeWindowed(kv.Store, h, 10*time.Second, 64)
	if o != Pass || cuts < 10 {
		t.Fatalf("verdict %v (%s) with %d cuts, want a pass in many windows", o, msg, cuts)
	}
	bad := slices.Clone(h)
	bad[3001] = get(3, "b", -5, true, 15005, 15009) // a read of a value never written
	o, msg, details, cuts := JudgeWindowed(kv.Store, bad, 10*time.Second, 64)
	if o != Fail || cuts == 0 || !strings.Contains(msg, "not linearizable as a kv") || len(details) == 0 {
		t.Fatalf("verdict %v with %d cuts: %s %v", o, cuts, msg, details)
	}
	if want, _, _ := JudgeHistory(kv.Store, bad, 10*time.Second); want != Fail {
		t.Fatalf("the whole history's verdict is %v", want)
	}
}

// A write of unknown outcome carried across many cuts may take effect long after its call,
// once, and not twice.
func TestWindowedUnknownWriteTakesEffectLate(t *testing.T) {
	h := []node.Op{put(9, "", 1, 0, -1)}
	for i := range 200 {
		at := 10 + i*10
		h = append(h, get(1, "", 0, false, at, at+5))
	}
	late := append(slices.Clone(h), get(1, "", 1, true, 3000, 3005), get(1, "", 1, true, 3010, 3015))
	if o, msg, _, cuts := JudgeWindowed(kv.Register, late, 10*time.Second, 8); o != Pass || cuts == 0 {
		t.Fatalf("the late write: %v (%s), %d cuts", o, msg, cuts)
	}
	twice := append(slices.Clone(h), get(1, "", 1, true, 3000, 3005), put(2, "", 2, 3010, 3015), get(1, "", 1, true, 3020, 3025))
	if o, _, _, _ := JudgeWindowed(kv.Register, twice, 10*time.Second, 8); o != Fail {
		t.Fatalf("a write of unknown outcome took effect twice: %v", o)
	}
}
