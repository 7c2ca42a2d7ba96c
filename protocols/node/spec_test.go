package node_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

// The operations of a sum type, as idiomatic Go writes them: an interface with a method of
// its own, and the types that implement it.
type kvOp interface{ isKVOp() }
type put struct{ K, V string }
type get struct{ K string }

func (put) isKVOp() {}
func (get) isKVOp() {}

// CheckTypes takes a spec's operation and answer types as the spec's functions do: exactly,
// or, for an interface type, any value that implements it (and nil, its zero value).
func TestCheckTypesTakesInterfaceTypedSpecs(t *testing.T) {
	ints := node.Sequential[int, int, int]{Name: "ints", Init: func() int { return 0 },
		Step: func(s, in int) (int, int) { return s + in, s + in }}.Spec()
	anys := node.Sequential[int, any, any]{Name: "anys", Init: func() int { return 0 },
		Step: func(s int, in any) (int, any) { return s, in }}.Spec()
	kv := node.Sequential[map[string]string, kvOp, any]{Name: "kv", Init: func() map[string]string { return nil },
		Step: func(s map[string]string, in kvOp) (map[string]string, any) { return s, nil }}.Spec()
	for _, tt := range []struct {
		spec    *node.Spec
		in, out any
		ok      bool
	}{
		{ints, 1, 2, true},
		{ints, 1, nil, true}, // an unknown outcome
		{ints, "1", 2, false},
		{ints, nil, 2, false},
		{ints, 1, "2", false},
		{anys, 1, "anything", true},
		{anys, nil, nil, true},
		{kv, put{"k", "v"}, nil, true},
		{kv, get{"k"}, "v", true},
		{kv, "put k v", nil, false}, // not a kvOp
	} {
		if err := tt.spec.CheckTypes(tt.in, tt.out); (err == nil) != tt.ok {
			t.Errorf("%s.CheckTypes(%#v, %#v) = %v, want ok %v", tt.spec.Name, tt.in, tt.out, err, tt.ok)
		}
	}
	// And the spec's functions take nil for an interface type, as its zero value.
	if _, out := anys.Step(0, nil); out != nil {
		t.Errorf("anys.Step(0, nil) answered %v", out)
	}
}

// Same, without an Equal, is reflect.DeepEqual: its shortcut for integers, booleans and
// strings of one type gives DeepEqual's answer, and other values (floats, of two types,
// nil, with references) still go to DeepEqual.
func TestSameIsDeepEqual(t *testing.T) {
	type value int
	nan := math.NaN()
	vals := []any{nil, 0, 1, value(1), int64(1), uint8(1), true, false, "a", "b", 1.0, nan, []int{1}, []int{1},
		put{"k", "v"}, put{"k", "v"}, &get{"k"}, &get{"k"}, map[string]int{"a": 1}}
	var sp node.Spec
	for _, a := range vals {
		for _, b := range vals {
			if got, want := sp.Same(a, b), reflect.DeepEqual(a, b); got != want {
				t.Errorf("Same(%#v, %#v) = %v, DeepEqual says %v", a, b, got, want)
			}
		}
	}
}
