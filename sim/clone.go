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
// its durable storage behind the simulator's back.
func Clone[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	if !hasRefs(rv.Type()) {
		return v
	}
	out := reflect.New(rv.Type()).Elem()
	deepCopy(out, rv) // rv is addressable: it is the local variable v
	return out.Interface().(T)
}

// cloneAny is Clone for dynamically typed values.
func cloneAny(v any) any {
	if v == nil {
		return nil
	}
	t := reflect.TypeOf(v)
	if !hasRefs(t) {
		return v
	}
	out := reflect.New(t).Elem()
	deepCopy(out, addressable(reflect.ValueOf(v)))
	return out.Interface()
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
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
		return true
	case reflect.Array:
		return computeRefs(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if computeRefs(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if hasRefs(src.Type().Elem()) {
			for i := 0; i < src.Len(); i++ {
				deepCopy(s.Index(i), src.Index(i))
			}
		} else {
			reflect.Copy(s, src)
		}
		dst.Set(s)
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			deepCopy(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(src.Type().Key()).Elem()
			deepCopy(k, addressable(it.Key()))
			e := reflect.New(src.Type().Elem()).Elem()
			deepCopy(e, addressable(it.Value()))
			m.SetMapIndex(k, e)
		}
		dst.Set(m)
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		deepCopy(e, addressable(src.Elem()))
		dst.Set(e)
	case reflect.Struct:
		if !hasRefs(src.Type()) {
			dst.Set(src)
			return
		}
		for i := 0; i < src.NumField(); i++ {
			// Unexported fields are read and written through aliases at their addresses:
			// a protocol's state is mostly unexported, and must be copied whole.
			deepCopy(settable(dst.Field(i)), settable(src.Field(i)))
		}
	default:
		dst.Set(src)
	}
}

// addressable returns v itself if it is addressable, else an addressable copy of it.
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// settable returns an alias of the addressable value v that reflection lets us read and
// write even when v is an unexported field.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}
