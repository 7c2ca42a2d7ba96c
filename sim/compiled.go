package sim

import (
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// compiler turns a type into a function over its values' memory (a hash, a deep copy), once
// per type for every run of the process to share. Campaign workers meet new types at the
// same moment, so a compilation runs under a lock and is published only when complete: a
// recursive type is compiled with a forward reference to itself, and no other goroutine
// may call that reference before it is filled in.
type compiler[F any] struct {
	done    sync.Map // reflect.Type -> F
	mu      sync.Mutex
	compile func(b *compilation[F], t reflect.Type) F
	forward func(f *F) F // a function that calls *f
}

// compilation is one compilation in progress: the functions it has made so far.
type compilation[F any] struct {
	c       *compiler[F]
	pending map[reflect.Type]F
}

// of returns the function of t.
func (c *compiler[F]) of(t reflect.Type) F {
	if f, ok := c.done.Load(t); ok {
		return f.(F)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &compilation[F]{c: c, pending: map[reflect.Type]F{}}
	f := b.get(t)
	for pt, pf := range b.pending {
		c.done.Store(pt, pf)
	}
	return f
}

// get returns the function of t for use inside another type's function.
func (b *compilation[F]) get(t reflect.Type) F {
	if f, ok := b.c.done.Load(t); ok {
		return f.(F)
	}
	if f, ok := b.pending[t]; ok {
		return f
	}
	var f F
	b.pending[t] = b.c.forward(&f)
	f = b.c.compile(b, t)
	b.pending[t] = f
	return f
}

// typeInfo is what hashing and copying need of a type, found with one lookup: the hash of
// its name and its compiled functions.
type typeInfo struct {
	name   uint64    // the hash of the type's name, which tells dynamic types apart
	hasher hashFunc  // adds a value's content to a hash
	fix    fixFunc   // deepens a shallow copy; nil when values share no memory
	plain  plainFunc // panics where hashing a value would (see plainFunc); nil when none can
	direct bool      // an interface holds the value in its data word (see directIface)
	// flat lists the scalars a value is hashed as, in order, when that is all it is hashed
	// as without renaming (see flatten); flatOK says whether it is.
	flat   []flatWord
	flatOK bool
	flat8  bool // every scalar of flat is of 8 bytes (ints, node IDs): no size to tell apart
}

var infos sync.Map // reflect.Type -> *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if i, ok := infos.Load(t); ok {
		return i.(*typeInfo)
	}
	i := &typeInfo{name: typeHash(t), hasher: hasherFor(t), fix: fixerFor(t), plain: plainerFor(t), direct: directIface(t)}
	i.flat, i.flatOK = flatten(t, 0, nil)
	i.flat8 = i.flatOK && !slices.ContainsFunc(i.flat, func(w flatWord) bool { return w.size != 8 })
	infos.Store(t, i) // goroutines racing here store equal infos
	return i
}

// byWord finds the typeInfo of a dynamic type by the type word of an interface holding it,
// which is what hashing and copying a message start from, several times per step: a probe of
// a small open-addressed table keyed by a pointer is several times cheaper than a sync.Map
// keyed by a reflect.Type. The table is copied on write (a process meets few types), so that
// readers take no lock.
var (
	byWord   atomic.Pointer[wordTable]
	byWordMu sync.Mutex
)

// wordTable is an open-addressed hash table from type words to type infos, at most half full.
type wordTable struct {
	shift uint // 64 - log2(len(slots))
	slots []wordSlot
	n     int
}

type wordSlot struct {
	tw   unsafe.Pointer
	info *typeInfo
}

func (t *wordTable) home(tw unsafe.Pointer) int {
	return int((uint64(uintptr(tw)) * 0x9e3779b97f4a7c15) >> t.shift)
}

func (t *wordTable) find(tw unsafe.Pointer) *typeInfo {
	mask := len(t.slots) - 1
	for i := t.home(tw); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.tw == tw {
			return s.info
		}
		if s.tw == nil {
			return nil
		}
	}
}

func (t *wordTable) put(tw unsafe.Pointer, info *typeInfo) {
	mask := len(t.slots) - 1
	i := t.home(tw)
	for t.slots[i].tw != nil && t.slots[i].tw != tw {
		i = (i + 1) & mask
	}
	if t.slots[i].tw == nil {
		t.n++
	}
	t.slots[i] = wordSlot{tw, info}
}

// infoOfWord returns the typeInfo of v's dynamic type, whose type word is tw (v is not nil).
// A type met for the first time goes on to addWord, which holds the lock: the look-up itself,
// which the hashing and copying of every message make, has no deferred call to set up.
func infoOfWord(tw unsafe.Pointer, v any) *typeInfo {
	if i := homeInfo(tw); i != nil {
		return i
	}
	if i := byWord.Load().find(tw); i != nil {
		return i
	}
	return addWord(tw, v)
}

// homeInfo returns the typeInfo of type word tw if the table holds it in its home slot, as
// it holds most (it is at most half full), else nil. It is small enough to be inlined: where
// a message is hashed or copied, a hundred times in a calm Paxos run, the call to infoOfWord
// was a third of the look-up's cost, and those places call it only when this finds nothing.
func homeInfo(tw unsafe.Pointer) *typeInfo {
	t := byWord.Load() // never nil (see init)
	if s := &t.slots[t.home(tw)]; s.tw == tw {
		return s.info
	}
	return nil
}

// The table starts empty rather than nil, which spares infoOfWord a test.
func init() { byWord.Store(&wordTable{shift: 64 - 6, slots: make([]wordSlot, 64)}) }

// addWord makes the typeInfo of v's dynamic type (type word tw) and adds it to the table.
func addWord(tw unsafe.Pointer, v any) *typeInfo {
	i := infoOf(reflect.TypeOf(v))
	byWordMu.Lock()
	defer byWordMu.Unlock()
	old := byWord.Load()
	size, shift := len(old.slots), old.shift
	if 2*(old.n+1) > size {
		size, shift = 2*size, shift-1
	}
	t := &wordTable{shift: shift, slots: make([]wordSlot, size)}
	for _, s := range old.slots {
		if s.tw != nil {
			t.put(s.tw, s.info)
		}
	}
	t.put(tw, i)
	byWord.Store(t)
	return i
}

// typeWord is the type word of the interface v (nil for a nil interface).
func typeWord(v *any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(v))[0] }
