package sim

import (
	"reflect"
	"sync"
	"unsafe"
)

// Clone returns a deep copy of v: slices, maps and pointed-to values are copied, so that the
// copy shares no memory with v. Values without such references are returned as they are, at
// no cost. The simulator clones what crosses a node's boundary (sent messages, stored values)
// so that a protocol that keeps mutating its own state cannot change a message in flight or
// its durable storage behind the simulator's back; the explorer clones the state of the node
// that steps.
//
// The cluster's node.Config is shared, not copied: it is the same, unchanged, for a whole run.
//
// A value that is not plain (one holding a function, a channel or a cycle of references)
// panics with a *ValueError that names its type and the field path to the trouble.
func Clone[T any](v T) T {
	fix := infoOf(reflect.TypeOf(&v).Elem()).fix
	if fix != nil {
		defer guardCopy(v)
		fix(unsafe.Pointer(&v), 0) // v is already a shallow copy: deepen it in place
	}
	return v
}

// cloneAny is Clone for dynamically typed values.
func cloneAny(v any) any {
	if v == nil {
		return nil
	}
	info := homeInfo(typeWord(&v)) // most often; infoOfWord finds the others
	if info == nil {
		info = infoOfWord(typeWord(&v), v)
	}
	fix := info.fix
	if fix == nil {
		return v
	}
	return cloneDeep(v, info)
}

// cloneDeep is cloneAny for a value that holds references.
func cloneDeep(v any, info *typeInfo) any {
	fix := info.fix
	defer guardCopy(v)
	t := reflect.TypeOf(v)
	if info.direct { // the interface's data word is the value itself (a pointer, say)
		c := v
		fix(efaceData(&c, t), 0)
		return c
	}
	c := reflect.New(t)
	c.Elem().Set(reflect.ValueOf(v))
	data := c.UnsafePointer()
	fix(data, 0)
	// The copy is boxed by hand: the interface takes v's type and points at the copy, where
	// Value.Interface would allocate and copy it once more.
	var out any
	words := (*[2]unsafe.Pointer)(unsafe.Pointer(&out))
	words[0], words[1] = (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0], data
	return out
}

// guardCopy names the value a copy failed on, for the error to say where.
func guardCopy(v any) {
	if r := recover(); r != nil {
		if np, ok := r.(notPlain); ok && np.root == nil {
			np.op, np.root = "copy", v
			r = np.explain()
		}
		panic(r)
	}
}

// fixFunc deepens, in place, a shallow copy of a value at p, depth references below the value
// handed over: every slice, map and pointer it holds is replaced by a copy. Types without
// references have no fixFunc (nil).
type fixFunc func(p unsafe.Pointer, depth int)

// deeper counts one more reference followed, and takes too many for a cycle.
func deeper(depth int) int {
	if depth >= maxDepth {
		panic(notPlain{what: "a cycle"})
	}
	return depth + 1
}

// fixers compiles deepening functions; it is set up in init because compiled functions use
// it for the dynamic types of interfaces.
var fixers *compiler[fixFunc]

func init() {
	fixers = &compiler[fixFunc]{
		compile: compileFix,
		forward: func(f *fixFunc) fixFunc { return func(p unsafe.Pointer, d int) { (*f)(p, d) } },
	}
}

// fixerFor returns the compiled fixFunc of t, nil when values of t share no memory.
func fixerFor(t reflect.Type) fixFunc { return fixers.of(t) }

func compileFix(c *compilation[fixFunc], t reflect.Type) fixFunc {
	if !hasRefs(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		type field struct {
			off uintptr
			fix fixFunc
		}
		var fields []field
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if fix := c.get(sf.Type); fix != nil && sf.Type != configType {
				fields = append(fields, field{sf.Offset, fix})
			}
		}
		return func(p unsafe.Pointer, d int) {
			for _, f := range fields {
				f.fix(unsafe.Add(p, f.off), d)
			}
		}
	case reflect.Array:
		fix, size, n := c.get(t.Elem()), t.Elem().Size(), t.Len()
		return func(p unsafe.Pointer, d int) {
			for i := 0; i < n; i++ {
				fix(unsafe.Add(p, uintptr(i)*size), d)
			}
		}
	case reflect.Slice:
		fix, size := c.get(t.Elem()), t.Elem().Size()
		return func(p unsafe.Pointer, d int) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			d = deeper(d)
			c := reflect.MakeSlice(t, v.Len(), v.Len())
			reflect.Copy(c, v)
			if fix != nil {
				data := c.UnsafePointer()
				for i := 0; i < v.Len(); i++ {
					fix(unsafe.Add(data, uintptr(i)*size), d)
				}
			}
			v.Set(c)
		}
	case reflect.Map:
		kfix, vfix := c.get(t.Key()), c.get(t.Elem())
		return func(p unsafe.Pointer, d int) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			d = deeper(d)
			c := reflect.MakeMapWithSize(t, v.Len())
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for it := v.MapRange(); it.Next(); {
				k.SetIterKey(it)
				e.SetIterValue(it)
				if kfix != nil {
					kfix(k.Addr().UnsafePointer(), d)
				}
				if vfix != nil {
					vfix(e.Addr().UnsafePointer(), d)
				}
				c.SetMapIndex(k, e)
			}
			v.Set(c)
		}
	case reflect.Pointer:
		elem := t.Elem()
		fix := c.get(elem)
		return func(p unsafe.Pointer, d int) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				return
			}
			d = deeper(d)
			c := reflect.New(elem)
			c.Elem().Set(reflect.NewAt(elem, q).Elem())
			if fix != nil {
				fix(c.UnsafePointer(), d)
			}
			reflect.NewAt(t, p).Elem().Set(c)
		}
	case reflect.Interface:
		return func(p unsafe.Pointer, d int) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			// A value boxed in an interface is never changed in place, so one without
			// references may be shared; one with references is copied and deepened.
			dyn := v.Elem()
			fix := infoOf(dyn.Type()).fix
			if fix == nil {
				return
			}
			d = deeper(d)
			c := reflect.New(dyn.Type())
			c.Elem().Set(dyn)
			fix(c.UnsafePointer(), d)
			v.Set(c.Elem())
		}
	}
	// Functions, channels and unsafe pointers have no value to copy: sharing one would let
	// a copy reach the original's memory. A nil one is harmless.
	what := "a " + t.Kind().String()
	return func(p unsafe.Pointer, d int) {
		if *(*unsafe.Pointer)(p) != nil {
			panic(notPlain{what: what})
		}
	}
}

// refsCache remembers, per type, whether values of it can share memory.
var refsCache sync.Map // reflect.Type -> bool

func hasRefs(t reflect.Type) bool {
	if r, ok := refsCache.Load(t); ok {
		return r.(bool)
	}
	r := computeRefs(t, map[reflect.Type]bool{})
	refsCache.Store(t, r)
	return r
}

func computeRefs(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true // a recursive type must go through a pointer, slice or map
	}
	seen[t] = true
	defer delete(seen, t) // seen is the path from the root: siblings of one type are not a cycle
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return computeRefs(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).Type != configType && computeRefs(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}
