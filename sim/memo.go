package sim

import "unsafe"

// Memo returns what a property keeps under key for the run, made by init the first time it is
// asked for. Properties (node.Invariant) are functions of the world called after every step;
// one that judges each new output against all that came before (was another entry applied at
// this index?) keeps its index of the past here, rather than rescanning every output of the
// run at every step. The value lives as long as the run, and no longer. With a nil init, Memo
// only looks: it returns nil where nothing is kept under key yet.
//
// Properties find Memo through an interface assertion on node.World, and fall back to
// scanning where the world does not offer it (the explorer's states, a test's cluster).
func (w *World) Memo(key string, init func() any) any {
	c := &w.memoCache[memoSlot(key)]
	if c.v != nil && len(c.key) == len(key) && (unsafe.StringData(c.key) == unsafe.StringData(key) || c.key == key) {
		return c.v // the same string as last time most often: compared by where its bytes are, without a call
	}
	if w.memo == nil {
		w.memo = map[string]any{}
	}
	v, ok := w.memo[key]
	if !ok && init != nil {
		v = init()
		w.memo[key] = v
	}
	if v != nil {
		c.key, c.v = key, v
	}
	return v
}

// memoCached is one entry of the world's cache in front of its memos. Several properties ask
// for their memos after every step, most under keys made once (node.Scope's), and hashing a
// key of thirty bytes into the map cost a calm Paxos run a tenth of its time; the cache finds
// an entry by where the key's bytes are, and compares the key itself (which, for the same
// string, is a comparison of pointers). An entry keeps its key alive, so no other string can
// come to live at the same place while it is cached.
type memoCached struct {
	key string
	v   any
}

const memoCacheSize = 32 // a power of two

// memoSlot is the cache entry of key, by the address of its bytes.
func memoSlot(key string) int {
	p := uintptr(unsafe.Pointer(unsafe.StringData(key)))
	return int((p * 0x9e3779b97f4a7c15) >> 59) // the top 5 bits: memoCacheSize entries
}
