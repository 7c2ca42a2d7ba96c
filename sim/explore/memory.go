package explore

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica-io/replica/internal/machine"
)

// peakMemory returns the process's peak resident memory in bytes: VmHWM from
// /proc/self/status where there is one (Linux), which counts the visited set mapped outside
// the Go heap too; elsewhere the memory the Go runtime holds from the system now.
func peakMemory() int64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return machine.RuntimeMemory()
}

// A memoryBudget stops a search before the process outgrows Options.MaxMemory. The search
// asks it between units of work (a block of a breadth-first level, a few thousand
// depth-first states); it reads the resident memory, adds what the visited set is about to
// take when it next doubles (the old and the new table live side by side while it grows),
// and says stop once that passes the budget. Before it says so, it lets the garbage collector
// return what it can to the system (at most every few seconds: a collection of a heap this
// size is not free), so that garbage does not end a search that still fits.
type memoryBudget struct {
	limit    int64 // bytes; 0: none
	over     atomic.Bool
	mu       sync.Mutex
	lastFree time.Time
}

// freeEvery is the least time between two forced collections.
const freeEvery = 5 * time.Second

// exceeded reports whether the search must stop: the process holds, or is about to take
// with the set's next doubling, more than the budget. It is safe to call from any worker.
func (b *memoryBudget) exceeded(set *fpSet, pending int) bool {
	if b == nil || b.limit <= 0 {
		return false
	}
	if b.over.Load() {
		return true
	}
	if b.need(set, pending) <= b.limit {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.lastFree) >= freeEvery {
		debug.FreeOSMemory()
		b.lastFree = time.Now()
		if b.need(set, pending) <= b.limit {
			return false
		}
	}
	b.over.Store(true)
	return true
}

// release returns the garbage of a stopped search to the system and clears the verdict.
func (b *memoryBudget) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	debug.FreeOSMemory()
	b.lastFree = time.Now()
	b.over.Store(false)
}

// need is the memory the process holds now plus what the set takes if it grows to make
// room for pending more fingerprints.
func (b *memoryBudget) need(set *fpSet, pending int) int64 {
	now, withSet := machine.Resident()
	if !withSet && set != nil {
		now += set.bytes()
	}
	if set != nil {
		now += set.growthBytes(pending)
	}
	return now
}

// SafeMemory is a default for Options.MaxMemory: machine.SafeMemory, a safe share of the
// memory this process may use.
func SafeMemory() int64 { return machine.SafeMemory() }
