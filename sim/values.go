package sim

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unsafe"

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
// than a campaign passing what explore refuses. The check panics exactly where hashing the
// state would (see plainFunc), but looks only at what may hold a reference: a fresh Paxos
// node's walk is a look at one empty slice, where its hash was a tenth of the boot's cost.
func (k *stepCore) mustBePlain(n node.Node) {
	if b, ok := n.(*byzNode); ok {
		// The adversary's wrapper is the simulator's; the nodes it runs are the protocol's.
		for _, t := range b.twins {
			k.mustBePlain(t)
		}
		return
	}
	v := any(n)
	if v == nil {
		return
	}
	info := infoOfWord(typeWord(&v), v)
	if info.plain == nil {
		return // nothing in it can be other than plain
	}
	w := &k.walk // the stepCore's own: a walk of the call's own would escape, an allocation per boot
	*w = plainWalk{root: v}
	data := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1] // the value itself, or a pointer to it (see directIface)
	if info.direct {
		w.word = data
		data = unsafe.Pointer(&w.word)
	}
	info.plain(w, data)
	*w = plainWalk{}
}

// plainFunc checks the value of a fixed type stored at p: it panics with notPlain wherever the
// type's compiled hash function (compileKind) would, at a func, a chan or an unsafe pointer
// that is not nil, or more references deep than maxDepth (a cycle), counting references
// where the hash counts them. It visits only what can hold one of those; a type with nothing
// of the kind has a nil plainFunc.
type plainFunc func(w *plainWalk, p unsafe.Pointer)

// plainWalk is a check in progress: how deep it is, the value checked (for the error to
// name), and the data word of that value when it is pointer-shaped (see Hasher.word).
type plainWalk struct {
	depth int
	root  any
	word  unsafe.Pointer
}

// enter counts a reference followed, as Hasher.enter does.
func (w *plainWalk) enter() {
	w.depth++
	if w.depth > maxDepth {
		panic(notPlain{what: "a cycle", op: "hash", root: w.root})
	}
}

// plainers compiles plainFuncs; it is set up in init because compiled functions use it for
// the dynamic types of interfaces.
var plainers *compiler[plainFunc]

func init() {
	plainers = &compiler[plainFunc]{
		compile: compilePlain,
		forward: func(f *plainFunc) plainFunc { return func(w *plainWalk, p unsafe.Pointer) { (*f)(w, p) } },
	}
}

// plainerFor returns the plainFunc of t, nil when no value of t can be other than plain.
func plainerFor(t reflect.Type) plainFunc { return plainers.of(t) }

// compilePlain compiles the check of t, case by case as compileKind compiles its hash.
func compilePlain(c *compilation[plainFunc], t reflect.Type) plainFunc {
	if !hasRefs(t) {
		return nil // numbers, strings, and structs and arrays of them
	}
	switch t.Kind() {
	case reflect.Struct:
		type field struct {
			off   uintptr
			check plainFunc
		}
		var fields []field
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if sf.Type == configType {
				continue // left out of hashes
			}
			if check := c.get(sf.Type); check != nil {
				fields = append(fields, field{sf.Offset, check})
			}
		}
		if len(fields) == 0 {
			return nil
		}
		return func(w *plainWalk, p unsafe.Pointer) {
			for _, f := range fields {
				f.check(w, unsafe.Add(p, f.off))
			}
		}
	case reflect.Array:
		elem, size, n := c.get(t.Elem()), t.Elem().Size(), t.Len()
		if elem == nil {
			return nil
		}
		return func(w *plainWalk, p unsafe.Pointer) {
			for i := 0; i < n; i++ {
				elem(w, unsafe.Add(p, uintptr(i)*size))
			}
		}
	case reflect.Slice:
		if !hasRefs(t.Elem()) {
			return nil // hashed without counting a reference
		}
		elem, size := c.get(t.Elem()), t.Elem().Size()
		return func(w *plainWalk, p unsafe.Pointer) {
			data, n := *(*unsafe.Pointer)(p), *(*int)(unsafe.Add(p, ptrSize))
			w.enter()
			if elem != nil {
				for i := 0; i < n; i++ {
					elem(w, unsafe.Add(data, uintptr(i)*size))
				}
			}
			w.depth--
		}
	case reflect.Map:
		key, elem := c.get(t.Key()), c.get(t.Elem())
		return func(w *plainWalk, p unsafe.Pointer) {
			w.enter()
			if key != nil || elem != nil {
				m := reflect.NewAt(t, p).Elem()
				k := reflect.New(t.Key()).Elem()
				v := reflect.New(t.Elem()).Elem()
				for it := m.MapRange(); it.Next(); {
					if key != nil {
						k.SetIterKey(it)
						key(w, k.Addr().UnsafePointer())
					}
					if elem != nil {
						v.SetIterValue(it)
						elem(w, v.Addr().UnsafePointer())
					}
				}
			}
			w.depth--
		}
	case reflect.Pointer:
		elem := c.get(t.Elem())
		return func(w *plainWalk, p unsafe.Pointer) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				return
			}
			w.enter()
			if elem != nil {
				elem(w, q)
			}
			w.depth--
		}
	case reflect.Interface:
		return func(w *plainWalk, p unsafe.Pointer) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			dt := v.Elem().Type()
			i := infoOf(dt)
			w.enter()
			if i.plain != nil {
				i.plain(w, ifaceData(p, dt))
			}
			w.depth--
		}
	}
	// Functions, channels and unsafe pointers: a nil one is harmless.
	what := "a " + t.Kind().String()
	return func(w *plainWalk, p unsafe.Pointer) {
		if *(*unsafe.Pointer)(p) != nil {
			panic(notPlain{what: what, op: "hash", root: w.root})
		}
	}
}
