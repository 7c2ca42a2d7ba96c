package explore

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// fpSet is the visited set: an open-addressing hash set of 64-bit fingerprints with linear
// probing, safe for concurrent inserts, that grows by doubling.
//
// A slot holds a fingerprint or 0 for "empty", so fingerprint 0 itself is kept in a flag of
// its own. A fingerprint's home slot is given by the top bits of fp·φ (Fibonacci hashing):
// one multiplication spreads even a poor fingerprint, and because the home slot grows with
// the hash, the table is nearly sorted by it, so that doubling walks the old table and the
// new one front to back instead of jumping about.
//
// Inserts take the read side of mu and claim a slot with compare-and-swap, so workers insert
// side by side; growing takes the write side. Before a batch, a worker reserves room for the
// whole batch (reserve), so that the load never passes maxLoad while inserts are under way.
type fpSet struct {
	mu       sync.RWMutex
	slots    []uint64
	shift    uint         // 64 - log2(len(slots))
	reserved atomic.Int64 // fingerprints held plus room promised to batches under way
	hasZero  atomic.Bool
	workers  int // goroutines that move fingerprints when the table grows
}

// maxLoadNum/maxLoadDen is the fill ratio at which the table doubles. Linear probing stays
// at a couple of probes per lookup up to about 3/4; beyond that clusters grow fast.
const (
	maxLoadNum = 3
	maxLoadDen = 4
	fibonacci  = 0x9e3779b97f4a7c15 // 2^64/φ, odd
)

func newFPSet(workers int) *fpSet {
	const n = 1 << 10
	return &fpSet{slots: allocSlots(n), shift: 64 - 10, workers: max(workers, 1)}
}

// len returns the number of fingerprints held, once no batch is under way.
func (t *fpSet) len() int64 { return t.reserved.Load() }

// bytes returns the memory the table occupies.
func (t *fpSet) bytes() int64 { return int64(len(t.slots)) * 8 }

// growthBytes returns the memory a doubling of the table takes on top of the table now, if
// n more fingerprints would make it grow; else 0. It is an estimate, for the memory budget.
func (t *fpSet) growthBytes(n int) int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	size := int64(len(t.slots))
	if t.reserved.Load()+int64(n) <= size*maxLoadNum/maxLoadDen {
		return 0
	}
	return 2 * size * 8
}

// reserve promises room for n more fingerprints and returns with the read lock held; the
// caller inserts at most n, then calls release with the number actually inserted.
func (t *fpSet) reserve(n int) {
	for {
		t.mu.RLock()
		if t.reserved.Add(int64(n)) <= int64(len(t.slots))*maxLoadNum/maxLoadDen {
			return
		}
		t.reserved.Add(int64(-n))
		t.mu.RUnlock()
		t.grow(n)
	}
}

func (t *fpSet) release(promised, inserted int) {
	t.reserved.Add(int64(inserted - promised))
	t.mu.RUnlock()
}

// grow doubles the table until n more fingerprints fit, unless another worker did already.
func (t *fpSet) grow(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	need := t.reserved.Load() + int64(n)
	size := len(t.slots)
	for int64(size)*maxLoadNum/maxLoadDen < need {
		size <<= 1
	}
	if size == len(t.slots) {
		return
	}
	old := t.slots
	t.slots = allocSlots(size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	// Each goroutine moves a contiguous part of the old table, front to back, into the
	// matching part of the new one (see the type's comment), so they rarely meet.
	part := (len(old) + t.workers - 1) / t.workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(old); lo += part {
		wg.Go(func() {
			for _, fp := range old[lo:min(lo+part, len(old))] {
				if fp != 0 {
					t.insert(fp)
				}
			}
		})
	}
	wg.Wait()
	freeSlots(old)
}

func (t *fpSet) home(fp uint64) uint64 { return (fp * fibonacci) >> t.shift }

// touch reads the home slot of each fingerprint and discards the result. The reads do not
// depend on one another, so the processor has many cache misses in flight at once; the
// inserts that follow then find their slots in cache. This is the portable form of a
// prefetch; with a table far larger than the cache it takes about a quarter off the time of
// a single worker (TwoPhase, N = 10).
func (t *fpSet) touch(fps []uint64) uint64 {
	var sum uint64
	slots := t.slots
	for _, fp := range fps {
		sum += slots[t.home(fp)]
	}
	return sum
}

// insert adds fp and reports whether it was new. The caller holds a reservation.
func (t *fpSet) insert(fp uint64) bool {
	if fp == 0 {
		return t.hasZero.CompareAndSwap(false, true)
	}
	slots := t.slots
	mask := uint64(len(slots) - 1)
	for i := t.home(fp); ; i = (i + 1) & mask {
		v := atomic.LoadUint64(&slots[i])
		for v == 0 {
			if atomic.CompareAndSwapUint64(&slots[i], 0, fp) {
				return true
			}
			v = atomic.LoadUint64(&slots[i]) // another worker took the slot first
		}
		if v == fp {
			return false
		}
	}
}

// add inserts fp and reports whether it was new, growing the table as needed. It is for
// searches that run on one goroutine, which need no reservation: nothing else inserts.
func (t *fpSet) add(fp uint64) bool {
	if t.reserved.Load() >= int64(len(t.slots))*maxLoadNum/maxLoadDen {
		t.grow(1)
	}
	if !t.insert(fp) {
		return false
	}
	t.reserved.Add(1)
	return true
}

// contains reports whether fp is held; for tests and single-threaded callers.
func (t *fpSet) contains(fp uint64) bool {
	if fp == 0 {
		return t.hasZero.Load()
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.home(fp); t.slots[i] != 0; i = (i + 1) & mask {
		if t.slots[i] == fp {
			return true
		}
	}
	return false
}

// has reports whether fp is held; safe beside inserts under reservations (see probe.go).
func (t *fpSet) has(fp uint64) bool {
	if fp == 0 {
		return t.hasZero.Load()
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	slots := t.slots
	mask := uint64(len(slots) - 1)
	for i := t.home(fp); ; i = (i + 1) & mask {
		switch atomic.LoadUint64(&slots[i]) {
		case 0:
			return false
		case fp:
			return true
		}
	}
}

// put adds fp, as add does, from any goroutine.
func (t *fpSet) put(fp uint64) {
	t.reserve(1)
	inserted := 0
	if t.insert(fp) {
		inserted = 1
	}
	t.release(1, inserted)
}

// free returns the table's memory.
func (t *fpSet) free() {
	freeSlots(t.slots)
	t.slots = nil
}
