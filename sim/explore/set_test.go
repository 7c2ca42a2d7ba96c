package explore

import (
	"sync"
	"testing"
)

func TestFPSetInsert(t *testing.T) {
	tests := []struct {
		name string
		fps  []uint64
		want int64 // distinct fingerprints
	}{
		{"empty", nil, 0},
		{"one", []uint64{7}, 1},
		{"duplicates", []uint64{7, 7, 9, 7, 9}, 2},
		{"zero is a fingerprint too", []uint64{0, 0, 1}, 2},
		{"same home slot", []uint64{1 << 63, 1<<63 | 1, 1<<63 | 2}, 3},
		{"max", []uint64{^uint64(0), ^uint64(0) - 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFPSet(1)
			defer s.free()
			seen := map[uint64]bool{}
			for _, fp := range tt.fps {
				if got := s.add(fp); got != !seen[fp] {
					t.Errorf("add(%#x) = %t, want %t", fp, got, !seen[fp])
				}
				seen[fp] = true
			}
			if s.len() != tt.want {
				t.Errorf("len = %d, want %d", s.len(), tt.want)
			}
			for fp := range seen {
				if !s.contains(fp) {
					t.Errorf("contains(%#x) = false after add", fp)
				}
			}
		})
	}
}

func TestFPSetGrows(t *testing.T) {
	s := newFPSet(1)
	defer s.free()
	const n = 100_000
	for i := range uint64(n) {
		s.add(i * 0x9e3779b97f4a7c15) // distinct: the multiplier is odd
	}
	if s.len() != n {
		t.Fatalf("len = %d, want %d", s.len(), n)
	}
	if load := float64(n) / float64(len(s.slots)); load > float64(maxLoadNum)/maxLoadDen {
		t.Errorf("load %.2f above the maximum", load)
	}
	for i := range uint64(n) {
		if !s.contains(i * 0x9e3779b97f4a7c15) {
			t.Fatalf("lost fingerprint %d after growing", i)
		}
	}
	if s.contains(12345) {
		t.Errorf("contains a fingerprint never added")
	}
}

// Workers inserting overlapping batches at once, growing the table as they go, must agree
// on exactly one winner per fingerprint.
func TestFPSetConcurrent(t *testing.T) {
	s := newFPSet(4)
	defer s.free()
	const workers, n = 4, 50_000
	won := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			batch := make([]uint64, 0, batchLen)
			for i := range n {
				batch = append(batch, uint64((i*7+w)%n)+1) // every worker covers 1..n
				if len(batch) == cap(batch) || i == n-1 {
					s.reserve(len(batch))
					s.touch(batch)
					in := 0
					for _, fp := range batch {
						if s.insert(fp) {
							in++
						}
					}
					s.release(len(batch), in)
					won[w] += in
					batch = batch[:0]
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, x := range won {
		total += x
	}
	if total != n || s.len() != n {
		t.Errorf("%d insertions won, len %d; want %d each", total, s.len(), n)
	}
}
