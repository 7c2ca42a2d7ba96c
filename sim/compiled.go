package sim

import (
	"reflect"
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
	name   uint64   // the hash of the type's name, which tells dynamic types apart
	hasher hashFunc // adds a value's content to a hash
	fix    fixFunc  // deepens a shallow copy; nil when values share no memory
	direct bool     // an interface holds the value in its data word (see directIface)
}

var infos sync.Map // reflect.Type -> *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if i, ok := infos.Load(t); ok {
		return i.(*typeInfo)
	}
	i := &typeInfo{name: typeHash(t), hasher: hasherFor(t), fix: fixerFor(t), direct: directIface(t)}
	infos.Store(t, i) // goroutines racing here store equal infos
	return i
}

// byWord finds the typeInfo of a dynamic type by the type word of an interface holding it,
// which is what hashing and copying a message start from, several times per step: a plain
// map keyed by a pointer is several times cheaper than a sync.Map keyed by a reflect.Type.
// It is copied on write (a process meets few types), so that readers take no lock.
var (
	byWord   atomic.Pointer[map[unsafe.Pointer]*typeInfo]
	byWordMu sync.Mutex
)

// infoOfWord returns the typeInfo of v's dynamic type, whose type word is tw (v is not nil).
func infoOfWord(tw unsafe.Pointer, v any) *typeInfo {
	if m := byWord.Load(); m != nil {
		if i, ok := (*m)[tw]; ok {
			return i
		}
	}
	i := infoOf(reflect.TypeOf(v))
	byWordMu.Lock()
	defer byWordMu.Unlock()
	old := byWord.Load()
	m := make(map[unsafe.Pointer]*typeInfo, 1+mapLen(old))
	if old != nil {
		for k, x := range *old {
			m[k] = x
		}
	}
	m[tw] = i
	byWord.Store(&m)
	return i
}

func mapLen(m *map[unsafe.Pointer]*typeInfo) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// typeWord is the type word of the interface v (nil for a nil interface).
func typeWord(v *any) unsafe.Pointer { return (*[2]unsafe.Pointer)(unsafe.Pointer(v))[0] }
