package sim

import (
	"reflect"
	"sync"
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
}

var infos sync.Map // reflect.Type -> *typeInfo

func infoOf(t reflect.Type) *typeInfo {
	if i, ok := infos.Load(t); ok {
		return i.(*typeInfo)
	}
	i := &typeInfo{name: typeHash(t), hasher: hasherFor(t), fix: fixerFor(t)}
	infos.Store(t, i) // goroutines racing here store equal infos
	return i
}
