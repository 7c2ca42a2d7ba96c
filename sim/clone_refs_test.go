package sim

import (
	"reflect"
	"testing"
)

// A struct whose fields repeat a type (two ints, two structs of one type) holds no references,
// and copies as a whole.
func TestHasRefsRepeatedFieldTypes(t *testing.T) {
	type pair struct{ A, B int }
	type twoPairs struct {
		P, Q pair
		S    string
	}
	type withSlice struct {
		A int
		L []pair
	}
	for _, c := range []struct {
		v    any
		want bool
	}{
		{pair{}, false},
		{twoPairs{}, false},
		{[3]pair{}, false},
		{withSlice{}, true},
		{map[int]int{}, true},
	} {
		if got := hasRefs(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("hasRefs(%T) = %v, want %v", c.v, got, c.want)
		}
	}
}
