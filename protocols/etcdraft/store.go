package etcdraft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
)

// command is what a proposal carries in a log entry's data: a client's operation with the
// session it belongs to, the way etcd's server wraps a request with its ID.
type command struct {
	Client node.ClientID
	Seq    int
	Op     kv.Op
}

func (c command) String() string { return fmt.Sprintf("c%d.%d:%s", c.Client, c.Seq, c.Op) }

// encode writes a command as entry data: varints, the key last.
func (c command) encode() []byte {
	b := make([]byte, 0, 16+len(c.Op.Key))
	b = binary.AppendUvarint(b, uint64(c.Client))
	b = binary.AppendUvarint(b, uint64(c.Seq))
	b = append(b, byte(c.Op.Kind))
	b = binary.AppendVarint(b, int64(c.Op.Value))
	b = binary.AppendVarint(b, int64(c.Op.Expect))
	return append(b, c.Op.Key...)
}

var errBadCommand = errors.New("etcdraft: malformed command in a log entry")

func decodeCommand(b []byte) (command, error) {
	var c command
	var vals [2]int64
	client, n := binary.Uvarint(b)
	if n <= 0 {
		return c, errBadCommand
	}
	b = b[n:]
	seq, n := binary.Uvarint(b)
	if n <= 0 || len(b) == n {
		return c, errBadCommand
	}
	b = b[n:]
	c.Op.Kind, b = kv.Kind(b[0]), b[1:]
	for i := range vals {
		if vals[i], n = binary.Varint(b); n <= 0 {
			return c, errBadCommand
		}
		b = b[n:]
	}
	c.Client, c.Seq = node.ClientID(client), int(seq)
	c.Op.Value, c.Op.Expect, c.Op.Key = int(vals[0]), int(vals[1]), string(b)
	return c, nil
}

// Store is the replicated state machine: a key-value store, and the client sessions that make
// a retried write take effect once. Digest identifies its content, so that two nodes that
// applied the same index can be compared cheaply: it is kept up to date with every change.
type Store struct {
	Data     map[string]int
	Sessions map[node.ClientID]Session
	Digest   uint64
}

// Session is what the state machine remembers of a client: its latest write applied and the
// answer, so that a retry of it is answered instead of run twice.
type Session struct {
	Seq    int
	Result kv.Result
	Last   uint64 // the log index it was applied at: how recently the client was active
}

func newStore() Store {
	return Store{Data: map[string]int{}, Sessions: map[node.ClientID]Session{}}
}

// clone returns a copy sharing no memory with s.
func (s Store) clone() Store {
	return Store{Data: maps.Clone(s.Data), Sessions: maps.Clone(s.Sessions), Digest: s.Digest}
}

// apply runs a command applied at index. A write its session has seen already is not run
// again: the first run's result is returned (ok), or none for one older than that (the client
// has moved on). Sessions expire least recently active first beyond maxSessions.
func (s *Store) apply(index uint64, c command, maxSessions int) (res kv.Result, ok bool) {
	if old, seen := s.Sessions[c.Client]; seen && c.Seq <= old.Seq {
		return old.Result, c.Seq == old.Seq
	}
	before, had := s.Data[c.Op.Key]
	res = kv.Apply(s.Data, c.Op)
	if after, has := s.Data[c.Op.Key]; has && (!had || after != before) {
		if had {
			s.Digest -= cellHash(c.Op.Key, before)
		}
		s.Digest += cellHash(c.Op.Key, after)
	}
	s.setSession(c.Client, Session{Seq: c.Seq, Result: res, Last: index})
	if len(s.Sessions) > maxSessions {
		s.expire()
	}
	return res, true
}

func (s *Store) setSession(c node.ClientID, v Session) {
	if old, ok := s.Sessions[c]; ok {
		s.Digest -= sessionHash(c, old)
	}
	s.Sessions[c] = v
	s.Digest += sessionHash(c, v)
}

// expire drops the least recently active session (the lowest Last; the lowest client on a
// tie, so that every replica drops the same one whatever the map order).
func (s *Store) expire() {
	var oldest node.ClientID
	for c, v := range s.Sessions {
		o, ok := s.Sessions[oldest]
		if !ok || v.Last < o.Last || v.Last == o.Last && c < oldest {
			oldest = c
		}
	}
	s.Digest -= sessionHash(oldest, s.Sessions[oldest])
	delete(s.Sessions, oldest)
}

// get answers a read from the state machine as it stands.
func (s *Store) get(key string) kv.Result { return kv.Apply(s.Data, kv.Op{Kind: kv.Get, Key: key}) }

// The digest is a sum of one hash per key and per session: a sum does not depend on the
// order of a map, and a change updates it in constant time.
func cellHash(key string, v int) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for i := 0; i < len(key); i++ {
		h = mix(h ^ uint64(key[i]))
	}
	return mix(h ^ uint64(v)<<1 ^ 1)
}

func sessionHash(c node.ClientID, v Session) uint64 {
	h := mix(uint64(c)<<32 ^ uint64(v.Seq))
	h = mix(h ^ uint64(v.Result.Value) ^ boolBit(v.Result.OK)<<63)
	return mix(h^v.Last) ^ 2
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// mix is a 64-bit finalizer (splitmix64's).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// encode writes the state machine as snapshot data; decodeStore reads it back. Keys and
// sessions go in sorted order, so that equal stores encode equally.
func (s Store) encode() []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(s.Data)))
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = binary.AppendVarint(b, int64(s.Data[k]))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Sessions)))
	for _, c := range slices.Sorted(maps.Keys(s.Sessions)) {
		v := s.Sessions[c]
		b = binary.AppendUvarint(b, uint64(c))
		b = binary.AppendUvarint(b, uint64(v.Seq))
		b = binary.AppendVarint(b, int64(v.Result.Value))
		b = append(b, byte(boolBit(v.Result.OK)))
		b = binary.AppendUvarint(b, v.Last)
	}
	return b
}

func decodeStore(b []byte) (Store, error) {
	s := newStore()
	r := reader{b: b}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		k := r.bytes(int(r.uvarint()))
		v := int(r.varint())
		s.Data[string(k)] = v
		s.Digest += cellHash(string(k), v)
	}
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		c := node.ClientID(r.uvarint())
		v := Session{Seq: int(r.uvarint())}
		v.Result.Value = int(r.varint())
		v.Result.OK = r.byte() != 0
		v.Last = r.uvarint()
		s.setSession(c, v)
	}
	if r.err != nil || len(r.b) != 0 {
		return Store{}, errors.New("etcdraft: malformed snapshot data")
	}
	return s, nil
}

// reader reads varints and bytes, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("short data")
	}
	r.b = nil
}
