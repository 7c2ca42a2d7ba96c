package sim

import (
	"reflect"
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

type inner struct {
	A int
	b []string
}

type outer struct {
	M   map[string]int
	In  inner
	P   *inner
	Any any
}

func TestHashIgnoresMapOrderAndAddresses(t *testing.T) {
	a := outer{M: map[string]int{}, In: inner{1, []string{"x"}}, P: &inner{2, nil}, Any: node.Envelope{Path: "p", Msg: 3}}
	b := outer{M: map[string]int{}, In: inner{1, []string{"x"}}, P: &inner{2, nil}, Any: node.Envelope{Path: "p", Msg: 3}}
	for i := 0; i < 100; i++ { // insert in opposite orders
		a.M[string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	for i := 99; i >= 0; i-- {
		b.M[string(rune('a'+i%26))+string(rune('a'+i/26))] = i
	}
	if HashOf(a) != HashOf(b) {
		t.Fatal("equal values hash differently")
	}
}

func TestHashTellsValuesApart(t *testing.T) {
	values := []any{
		nil, 0, 1, -1, "", "a", "ab", []string{"a", "b"}, []string{"ab"}, []string{"a", "", "b"},
		inner{1, nil}, inner{1, []string{""}}, inner{2, nil}, // nil and empty slices are alike on purpose int32(1), uint(1), true, false, 1.5,
		map[int]int{1: 2}, map[int]int{2: 1}, map[int]int{1: 2, 2: 1}, [2]int{1, 2}, [2]int{2, 1},
		node.Envelope{Path: "a", Msg: 1}, node.Envelope{Path: "b", Msg: 1}, &inner{1, nil},
	}
	seen := map[uint64]int{}
	for i, v := range values {
		h := HashOf(v)
		if j, dup := seen[h]; dup {
			t.Errorf("values %d (%#v) and %d (%#v) hash alike", i, v, j, values[j])
		}
		seen[h] = i
	}
}

func TestCloneSharesNothing(t *testing.T) {
	orig := outer{M: map[string]int{"k": 1}, In: inner{1, []string{"x"}}, P: &inner{2, []string{"y"}}, Any: []int{1}}
	c := Clone(orig)
	if HashOf(c) != HashOf(orig) {
		t.Fatal("a clone differs from its original")
	}
	c.M["k"] = 2
	c.In.b[0] = "changed"
	c.P.b[0] = "changed"
	c.Any.([]int)[0] = 9
	if orig.M["k"] != 1 || orig.In.b[0] != "x" || orig.P.b[0] != "y" || orig.Any.([]int)[0] != 1 {
		t.Errorf("changing the clone changed the original: %+v %+v", orig, *orig.P)
	}
	if got := cloneAny(orig.In); HashOf(got) != HashOf(orig.In) {
		t.Error("cloneAny of a struct with unexported fields lost them")
	}
}

// cloneAny copies every shape of dynamic value: those an interface holds in its data word (a
// pointer, a map, a struct of one pointer) and those it points to (structs, slices).
func TestCloneAnyEveryShape(t *testing.T) {
	type onePtr struct{ P *inner }
	p := &inner{1, []string{"x"}}
	m := map[string][]int{"k": {1}}
	o := onePtr{&inner{1, []string{"x"}}}
	big := outer{M: map[string]int{"k": 1}, In: inner{1, []string{"x"}}}
	sl := []inner{{1, []string{"x"}}}
	cases := []struct {
		name   string
		v      any
		change func(c any) // changes what the copy refers to
		intact func() bool // the original is as it was
	}{
		{"pointer", p, func(c any) { c.(*inner).b[0] = "changed"; c.(*inner).A = 9 },
			func() bool { return p.b[0] == "x" && p.A == 1 }},
		{"map", m, func(c any) { c.(map[string][]int)["k"][0] = 2; c.(map[string][]int)["new"] = nil },
			func() bool { return m["k"][0] == 1 && len(m) == 1 }},
		{"struct of one pointer", o, func(c any) { c.(onePtr).P.b[0] = "changed" },
			func() bool { return o.P.b[0] == "x" }},
		{"struct", big, func(c any) { c.(outer).M["k"] = 2; c.(outer).In.b[0] = "changed" },
			func() bool { return big.M["k"] == 1 && big.In.b[0] == "x" }},
		{"slice", sl, func(c any) { c.([]inner)[0].b[0] = "changed"; c.([]inner)[0].A = 9 },
			func() bool { return sl[0].b[0] == "x" && sl[0].A == 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := cloneAny(c.v)
			if reflect.TypeOf(got) != reflect.TypeOf(c.v) || HashOf(got) != HashOf(c.v) {
				t.Fatalf("cloneAny(%#v) = %#v: not the same value", c.v, got)
			}
			c.change(got)
			if !c.intact() {
				t.Errorf("changing the copy changed the original %#v", c.v)
			}
		})
	}
}

func BenchmarkHashMessage(b *testing.B) {
	m := struct {
		Term, Index int
		Entries     []inner
	}{3, 7, []inner{{1, nil}, {2, nil}}}
	for b.Loop() {
		HashOf(m)
	}
}

func TestDescribeFollowsPointersAndSortsMaps(t *testing.T) {
	v := &outer{M: map[string]int{"b": 2, "a": 1}, In: inner{1, []string{"x"}}, P: &inner{2, nil}, Any: 7}
	got := Describe(v, 1000)
	want := `outer{M:map["a":1 "b":2] In:{A:1 b:["x"]} P:{A:2 b:[]} Any:7}`
	if got != want {
		t.Errorf("Describe = %s, want %s", got, want)
	}
	if Describe(v, 10) != got[:10]+"..." {
		t.Errorf("Describe does not stop at its limit: %s", Describe(v, 10))
	}
}

// The table that finds a type's compiled functions by an interface's type word grows as a
// process meets types, and finds each one it was given, whatever the order.
func TestTypeInfoByWord(t *testing.T) {
	type a struct{ X int }
	type b struct{ Y string }
	values := []any{1, "s", 2.5, a{1}, b{"b"}, []int{1}, map[string]int{"k": 1}, &a{2}, [2]byte{}, uint8(3), int16(4), true}
	for _, v := range values {
		if got, want := infoOfWord(typeWord(&v), v), infoOf(reflect.TypeOf(v)); got != want {
			t.Fatalf("%T: the table's info %p, reflect's %p", v, got, want)
		}
	}
	for range 2 { // again, now that all are in the table
		for _, v := range values {
			if got, want := infoOfWord(typeWord(&v), v), infoOf(reflect.TypeOf(v)); got != want {
				t.Fatalf("%T: the table's info %p, reflect's %p", v, got, want)
			}
		}
	}
	if tb := byWord.Load(); 2*tb.n > len(tb.slots) {
		t.Fatalf("the table holds %d types in %d slots: more than half full", tb.n, len(tb.slots))
	}
}

type flatInner struct {
	A int8
	B uint16
	C float32
	D bool
}

type flatOuter struct {
	N   node.ID
	In  flatInner
	Arr [3]flatInner
	Cx  complex128
	C64 complex64
	Cfg node.Config // left out of hashes
	U   uintptr
	E   struct{}
}

// The flat path (a list of scalars hashed in one loop) adds the same words as the compiled
// functions, which the hash of a value under the identity permutation still goes through.
func TestFlatHashIsTheCompiledHash(t *testing.T) {
	values := []any{
		flatInner{A: -3, B: 65535, C: 1.5, D: true},
		flatOuter{N: 2, In: flatInner{A: 1}, Arr: [3]flatInner{{A: -1}, {B: 7}, {C: -2, D: true}}, Cx: 1 + 2i, C64: -3i, U: 9},
		[4]int32{-1, 2, -3, 4}, struct{}{}, [0]int{}, int8(-1), uint16(3), 2.5, node.ID(3), true,
		struct { // every scalar of 8 bytes
			A int
			B node.ID
			C [2]uint64
		}{-7, 2, [2]uint64{1, 1 << 63}},
	}
	ident := []node.ID{0, 1, 2, 3, 4}
	for _, v := range values {
		if !infoOf(reflect.TypeOf(v)).flatOK {
			t.Errorf("%T is not taken for flat", v)
		}
		if a, b := HashOf(v), hashRenamed(v, ident); a != b {
			t.Errorf("%T %+v: flat hash %x, compiled %x", v, v, a, b)
		}
	}
	for _, v := range []any{"s", []int{1}, inner{}, &flatInner{}, map[int]int{}, struct{ X any }{1}} {
		if infoOf(reflect.TypeOf(v)).flatOK {
			t.Errorf("%T is taken for flat", v)
		}
	}
}
