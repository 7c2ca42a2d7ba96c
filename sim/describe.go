package sim

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Describe formats a node's state for people, like fmt's %+v but following pointers instead
// of printing their addresses and listing map entries in sorted order, so that a report reads
// the same on every run. It stops after about limit bytes.
func Describe(v any, limit int) string {
	var b strings.Builder
	describe(&b, reflect.ValueOf(v), limit, 0)
	if b.Len() > limit {
		return b.String()[:limit] + "..."
	}
	return b.String()
}

func describe(b *strings.Builder, v reflect.Value, limit, depth int) {
	if b.Len() > limit {
		return
	}
	if !v.IsValid() {
		b.WriteString("<nil>")
		return
	}
	if depth > 20 {
		b.WriteString("...")
		return
	}
	if v.CanInterface() {
		if s, ok := v.Interface().(fmt.Stringer); ok && v.Kind() != reflect.Pointer {
			b.WriteString(s.String())
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if v.Kind() == reflect.Pointer {
			b.WriteString("&")
		}
		describe(b, v.Elem(), limit, depth+1)
	case reflect.Struct:
		b.WriteString("{")
		for i, first := 0, true; i < v.NumField(); i++ {
			if v.Type().Field(i).Type == configType {
				continue // the cluster's configuration, the same for every node: noise here
			}
			if !first {
				b.WriteString(" ")
			}
			first = false
			b.WriteString(v.Type().Field(i).Name)
			b.WriteString(":")
			describe(b, v.Field(i), limit, depth+1)
		}
		b.WriteString("}")
	case reflect.Slice, reflect.Array:
		b.WriteString("[")
		for i := 0; i < v.Len() && b.Len() <= limit; i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			describe(b, v.Index(i), limit, depth+1)
		}
		b.WriteString("]")
	case reflect.Map:
		type entry struct{ k, v string }
		var es []entry
		for it := v.MapRange(); it.Next(); {
			var k, e strings.Builder
			describe(&k, it.Key(), limit, depth+1)
			describe(&e, it.Value(), limit, depth+1)
			es = append(es, entry{k.String(), e.String()})
		}
		sort.Slice(es, func(i, j int) bool { return es[i].k < es[j].k })
		b.WriteString("map[")
		for i, e := range es {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(e.k + ":" + e.v)
		}
		b.WriteString("]")
	case reflect.String:
		fmt.Fprintf(b, "%q", v.String())
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		b.WriteString(v.Type().String())
	default:
		fmt.Fprint(b, valueOf(v))
	}
}

// valueOf reads a basic value, also from unexported fields.
func valueOf(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Complex64, reflect.Complex128:
		return v.Complex()
	}
	return v.Kind().String()
}
