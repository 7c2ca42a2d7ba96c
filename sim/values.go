package sim

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/replica-io/replica/protocols/node"
)

// ValueError is the trouble with a value that the simulator must hash or copy (a node state, a
// message, a stored value, an output) and cannot, because it is not a plain value: it holds a
// function, a channel, or a cycle of references. A Go stack overflow cannot be recovered, so a
// cycle is caught by counting the references followed, and then found by a walk of the value
// that names the field path to it.
type ValueError struct {
	Op   string // "hash" or "copy"
	Type string // the type of the value handed over
	Path string // the field path to the trouble, from that value, such as ".peers[2].next"
	What string // "a func", "a chan", "a cycle"
	// Source names where the value came from when it is neither a node state nor a message
	// (say "the value Protocol.Abstract returned"), for the error to point there.
	Source string
}

func (e *ValueError) Error() string {
	where := "it"
	if e.Path != "" {
		where = "its field " + e.Path
	}
	what := "is " + e.What
	if e.What == "a cycle" {
		what = "leads back to a value that holds it (a cycle)"
	}
	if e.Source != "" {
		return fmt.Sprintf("cannot %s %s, a %s: %s %s; it must be a plain value, without funcs, channels or cycles",
			e.Op, e.Source, e.Type, where, what)
	}
	return fmt.Sprintf("cannot %s a %s: %s %s; node states and messages must be plain values, without funcs, channels or cycles",
		e.Op, e.Type, where, what)
}

// hashFrom hashes v, which came from source (see ValueError.Source): a value that is not
// plain is reported as coming from there.
func hashFrom(source string, v any) uint64 {
	defer func() {
		if r := recover(); r != nil {
			if np, ok := r.(notPlain); ok {
				e := np.explain()
				e.Source = source
				panic(e)
			}
			panic(r)
		}
	}()
	return HashOf(v)
}

// notPlain is the panic value of the compiled functions that meet a value they cannot hash or
// copy. It knows the value handed over (root), and explain finds where in it the trouble is.
// The hot paths stay free of deferred calls: the walk that names the field runs only on
// failure.
type notPlain struct {
	what string
	op   string
	root any
}

func (np notPlain) Error() string { return np.explain().Error() }

// explain walks the value handed over and says where it is not plain.
func (np notPlain) explain() *ValueError {
	e := &ValueError{Op: np.op, Type: fmt.Sprintf("%T", np.root), What: np.what}
	if np.root == nil {
		return e
	}
	if path, what, found := trouble(reflect.ValueOf(np.root), "", map[visit]bool{}, 0); found {
		e.Path, e.What = path, what
	}
	return e
}

// visit is a reference on the walk's current path: its address and type.
type visit struct {
	ptr uintptr
	t   reflect.Type
}

// trouble walks v depth first and returns the path to the first func, chan or cycle in it.
func trouble(v reflect.Value, path string, onPath map[visit]bool, depth int) (string, string, bool) {
	if depth > maxDepth {
		return path, "a cycle", true
	}
	enter := func() (bool, func()) {
		k := visit{v.Pointer(), v.Type()}
		if onPath[k] {
			return true, nil
		}
		onPath[k] = true
		return false, func() { delete(onPath, k) }
	}
	switch v.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		if !v.IsNil() {
			return path, "a " + v.Kind().String(), true
		}
	case reflect.Pointer:
		if v.IsNil() {
			return "", "", false
		}
		cycle, leave := enter()
		if cycle {
			return path, "a cycle", true
		}
		defer leave()
		return trouble(v.Elem(), path, onPath, depth+1)
	case reflect.Interface:
		if !v.IsNil() {
			return trouble(v.Elem(), path, onPath, depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Type == configType {
				continue
			}
			if p, w, ok := trouble(v.Field(i), path+"."+v.Type().Field(i).Name, onPath, depth); ok {
				return p, w, true
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p, w, ok := trouble(v.Index(i), fmt.Sprintf("%s[%d]", path, i), onPath, depth); ok {
				return p, w, true
			}
		}
	case reflect.Slice:
		if v.IsNil() || v.Len() == 0 {
			return "", "", false
		}
		cycle, leave := enter()
		if cycle {
			return path, "a cycle", true
		}
		defer leave()
		for i := 0; i < v.Len(); i++ {
			if p, w, ok := trouble(v.Index(i), fmt.Sprintf("%s[%d]", path, i), onPath, depth+1); ok {
				return p, w, true
			}
		}
	case reflect.Map:
		if v.IsNil() {
			return "", "", false
		}
		cycle, leave := enter()
		if cycle {
			return path, "a cycle", true
		}
		defer leave()
		keys := v.MapKeys()
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = describeKey(k)
		}
		order := make([]int, len(keys))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return names[order[a]] < names[order[b]] })
		for _, i := range order {
			if p, w, ok := trouble(v.MapIndex(keys[i]), path+"["+names[i]+"]", onPath, depth+1); ok {
				return p, w, true
			}
		}
	}
	return "", "", false
}

// describeKey formats a map key for a field path.
func describeKey(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return fmt.Sprintf("%q", k.String())
	}
	var b strings.Builder
	describe(&b, k, 60, 0)
	return b.String()
}

// mustBePlain panics with a not-plain value error if the node state n is not a plain value.
// The untimed world copies and hashes every state it stores, and so refuses one that holds a
// func or a chan; the timed world keeps a node's state as it is. Checking it when a node
// boots (and restarts) makes both worlds refuse the same protocols at the same point, rather
// than a campaign passing what explore refuses. The walk is skipped for states whose type
// holds no reference at all (hasRefs, the copier's own test, which the type's info keeps: its
// fix is nil), which cannot hold such a value.
func mustBePlain(n node.Node) {
	if b, ok := n.(*byzNode); ok {
		// The adversary's wrapper is the simulator's; the nodes it runs are the protocol's.
		for _, t := range b.twins {
			mustBePlain(t)
		}
		return
	}
	if v := any(n); v != nil && infoOfWord(typeWord(&v), v).fix != nil { // fix is nil exactly when !hasRefs
		HashOf(v) // its pooled hasher: a hasher of its own escapes, an allocation per boot
	}
}
