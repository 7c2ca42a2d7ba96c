package sim

import (
	"fmt"
	"math/bits"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/replica-io/replica/protocols/node"
)

// Hasher folds values into a 64-bit hash deterministically: the same value gives the same
// hash in every process, whatever the Go map order or the addresses in memory. It is what
// trace hashes and explorer fingerprints are made of.
type Hasher struct {
	h uint64
	// perm, when not nil, renames node IDs as they are hashed (perm[id] for id), so that the
	// hash is that of the value with its nodes renamed: symmetry reduction compares states
	// under permutations of the nodes without building them.
	perm []node.ID
	// depth counts the references followed, so that a cycle ends in a ValueError, not a
	// stack overflow; root is the value being hashed, for the error to name.
	depth int
	root  any
	// word holds the data word of the interface Value was given while its value is hashed,
	// for the value's hash function to point at: a pointer to Value's own argument would
	// move every argument to the heap (an allocation per value hashed).
	word unsafe.Pointer
}

// rename is node id under the hasher's permutation.
func (h *Hasher) rename(id node.ID) node.ID {
	if h.perm != nil && id >= 0 && int(id) < len(h.perm) {
		return h.perm[id]
	}
	return id
}

const hashSeed = 0x9e3779b97f4a7c15

// NewHasher returns a hasher in its initial state.
func NewHasher() Hasher { return Hasher{h: hashSeed} }

// Sum returns the hash of everything added so far.
func (h *Hasher) Sum() uint64 { return mix(h.h) }

// Uint64 adds x.
func (h *Hasher) Uint64(x uint64) {
	hi, lo := bits.Mul64(h.h^x, 0xa0761d6478bd642f)
	h.h = hi ^ lo
}

// Int adds x.
func (h *Hasher) Int(x int) { h.Uint64(uint64(x)) }

// String adds s, length first so that "ab","c" and "a","bc" differ.
func (h *Hasher) String(s string) {
	h.Uint64(uint64(len(s)))
	for len(s) >= 8 {
		h.Uint64(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	var last uint64
	for i := 0; i < len(s); i++ {
		last |= uint64(s[i]) << (8 * i)
	}
	h.Uint64(last)
}

// Value adds any plain Go value: numbers, strings, structs, slices, arrays, maps (in an
// order-independent way) and interfaces (with their dynamic type, known by its package path
// and name). Pointers are followed, never hashed as addresses; nil and empty slices hash
// alike. A value that is not plain (a function, a channel, a cycle of references) panics with
// an error that names its type and the field path to the trouble (see ValueError): the
// simulator reports it as a violation of the run.
//
// Each type is compiled once into a function over the value's memory, so that hashing a
// message costs a few nanoseconds per field rather than a reflective walk.
func (h *Hasher) Value(v any) {
	if v == nil {
		h.Uint64(0)
		return
	}
	words := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	i := homeInfo(words[0]) // most often; infoOfWord finds the others
	if i == nil {
		i = infoOfWord(words[0], v)
	}
	h.Uint64(i.name)
	data := words[1] // the value itself, or a pointer to it (see directIface)
	// A message of plain fields, most often: its scalars in one loop, no calls (nor a root to
	// name: nothing in it can fail to hash).
	if i.flatOK && h.perm == nil {
		if i.flat8 {
			for _, w := range i.flat {
				h.Uint64(*(*uint64)(unsafe.Add(data, w.off)))
			}
			return
		}
		h.flatWords(i.flat, data)
		return
	}
	h.root = v
	if i.direct {
		h.word = data
		data = unsafe.Pointer(&h.word)
	}
	i.hasher(h, data)
	h.word, h.root = nil, nil
}

// flatWord is one scalar of a value that is hashed as a fixed list of scalars: its offset
// in the value and its size in bytes.
type flatWord struct {
	off  uintptr
	size uintptr
}

// maxFlatWords bounds the scalars of a flat value: a larger one (a big array) is left to
// its compiled function.
const maxFlatWords = 32

// flatten appends to out the scalars that the compiled hash function of t (compileHash)
// adds, each as the Uint64 of its bytes, when no nodes are renamed, and reports whether that
// is all the function does: t holds only numbers and booleans, in structs and arrays, and no
// strings, slices, maps, pointers or interfaces. Hashing the list in one loop adds the same
// words to the hash as the compiled functions, which call one function per field and one per
// nested struct; the trace hash adds every message twice (sent and delivered), and those
// calls were a third of what it cost.
func flatten(t reflect.Type, off uintptr, out []flatWord) ([]flatWord, bool) {
	if len(out) > maxFlatWords {
		return nil, false
	}
	if t == nodeIDType { // renamed only under a permutation, which the flat path never has
		return append(out, flatWord{off, t.Size()}), true
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Uint8, reflect.Int8:
		return append(out, flatWord{off, 1}), true
	case reflect.Int16, reflect.Uint16:
		return append(out, flatWord{off, 2}), true
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return append(out, flatWord{off, 4}), true
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr, reflect.Float64, reflect.Complex64:
		return append(out, flatWord{off, 8}), true
	case reflect.Complex128:
		return append(out, flatWord{off, 8}, flatWord{off + 8, 8}), true
	case reflect.Struct:
		if out == nil {
			out = []flatWord{} // flat, even with no fields
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Type == configType {
				continue // left out of hashes (see compileStructHash)
			}
			var ok bool
			if out, ok = flatten(f.Type, off+f.Offset, out); !ok {
				return nil, false
			}
		}
		return out, true
	case reflect.Array:
		if out == nil {
			out = []flatWord{}
		}
		for i := 0; i < t.Len(); i++ {
			var ok bool
			if out, ok = flatten(t.Elem(), off+uintptr(i)*t.Elem().Size(), out); !ok {
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

// flatWords adds the scalars ws of the value at p.
func (h *Hasher) flatWords(ws []flatWord, p unsafe.Pointer) {
	for _, w := range ws {
		q := unsafe.Add(p, w.off)
		switch w.size {
		case 1:
			h.Uint64(uint64(*(*uint8)(q)))
		case 2:
			h.Uint64(uint64(*(*uint16)(q)))
		case 4:
			h.Uint64(uint64(*(*uint32)(q)))
		default:
			h.Uint64(*(*uint64)(q))
		}
	}
}

// maxDepth is how many references deep hashing and copying follow a value before they take
// it for a cycle.
const maxDepth = 100_000

func (h *Hasher) enter() {
	h.depth++
	if h.depth > maxDepth {
		h.depth = 0
		panic(notPlain{what: "a cycle", op: "hash", root: h.root})
	}
}

// hashFunc adds the value of a fixed type stored at p.
type hashFunc func(h *Hasher, p unsafe.Pointer)

// hashers compiles hash functions; it is set up in init because compiled functions use it
// for the dynamic types of interfaces.
var hashers *compiler[hashFunc]

func init() {
	hashers = &compiler[hashFunc]{
		compile: compileHash,
		forward: func(f *hashFunc) hashFunc { return func(h *Hasher, p unsafe.Pointer) { (*f)(h, p) } },
	}
}

// hasherFor returns the compiled hash function of t.
func hasherFor(t reflect.Type) hashFunc { return hashers.of(t) }

func compileHash(c *compilation[hashFunc], t reflect.Type) hashFunc {
	if t == nodeIDType {
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(uint64(h.rename(*(*node.ID)(p)))) }
	}
	if renames(t) {
		return compileRenamerHash(c, t)
	}
	return compileKind(c, t)
}

// compileKind compiles the hash of t by its kind.
func compileKind(c *compilation[hashFunc], t reflect.Type) hashFunc {
	switch t.Kind() {
	case reflect.Bool, reflect.Uint8, reflect.Int8:
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(uint64(*(*uint8)(p))) }
	case reflect.Int16, reflect.Uint16:
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(uint64(*(*uint16)(p))) }
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(uint64(*(*uint32)(p))) }
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr, reflect.Float64:
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(*(*uint64)(p)) }
	case reflect.Complex64:
		return func(h *Hasher, p unsafe.Pointer) { h.Uint64(*(*uint64)(p)) }
	case reflect.Complex128:
		return func(h *Hasher, p unsafe.Pointer) {
			h.Uint64(*(*uint64)(p))
			h.Uint64(*(*uint64)(unsafe.Add(p, 8)))
		}
	case reflect.String:
		return func(h *Hasher, p unsafe.Pointer) { h.String(*(*string)(p)) }
	case reflect.Struct:
		return compileStructHash(c, t)
	case reflect.Array:
		elem, size, n := c.get(t.Elem()), t.Elem().Size(), t.Len()
		return func(h *Hasher, p unsafe.Pointer) {
			for i := 0; i < n; i++ {
				elem(h, unsafe.Add(p, uintptr(i)*size))
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(h *Hasher, p unsafe.Pointer) { h.String(string(*(*[]byte)(p))) }
		}
		elem, size := c.get(t.Elem()), t.Elem().Size()
		if !hasRefs(t.Elem()) { // no references below: nothing to count
			return func(h *Hasher, p unsafe.Pointer) {
				data, n := *(*unsafe.Pointer)(p), *(*int)(unsafe.Add(p, ptrSize))
				h.Uint64(uint64(n))
				for i := 0; i < n; i++ {
					elem(h, unsafe.Add(data, uintptr(i)*size))
				}
			}
		}
		return func(h *Hasher, p unsafe.Pointer) {
			data, n := *(*unsafe.Pointer)(p), *(*int)(unsafe.Add(p, ptrSize))
			h.Uint64(uint64(n))
			h.enter()
			for i := 0; i < n; i++ {
				elem(h, unsafe.Add(data, uintptr(i)*size))
			}
			h.depth--
		}
	case reflect.Map:
		return func(h *Hasher, p unsafe.Pointer) {
			h.enter()
			h.hashMap(reflect.NewAt(t, p).Elem())
			h.depth--
		}
	case reflect.Pointer:
		elem := c.get(t.Elem())
		return func(h *Hasher, p unsafe.Pointer) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				h.Uint64(0)
				return
			}
			h.Uint64(1)
			h.enter()
			elem(h, q)
			h.depth--
		}
	case reflect.Interface:
		return func(h *Hasher, p unsafe.Pointer) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				h.Uint64(0)
				return
			}
			dt := v.Elem().Type()
			i := infoOf(dt)
			h.Uint64(i.name)
			h.enter()
			i.hasher(h, ifaceData(p, dt))
			h.depth--
		}
	}
	// Functions, channels and unsafe pointers have no value to hash; a nil one is harmless.
	what := "a " + t.Kind().String()
	return func(h *Hasher, p unsafe.Pointer) {
		if *(*unsafe.Pointer)(p) == nil {
			h.Uint64(0)
			return
		}
		panic(notPlain{what: what, op: "hash", root: h.root})
	}
}

func compileStructHash(c *compilation[hashFunc], t reflect.Type) hashFunc {
	type field struct {
		off uintptr
		f   hashFunc
	}
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Type == configType {
			continue // the cluster's configuration is the same in every state of a run
		}
		fields = append(fields, field{sf.Offset, c.get(sf.Type)})
	}
	return func(h *Hasher, p unsafe.Pointer) {
		for _, f := range fields {
			f.f(h, unsafe.Add(p, f.off))
		}
	}
}

// hashMap sums the entries' hashes: addition does not care about the iteration order.
func (h *Hasher) hashMap(m reflect.Value) {
	var sum uint64
	kf, vf := hasherFor(m.Type().Key()), hasherFor(m.Type().Elem())
	k := reflect.New(m.Type().Key()).Elem()
	v := reflect.New(m.Type().Elem()).Elem()
	it := m.MapRange()
	for it.Next() {
		k.SetIterKey(it)
		v.SetIterValue(it)
		e := Hasher{h: hashSeed, perm: h.perm, depth: h.depth, root: h.root}
		kf(&e, k.Addr().UnsafePointer())
		vf(&e, v.Addr().UnsafePointer())
		sum += e.Sum()
	}
	h.Uint64(uint64(m.Len()))
	h.Uint64(sum)
}

const ptrSize = unsafe.Sizeof(uintptr(0))

// configType is node.Config, which hashing and cloning leave out (hashing) or share (cloning):
// it is fixed for a run, and its parameter map would otherwise be copied at every step.
var configType = reflect.TypeOf(node.Config{})

// nodeIDType is node.ID, which symmetry renames.
var nodeIDType = reflect.TypeOf(node.ID(0))

// directIface reports whether the Go runtime stores values of t in an interface's data word
// itself rather than behind a pointer: pointer-shaped types.
func directIface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Struct:
		return t.NumField() == 1 && directIface(t.Field(0).Type)
	case reflect.Array:
		return t.Len() == 1 && directIface(t.Elem())
	}
	return false
}

// ifaceData returns a pointer to the value held by the interface at p, whose dynamic type is t.
func ifaceData(p unsafe.Pointer, t reflect.Type) unsafe.Pointer {
	word := unsafe.Add(p, ptrSize) // an interface is two words: type (or itab), then data
	if directIface(t) {
		return word
	}
	return *(*unsafe.Pointer)(word)
}

func efaceData(v *any, t reflect.Type) unsafe.Pointer { return ifaceData(unsafe.Pointer(v), t) }

// typeHashes caches the hash of each type's name: types are hashed with every value, and
// formatting a type's name is slow.
var typeHashes sync.Map // reflect.Type -> uint64

func typeHash(t reflect.Type) uint64 {
	if h, ok := typeHashes.Load(t); ok {
		return h.(uint64)
	}
	th := NewHasher()
	th.String(typeIdentity(t))
	h := th.Sum()
	typeHashes.Store(t, h)
	return h
}

// typeIdentity identifies a type by its package path and name, so that two types of one name in
// packages of one name (two packages called kv, say) stay apart; an unnamed type is spelled
// out from its parts. (The type arguments of a generic type are spelled by package name, as
// reflect gives them.)
func typeIdentity(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name() // a predeclared type
		}
		return t.PkgPath() + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + typeIdentity(t.Elem())
	case reflect.Slice:
		return "[]" + typeIdentity(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), typeIdentity(t.Elem()))
	case reflect.Map:
		return "map[" + typeIdentity(t.Key()) + "]" + typeIdentity(t.Elem())
	case reflect.Struct:
		var b strings.Builder
		b.WriteString("struct{")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if i > 0 {
				b.WriteString("; ")
			}
			if f.PkgPath != "" {
				b.WriteString(f.PkgPath + ".")
			}
			fmt.Fprintf(&b, "%s %s %q", f.Name, typeIdentity(f.Type), f.Tag)
		}
		b.WriteString("}")
		return b.String()
	}
	return t.String()
}

// mix is a final avalanche so that nearby inputs give unrelated hashes.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// HashOf returns the hash of one value.
func HashOf(v any) uint64 {
	h := hasherPool.Get().(*Hasher)
	*h = NewHasher()
	h.Value(v)
	sum := h.Sum()
	hasherPool.Put(h)
	return sum
}

// hasherPool keeps the hashers HashOf uses: a hasher escapes to the heap (the compiled hash
// functions are called through function values), and HashOf is called for every message
// the explorer sees and every reply a client reads.
var hasherPool = sync.Pool{New: func() any { return new(Hasher) }}

// hashRenamed returns the hash of v with its nodes renamed by perm.
func hashRenamed(v any, perm []node.ID) uint64 {
	h := hasherPool.Get().(*Hasher)
	*h = NewHasher()
	h.perm = perm
	h.Value(v)
	sum := h.Sum()
	h.perm = nil
	hasherPool.Put(h)
	return sum
}
