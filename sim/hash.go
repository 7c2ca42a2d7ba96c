package sim

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"sync"
)

// Hasher folds values into a 64-bit hash deterministically: the same value gives the same
// hash in every process, whatever the Go map order or the addresses in memory. It is what
// trace hashes and explorer fingerprints are made of.
type Hasher struct{ h uint64 }

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
// order-independent way) and interfaces (with their dynamic type). Pointers are followed,
// never hashed as addresses. Functions and channels are refused: they have no value to hash.
func (h *Hasher) Value(v any) {
	if v == nil {
		h.Uint64(0)
		return
	}
	switch x := v.(type) { // fast paths for the commonest payloads
	case int:
		h.Uint64(1)
		h.Int(x)
		return
	case string:
		h.Uint64(2)
		h.String(x)
		return
	}
	h.value(reflect.ValueOf(v))
}

func (h *Hasher) value(v reflect.Value) {
	t := v.Type()
	h.Uint64(typeHash(t))
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			h.Uint64(1)
		} else {
			h.Uint64(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		h.Uint64(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		h.Uint64(v.Uint())
	case reflect.Float32, reflect.Float64:
		h.Uint64(math.Float64bits(v.Float()))
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		h.Uint64(math.Float64bits(real(c)))
		h.Uint64(math.Float64bits(imag(c)))
	case reflect.String:
		h.String(v.String())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			h.value(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			h.String(string(v.Bytes()))
			return
		}
		h.Uint64(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			h.value(v.Index(i))
		}
	case reflect.Map:
		// Sum the entries' hashes: addition does not care about the iteration order.
		var sum uint64
		it := v.MapRange()
		for it.Next() {
			e := NewHasher()
			e.value(it.Key())
			e.value(it.Value())
			sum += e.Sum()
		}
		h.Uint64(uint64(v.Len()))
		h.Uint64(sum)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			h.Uint64(0)
			return
		}
		h.Uint64(1)
		h.value(v.Elem())
	default:
		panic(fmt.Sprintf("sim: cannot hash a value of type %s (kind %s)", t, v.Kind()))
	}
}

// typeHashes caches the hash of each type's name: types are hashed with every value, and
// formatting a type's name is slow.
var typeHashes sync.Map // reflect.Type -> uint64

func typeHash(t reflect.Type) uint64 {
	if h, ok := typeHashes.Load(t); ok {
		return h.(uint64)
	}
	th := NewHasher()
	th.String(t.String())
	h := th.Sum()
	typeHashes.Store(t, h)
	return h
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
	h := NewHasher()
	h.Value(v)
	return h.Sum()
}
