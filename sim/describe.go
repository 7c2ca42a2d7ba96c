package sim

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"unsafe"
)

// Describe formats a value (a node's state, a message) for people: a structured value with
// field names, like fmt's %+v, but following pointers instead of printing their addresses,
// listing map entries in sorted order, and using a type's own String (or Error) method
// wherever it has one, unexported fields included. A report therefore reads the same on every
// run, and a protocol decides how its own types read. It stops after about limit bytes.
func Describe(v any, limit int) string {
	var b strings.Builder
	describe(&b, addressable(reflect.ValueOf(v)), limit, 0)
	if b.Len() > limit {
		return b.String()[:limit] + "..."
	}
	return b.String()
}

// DescribeIndented formats v as Describe does, over several lines for a value too long for
// one: each field, element or map entry that does not fit on a line of width gets a line of
// its own, indented by its depth. It is how the page of `replica view` shows node states.
func DescribeIndented(v any, width, limit int) string {
	var b strings.Builder
	indented(&b, addressable(reflect.ValueOf(v)), width, limit, 0, 0)
	if b.Len() > limit {
		return b.String()[:limit] + "..."
	}
	return b.String()
}

// DescribeFields is DescribeIndented showing v by its fields even where its type has its own
// String method (its parts still use theirs): the page of `replica view` shows a node's state
// this way beside the protocol's own summary of it.
func DescribeFields(v any, width, limit int) string {
	var b strings.Builder
	r := addressable(reflect.ValueOf(v))
	for r.IsValid() && (r.Kind() == reflect.Pointer || r.Kind() == reflect.Interface) && !r.IsNil() {
		r = r.Elem()
	}
	if r.Kind() != reflect.Struct {
		return DescribeIndented(v, width, limit)
	}
	fields(&b, r, width, limit, 0, 1)
	if b.Len() > limit {
		return b.String()[:limit] + "..."
	}
	return b.String()
}

// addressable returns v, or an addressable copy of it, so that the String methods of its
// unexported fields can be reached (see readable).
func addressable(v reflect.Value) reflect.Value {
	if !v.IsValid() || v.CanAddr() || !v.CanInterface() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

// readable returns v made readable as an interface when it was reached through an unexported
// field: the value is only read, to be described.
func readable(v reflect.Value) (reflect.Value, bool) {
	if v.CanInterface() {
		return v, true
	}
	if v.CanAddr() {
		return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem(), true
	}
	return v, false
}

var (
	stringerType = reflect.TypeFor[fmt.Stringer]()
	errorType    = reflect.TypeFor[error]()
)

// stringOf returns the text of v's own String or Error method, if it has one (on a value or,
// where v is addressable, on a pointer receiver). A method that panics (a nil receiver it did
// not expect, say) counts as none.
func stringOf(v reflect.Value) (s string, ok bool) {
	if !v.IsValid() || (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return "", false
	}
	r, ok := readable(v)
	if !ok {
		return "", false
	}
	var m reflect.Value
	switch {
	case r.Type().Implements(errorType):
		m = r.MethodByName("Error")
	case r.Type().Implements(stringerType):
		m = r.MethodByName("String")
	case r.Kind() != reflect.Pointer && r.CanAddr() && r.Addr().Type().Implements(stringerType):
		m = r.Addr().MethodByName("String")
	default:
		return "", false
	}
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	return m.Call(nil)[0].String(), true
}

func describe(b *strings.Builder, v reflect.Value, limit, depth int) {
	if b.Len() > limit {
		return
	}
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	if depth > 20 {
		b.WriteString("...")
		return
	}
	if s, ok := stringOf(v); ok {
		b.WriteString(s)
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		describe(b, v.Elem(), limit, depth+1)
	case reflect.Struct:
		b.WriteString(typeName(v.Type(), depth))
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
		b.WriteString("map[")
		for i, e := range mapEntries(v, limit, depth) {
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

// typeName is the name a struct is shown with: at the top (a node's state, a message) its
// type's name without the package, and nothing deeper down, where field names say enough.
func typeName(t reflect.Type, depth int) string {
	if depth > 1 { // depth 1: the value a top-level pointer or interface holds
		return ""
	}
	// A generic type's name spells its type arguments with their import paths
	// (Node[github.com/x/paxos.Value]): keep the package names only (Node[paxos.Value]).
	return importPaths.ReplaceAllString(t.Name(), "")
}

// importPaths matches the directories of an import path, up to the package's own name.
var importPaths = regexp.MustCompile(`(?:[\w.~-]+/)+`)

type mapEntry struct{ k, v string }

// mapEntries describes a map's entries, in sorted order.
func mapEntries(v reflect.Value, limit, depth int) []mapEntry {
	var es []mapEntry
	if r, ok := readable(v); ok { // entries of a readable map are readable, and their String methods too
		v = r
	}
	for it := v.MapRange(); it.Next(); {
		var k, e strings.Builder
		describe(&k, addressable(it.Key()), limit, depth+1)
		describe(&e, addressable(it.Value()), limit, depth+1)
		es = append(es, mapEntry{k.String(), e.String()})
	}
	sort.Slice(es, func(i, j int) bool { return es[i].k < es[j].k })
	return es
}

// indented writes v on one line if it fits in width, else its parts each on lines of their
// own, one level deeper. depth counts the values v is nested in, as for describe.
func indented(b *strings.Builder, v reflect.Value, width, limit, level, depth int) {
	var line strings.Builder
	describe(&line, v, limit, depth)
	one := line.String()
	if len(one)+2*level <= width || b.Len() > limit {
		b.WriteString(one)
		return
	}
	if _, ok := stringOf(v); ok {
		b.WriteString(one)
		return
	}
	pad := "\n" + strings.Repeat("  ", level+1)
	end := "\n" + strings.Repeat("  ", level)
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		indented(b, v.Elem(), width, limit, level, depth+1)
	case reflect.Struct:
		fields(b, v, width, limit, level, depth)
	case reflect.Slice, reflect.Array:
		b.WriteString("[")
		for i := 0; i < v.Len() && b.Len() <= limit; i++ {
			b.WriteString(pad)
			indented(b, v.Index(i), width, limit, level+1, depth+1)
		}
		b.WriteString(end + "]")
	case reflect.Map:
		b.WriteString("map[")
		for _, e := range mapEntries(v, limit, depth) {
			b.WriteString(pad + e.k + ": " + e.v)
		}
		b.WriteString(end + "]")
	default:
		b.WriteString(one)
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

// fields writes a struct field by field, each on a line of its own.
func fields(b *strings.Builder, v reflect.Value, width, limit, level, depth int) {
	pad := "\n" + strings.Repeat("  ", level+1)
	b.WriteString(typeName(v.Type(), depth) + "{")
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Type == configType {
			continue
		}
		b.WriteString(pad + v.Type().Field(i).Name + ": ")
		indented(b, v.Field(i), width, limit, level+1, depth+1)
	}
	b.WriteString("\n" + strings.Repeat("  ", level) + "}")
}
