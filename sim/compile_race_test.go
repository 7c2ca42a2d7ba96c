package sim

import (
	"reflect"
	"sync"
	"testing"
)

// Many goroutines hashing and cloning types none of them has met before, at once: the first
// use of a type compiles its hash and copy functions while other campaign workers may already
// want them.
func TestConcurrentFirstUseOfTypes(t *testing.T) {
	type inner struct{ A, B int }
	type recursive struct {
		V    int
		Next []recursive
	}
	values := []any{
		struct{ X, Y inner }{}, struct{ L []inner }{L: []inner{{1, 2}}},
		recursive{V: 1, Next: []recursive{{V: 2}}}, map[string]inner{"k": {3, 4}},
		struct {
			P *inner
			S string
		}{&inner{5, 6}, "s"},
	}
	for round := 0; round < 300; round++ {
		// Fresh types each round: arrays of a new length wrap the values.
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, v := range values {
					at := reflect.New(reflect.ArrayOf(round+2, reflect.TypeOf(v))).Elem()
					at.Index(0).Set(reflect.ValueOf(v))
					HashOf(at.Interface())
					cloneAny(at.Interface())
				}
			}()
		}
		wg.Wait()
	}
}
