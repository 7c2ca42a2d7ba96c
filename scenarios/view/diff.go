package view

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// Change is one field of a node's state that a step changed: where it is (".acc.Promised",
// "log[4]", "peers[n2]") and its value before and after, as sim.Describe writes values. A
// value that did not exist (an element appended, a map entry deleted) is "-".
type Change struct {
	Path   string `json:"p"`
	Before string `json:"b"`
	After  string `json:"a"`
}

// Limits on a diff, so that a step that rewrites a whole log stays readable.
const (
	maxChanges  = 40
	changeWidth = 300 // bytes of a value before it is cut
)

// diffStates compares two states of a node field by field (go-cmp, reading unexported fields
// too) and returns what changed, at most maxChanges of it, and how many changes it left out.
// A field of a type with its own String method counts as one value, described by it. A state
// that go-cmp cannot walk yields no changes and ok false.
func diffStates(before, after any) (changes []Change, more int, ok bool) {
	r := &reporter{}
	defer func() {
		if recover() != nil {
			changes, more, ok = nil, 0, false
		}
	}()
	cmp.Equal(before, after, cmp.Reporter(r), cmp.Exporter(func(reflect.Type) bool { return true }),
		cmp.FilterPath(ignored, cmp.Ignore()))
	if len(r.changes) > maxChanges {
		return r.changes[:maxChanges], len(r.changes) - maxChanges, true
	}
	return r.changes, 0, true
}

var configType = reflect.TypeFor[node.Config]()

// ignored leaves out what has no value to compare (functions, channels) and the cluster's
// configuration, the same for every node all run long.
func ignored(p cmp.Path) bool {
	t := p.Last().Type()
	if t == nil {
		return false
	}
	return t.Kind() == reflect.Func || t.Kind() == reflect.Chan || t == configType
}

// reporter collects the differences go-cmp finds.
type reporter struct {
	path    cmp.Path
	changes []Change
}

func (r *reporter) PushStep(ps cmp.PathStep) { r.path = append(r.path, ps) }
func (r *reporter) PopStep()                 { r.path = r.path[:len(r.path)-1] }

func (r *reporter) Report(rs cmp.Result) {
	if rs.Equal() {
		return
	}
	// Report a value of a type with its own String method as a whole: the outermost such
	// value on the path, below the state itself.
	at := len(r.path) - 1
	for i := 1; i < len(r.path)-1; i++ {
		if !inside(r.path[:i+1]) {
			continue // the state itself: its own String summarizes it, the diff shows its fields
		}
		if describedByString(r.path[i].Type()) {
			at = i
			break
		}
	}
	c := Change{Path: pathString(r.path[:at+1])}
	if n := len(r.changes); n > 0 && r.changes[n-1].Path == c.Path {
		return // the same String-described value, reached through another of its fields
	}
	x, y := r.path[at].Values()
	c.Before, c.After = describeValue(x), describeValue(y)
	if c.Before == c.After {
		return // a nil and an empty slice, say: no difference to a reader
	}
	r.changes = append(r.changes, c)
}

var stringerType = reflect.TypeFor[fmt.Stringer]()

func describedByString(t reflect.Type) bool {
	return t != nil && t.Kind() != reflect.Interface && (t.Implements(stringerType) || reflect.PointerTo(t).Implements(stringerType))
}

// pathString writes a path as a reader knows it: fields, indexes and map keys, without the
// pointers and interfaces passed through.
func pathString(p cmp.Path) string {
	var b strings.Builder
	for _, s := range p[1:] {
		switch s := s.(type) {
		case cmp.StructField:
			b.WriteString("." + s.Name())
		case cmp.SliceIndex:
			k, ky := s.SplitKeys()
			if k < 0 {
				k = ky
			}
			fmt.Fprintf(&b, "[%d]", k)
		case cmp.MapIndex:
			b.WriteString("[" + describeValue(s.Key()) + "]")
		}
	}
	if b.Len() == 0 {
		return "(the whole state)"
	}
	return strings.TrimPrefix(b.String(), ".")
}

// describeValue describes a value go-cmp hands over, "-" where there is none.
func describeValue(v reflect.Value) string {
	if !v.IsValid() {
		return "-"
	}
	if !v.CanInterface() {
		return v.Kind().String()
	}
	return sim.Describe(v.Interface(), changeWidth)
}

// diffLines compares two descriptions line by line, for states that go-cmp cannot walk (their
// pointers loop): each line that changed, by its number.
func diffLines(before, after string) (changes []Change, more int) {
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := range max(len(a), len(b)) {
		x, y := "-", "-"
		if i < len(b) {
			x = strings.TrimSpace(b[i])
		}
		if i < len(a) {
			y = strings.TrimSpace(a[i])
		}
		if x != y {
			changes = append(changes, Change{Path: fmt.Sprintf("line %d", i+1), Before: x, After: y})
		}
	}
	if len(changes) > maxChanges {
		return changes[:maxChanges], len(changes) - maxChanges
	}
	return changes, 0
}

// cyclic reports whether v's pointers loop back to a value that holds them, which a copy or a
// hash would follow for ever. Types that cannot hold themselves are known not to, at no cost.
func cyclic(v any) bool {
	if v == nil || !recursive(reflect.TypeOf(v), map[reflect.Type]bool{}) {
		return false
	}
	return loops(reflect.ValueOf(v), map[uintptr]bool{}, 0)
}

// recursive reports whether a value of type t can hold a value of its own type.
func recursive(t reflect.Type, path map[reflect.Type]bool) bool {
	if path[t] {
		return true
	}
	path[t] = true
	defer delete(path, t)
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return recursive(t.Elem(), path)
	case reflect.Map:
		return recursive(t.Key(), path) || recursive(t.Elem(), path)
	case reflect.Interface:
		return true // it may hold anything
	case reflect.Struct:
		for i := range t.NumField() {
			if recursive(t.Field(i).Type, path) {
				return true
			}
		}
	}
	return false
}

// loops walks v, keeping the pointers on the current path.
func loops(v reflect.Value, path map[uintptr]bool, depth int) bool {
	if depth > 10_000 {
		return true // deep enough to be treated as endless
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Map:
		if v.IsNil() {
			return false
		}
		p := v.Pointer()
		if path[p] {
			return true
		}
		path[p] = true
		defer delete(path, p)
		if v.Kind() == reflect.Pointer {
			return loops(v.Elem(), path, depth+1)
		}
		for it := v.MapRange(); it.Next(); {
			if loops(it.Key(), path, depth+1) || loops(it.Value(), path, depth+1) {
				return true
			}
		}
	case reflect.Interface:
		return !v.IsNil() && loops(v.Elem(), path, depth+1)
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if loops(v.Index(i), path, depth+1) {
				return true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if loops(v.Field(i), path, depth+1) {
				return true
			}
		}
	}
	return false
}

// inside reports whether a path has gone into the state, past the pointers and interfaces
// that hold it.
func inside(p cmp.Path) bool {
	for _, s := range p[1:] {
		switch s.(type) {
		case cmp.StructField, cmp.SliceIndex, cmp.MapIndex:
			return true
		}
	}
	return false
}
