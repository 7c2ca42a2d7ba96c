package sim

import (
	"strings"
	"testing"
)

// Memo's cache answers as its map does: for a key made once and asked for again, for the same
// key spelled by another string, for keys that share a cache entry, and for a key not kept.
func TestMemoCache(t *testing.T) {
	w := newWorld(toyConfig(Profile{}), NewSeeded(1), false)
	if v := w.Memo("absent", nil); v != nil {
		t.Fatalf("a look for a key never kept: %v", v)
	}
	if v := w.Memo("absent", nil); v != nil {
		t.Fatalf("a second look for a key never kept: %v", v)
	}
	// Many keys, more than the cache has entries, so that some share one.
	keys := make([]string, 4*memoCacheSize)
	for i := range keys {
		keys[i] = strings.Repeat("k", i+1)
		i := i
		if got := w.Memo(keys[i], func() any { return i }); got != i {
			t.Fatalf("key %d made %v", i, got)
		}
	}
	for round := range 3 {
		for i, k := range keys {
			if got := w.Memo(k, func() any { return -1 }); got != i {
				t.Fatalf("round %d: key %d gave %v", round, i, got)
			}
			other := strings.Clone(k) // the same key in other bytes
			if got := w.Memo(other, nil); got != i {
				t.Fatalf("round %d: key %d spelled anew gave %v", round, i, got)
			}
		}
	}
}
