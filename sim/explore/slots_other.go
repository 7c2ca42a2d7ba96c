//go:build !linux

package explore

// allocSlots returns n zeroed slots; see slots_linux.go for why Linux maps them directly.
func allocSlots(n int) []uint64 { return make([]uint64, n) }

// freeSlots leaves the slots to the garbage collector.
func freeSlots([]uint64) {}
