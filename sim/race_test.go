package sim

import (
	"sync"
	"testing"
)

type raceA struct {
	B    []raceB
	Next *raceA
}

type raceB struct {
	M map[string][]int
	A *raceA
}

// TestCompileConcurrently: campaign workers hash and clone values of types seen for the first
// time at once; each must get a complete function (run with -race to check the locking).
func TestCompileConcurrently(t *testing.T) {
	v := raceA{B: []raceB{{M: map[string][]int{"x": {1}}, A: &raceA{}}}, Next: &raceA{}}
	var wg sync.WaitGroup
	hashes := make([]uint64, 8)
	for i := range hashes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hashes[i] = HashOf(Clone(v))
		}()
	}
	wg.Wait()
	for _, h := range hashes {
		if h != hashes[0] {
			t.Fatal("concurrent first uses of a type hash differently")
		}
	}
}
