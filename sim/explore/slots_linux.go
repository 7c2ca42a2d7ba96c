package explore

import (
	"syscall"
	"unsafe"
)

// allocSlots returns n zeroed slots in memory mapped straight from the kernel rather than
// from the Go heap. The visited set is the explorer's one big allocation: mapping it lets a
// growing set hand the old table back at once (the garbage collector would keep it until its
// next cycle, which for a heap this size is the difference between 1.5 and 3 times the
// table in peak memory), and asking for huge pages saves the page walk that a random probe
// into a gigabyte otherwise pays.
func allocSlots(n int) []uint64 {
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]uint64, n) // the heap works too, only less thriftily
	}
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) // a hint; without it the pages are small
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
}

// freeSlots returns slots from allocSlots to the kernel. Slots from the heap (the fallback)
// are left to the garbage collector: unmapping them would fail harmlessly, but we check.
func freeSlots(s []uint64) {
	if len(s) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*8)
	_ = syscall.Munmap(b) // EINVAL for heap memory, which the collector then frees
}
