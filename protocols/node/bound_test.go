package node

import (
	"errors"
	"fmt"
	"testing"
)

// A bound property is called with the very world its own Check or Reached makes for itself,
// at the root and below it, in worlds with memos and without, step after step as outputs come;
// so it reaches the same verdicts. A property Compose did not lift, and one whose Check was
// replaced after Compose, are called as they stand, with the world itself.
func TestBoundPropertiesSeeTheirOwnView(t *testing.T) {
	var seen []World // the worlds the components' properties were handed, in order
	var outs []string
	judge := func(w World) error {
		seen = append(seen, w)
		outs = append(outs, fmt.Sprint(len(w.Outputs()), len(w.NewOutputs())))
		if len(w.Outputs()) >= 3 {
			return errors.New("three outputs")
		}
		return nil
	}
	mod := &Module{Name: "m", New: func(Config, ID) Node { return nil },
		Invariants: []Invariant{{Name: "inv", Check: judge}},
		Sometimes:  []Sometimes{{Name: "some", Reached: func(w World) bool { return judge(w) != nil }}},
	}
	var own []World
	p := Compose(&Protocol{Name: "t", DefaultN: 1, MinN: 1,
		Invariants: []Invariant{{Name: "whole", Check: func(w World) error { own = append(own, w); return nil }}}},
		Part{Module: mod}, Part{Path: "sub", Module: mod})
	if len(p.Invariants) != 3 || len(p.Sometimes) != 2 {
		t.Fatalf("%d invariants, %d sometimes-properties", len(p.Invariants), len(p.Sometimes))
	}
	steps := []Output{{Node: 1, Value: 1}, {Node: 1, Path: "sub", Value: 2}, {Node: 1, Value: AtPath{Path: "sub", Value: 3}},
		{Node: 1, Value: 4}, {Node: 1, Path: "sub", Value: 5}, {Node: 1, Value: 6}}
	for _, memo := range []bool{false, true} {
		// The same run twice, once through the properties and once bound.
		var verdicts [2][]string
		var views [2][]World
		for pass := range 2 {
			base := &outputsWorld{}
			var w World = base
			if memo {
				base.memos = map[string]any{}
				w = &memoOutputsWorld{outputsWorld: *base}
			}
			var b Bound
			b.Bind(p, w)
			seen, outs = nil, nil
			for _, o := range steps {
				switch x := w.(type) {
				case *outputsWorld:
					x.outs = append(x.outs, o)
				case *memoOutputsWorld:
					x.outs = append(x.outs, o)
				}
				for i := range p.Invariants {
					var err error
					if pass == 0 {
						err = p.Invariants[i].Check(w)
					} else {
						err = b.Check(i)
					}
					verdicts[pass] = append(verdicts[pass], fmt.Sprint(err))
				}
				for i := range p.Sometimes {
					var r bool
					if pass == 0 {
						r = p.Sometimes[i].Reached(w)
					} else {
						r = b.Reached(i)
					}
					verdicts[pass] = append(verdicts[pass], fmt.Sprint(r))
				}
			}
			verdicts[pass] = append(verdicts[pass], outs...)
			views[pass] = seen
			if len(own) == 0 || own[len(own)-1] != w {
				t.Errorf("memo %v pass %d: the protocol's own invariant did not get the world itself", memo, pass)
			}
		}
		if fmt.Sprint(verdicts[0]) != fmt.Sprint(verdicts[1]) {
			t.Errorf("memo %v: verdicts\n%v\nbound\n%v", memo, verdicts[0], verdicts[1])
		}
		if len(views[0]) != len(views[1]) {
			t.Fatalf("memo %v: %d views, bound %d", memo, len(views[0]), len(views[1]))
		}
		for i := range views[0] {
			if memo && views[0][i] != views[1][i] {
				// With memos, the view is the memo's own object in both passes (each pass its own world).
				if fmt.Sprintf("%T", views[0][i]) != fmt.Sprintf("%T", views[1][i]) {
					t.Errorf("memo: view %d is a %T, bound a %T", i, views[0][i], views[1][i])
				}
			}
		}
	}

	// Within one world with memos, the bound view and the property's own are one object.
	w := &memoOutputsWorld{outputsWorld{outs: steps[:1], memos: map[string]any{}}}
	var b Bound
	b.Bind(p, w)
	seen = nil
	p.Invariants[1].Check(w)
	b.Check(1)
	if len(seen) != 2 || seen[0] != seen[1] {
		t.Errorf("the bound view is not the property's own: %v", seen)
	}

	// A Check replaced after Compose is the one called.
	q := *p
	q.Invariants = append([]Invariant(nil), p.Invariants...)
	replaced := false
	q.Invariants[1].Check = func(World) error { replaced = true; return errors.New("replaced") }
	b.Bind(&q, w)
	if err := b.Check(1); err == nil || !replaced {
		t.Errorf("a replaced Check was not called: %v", err)
	}
}
