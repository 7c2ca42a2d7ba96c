package sim

import (
	"testing"
	"unsafe"

	"github.com/replica-io/replica/protocols/node"
)

// The check of a booted node's state (mustBePlain) must refuse exactly what hashing the state
// refuses, with the same complaint: it walks only the references, the hash every field.
func TestPlainWalkAgreesWithHash(t *testing.T) {
	type link struct {
		Next *link
		V    int
	}
	type holder struct {
		Cfg  node.Config
		N    int
		Reqs []node.Request
		M    map[string]any
		P    *int
		F    func()
		C    chan int
		A    [2]any
		U    unsafe.Pointer
		Deep [][]int
	}
	cyc := &link{V: 1}
	cyc.Next = cyc
	long := &link{}
	for range maxDepth + 10 {
		long = &link{Next: long}
	}
	x := 3
	values := map[string]any{
		"empty":            &holder{},
		"requests":         &holder{Reqs: []node.Request{{Op: 1}, {Op: "x"}}},
		"request with fn":  &holder{Reqs: []node.Request{{Op: func() {}}}},
		"map":              &holder{M: map[string]any{"a": 1, "b": []int{2}}},
		"map with chan":    &holder{M: map[string]any{"a": make(chan int)}},
		"pointer":          &holder{P: &x},
		"func":             &holder{F: func() {}},
		"chan":             &holder{C: make(chan int)},
		"array with func":  &holder{A: [2]any{1, func() {}}},
		"unsafe":           &holder{U: unsafe.Pointer(&x)},
		"deep slices":      &holder{Deep: [][]int{{1}, {2, 3}}},
		"cycle":            cyc,
		"flat":             link{V: 2},
		"iface to cycle":   &holder{A: [2]any{cyc, nil}},
		"map of funcs nil": map[int]func(){1: nil},
		"map of funcs":     map[int]func(){1: func() {}},
		"chan key":         map[chan int]int{make(chan int): 1},
	}
	// A list longer than maxDepth is taken for a cycle by both (its explanation, a walk that
	// spells the path to its end, takes too long for a test).
	for _, n := range []node.Node{plainNode{long}, &plainNode{long}} {
		hashed := catchWhat(func() { HashOf(n) })
		var k stepCore
		if checked := catchWhat(func() { k.mustBePlain(n) }); hashed != checked || checked != "a cycle" {
			t.Errorf("a long list (%T): hashing says %q, the boot check %q", n, hashed, checked)
		}
	}
	for name, v := range values {
		for _, n := range []node.Node{plainNode{v}, &plainNode{v}} {
			hashed := catch(func() { HashOf(n) })
			var k stepCore
			checked := catch(func() { k.mustBePlain(n) })
			if hashed != checked {
				t.Errorf("%s (%T): hashing says %q, the boot check %q", name, n, hashed, checked)
			}
			if name == "empty" && checked != "" {
				t.Errorf("%s: refused: %s", name, checked)
			}
		}
	}
}

// plainNode is a node whose state is v, for mustBePlain, which is given node states.
type plainNode struct{ v any }

func (plainNode) Start(node.Env)                          {}
func (plainNode) Receive(node.Env, node.ID, node.Message) {}
func (plainNode) Timer(node.Env, string)                  {}
func (plainNode) Request(node.Env, node.Request)          {}

// catch returns the complaint of f's notPlain panic, "" when it does not panic.
func catch(f func()) (what string) {
	defer func() {
		if r := recover(); r != nil {
			np, ok := r.(notPlain)
			if !ok {
				panic(r)
			}
			what = np.what + " " + np.explain().Error()
		}
	}()
	f()
	return ""
}

// catchWhat returns what f's notPlain panic complains of, "" when it does not panic.
func catchWhat(f func()) (what string) {
	defer func() {
		if r := recover(); r != nil {
			np, ok := r.(notPlain)
			if !ok {
				panic(r)
			}
			what = np.what
		}
	}()
	f()
	return ""
}
