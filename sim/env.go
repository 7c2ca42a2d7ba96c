package sim

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// env is the node.Env every step runs with, in both worlds: the step core owns one and points
// it at the stepping node, so that a step allocates nothing for it. It counts the step's
// effects against the step budget, and hands what depends on time to the core's timing.
type env struct {
	k       *stepCore
	s       *slot
	effects int
}

// budgetExceeded is the panic value of a step that does too much; the driver turns it into a
// failure of the run.
type budgetExceeded struct{ limit int }

func (e *env) effect() {
	e.effects++
	if e.effects > e.k.stepBudget {
		panic(budgetExceeded{e.k.stepBudget})
	}
}

func (e *env) Self() node.ID    { return e.s.id }
func (e *env) Nodes() []node.ID { return e.k.ids }

// Choose, Send and SetTimer refuse what has no meaning (nothing to choose from, a message
// that is nil, a range of durations that is empty) as a panic of the protocol, which fails
// the run with the call named, rather than guess what was meant.
func (e *env) Choose(n int) int {
	e.effect()
	if n < 1 {
		panic(fmt.Sprintf("node %d called Choose(%d): there is nothing to choose from (n must be at least 1)", e.s.id, n))
	}
	return e.k.time.choice(n)
}

func (e *env) Send(to node.ID, m node.Message) {
	e.effect()
	if to < 1 || int(to) > len(e.k.ids) {
		panic(fmt.Sprintf("node %d sent %s to unknown node %d", e.s.id, Summary(m), to))
	}
	if m == nil {
		panic(fmt.Sprintf("node %d sent a nil message to node %d: a message must be a value of the protocol's own type", e.s.id, to))
	}
	e.k.time.send(e.s.id, to, m)
}

func (e *env) Broadcast(m node.Message) {
	for _, to := range e.k.ids {
		if to != e.s.id {
			e.Send(to, m)
		}
	}
}

func (e *env) SetTimer(name string, min, max time.Duration) {
	e.effect()
	if min < 0 || max < min {
		panic(fmt.Sprintf("node %d called SetTimer(%q, %v, %v): want 0 <= min <= max", e.s.id, name, min, max))
	}
	e.k.time.setTimer(e.s, name, min, max)
}

func (e *env) CancelTimer(name string) {
	if _, armed := e.s.timers[name]; armed {
		e.s.ownMaps(mapTimers)
		delete(e.s.timers, name)
	}
}

func (e *env) Store(key string, v any) {
	e.effect()
	if e.k.disk != nil {
		e.k.disk.stored(e.s, key)
	}
	e.s.store(key, v, e.k.disk == nil && !e.k.cow)
}

func (e *env) Load(key string) (any, bool) {
	if e.k.disk != nil {
		v, ok, _ := e.k.disk.load(e.s, key) // a protocol that does not check reads what came back
		return v, ok
	}
	return e.s.load(key)
}

func (e *env) Sync() {
	if e.k.disk != nil {
		_ = e.k.disk.sync(e.s) // a protocol that does not ask is not told the sync failed
		return
	}
	e.s.sync()
}

func (e *env) Output(v any) {
	e.effect()
	e.k.output(e.s.id, cloneAny(v))
}

func (e *env) Reply(req node.Request, result any) {
	e.effect()
	e.k.reply(e.s.id, req, cloneAny(result))
}

// The timed world's timing.

// setTimer arms a timer for a duration drawn in [min, max], at the node's clock rate.
func (w *World) setTimer(s *slot, name string, min, max time.Duration) {
	d := min
	if span := int64((max - min) / time.Millisecond); span > 0 {
		d += time.Duration(w.choose.Choose(Protocol, int(span)+1)) * time.Millisecond
	}
	d = time.Duration(float64(d) * s.rate)
	w.gen++
	s.timers[name] = w.gen
	s.changes++
	w.schedule(event{at: w.now + d, kind: evTimer, node: s.id, inc: s.inc, gen: w.gen, name: name})
}

func (w *World) choice(n int) int {
	if w.script != nil {
		return w.script.protocolChoice(n)
	}
	return w.choose.Choose(Protocol, n)
}

// Storage, the same in every driver: writes are copied in, reads copied out, and a write is
// durable only once synced.

// A node most often stores one record and syncs it in the same step: where nothing else is
// pending and the world allows it (one, below), that write is kept in the slot's own fields
// rather than in the pending map, whose insert, look-up and clearing cost a calm Paxos run
// about a twentieth of its instructions. It is the pending map's only entry in all but
// where it lies: a second key moves it into the map, and a sync or a crash ends it as they
// end the map's.
func (s *slot) store(key string, v any, one bool) {
	s.lastStored = key
	if one && len(s.pending) == 0 && (!s.one || s.oneKey == key) {
		s.oneKey, s.oneVal, s.one = key, cloneAny(v), true
		return
	}
	s.ownMaps(mapPending)
	if s.one {
		s.pending[s.oneKey] = s.oneVal
		s.dropOne()
	}
	s.pending[key] = cloneAny(v)
}

// dropOne forgets the pending write kept outside the map.
func (s *slot) dropOne() { s.one, s.oneKey, s.oneVal = false, "", nil }

func (s *slot) load(key string) (any, bool) {
	if s.one && key == s.oneKey {
		return cloneAny(s.oneVal), s.oneVal != nil // a nil stored deletes the key
	}
	if v, ok := s.pending[key]; ok {
		return cloneAny(v), v != nil // a nil stored deletes the key
	}
	v, ok := s.durable[key]
	return cloneAny(v), ok
}

// persist makes one pending write durable: a nil value deletes the key, so that a protocol
// that drops what it no longer needs (Raft's log segments under a snapshot) leaves no key
// behind, and its storage stays as small as what it keeps.
func (s *slot) persist(key string, v any) {
	if v == nil {
		delete(s.durable, key)
		return
	}
	s.durable[key] = v
}

func (s *slot) sync() {
	if s.one { // the only pending write (see store)
		s.ownMaps(mapDurable | mapPending)
		s.durValid = false
		s.persist(s.oneKey, s.oneVal)
		s.dropOne()
		return
	}
	if len(s.pending) == 0 {
		return
	}
	s.ownMaps(mapDurable | mapPending)
	s.durValid = false
	if k := s.lastStored; len(s.pending) == 1 { // the common case, one key: no iteration, no clearing
		if v, ok := s.pending[k]; ok {
			s.persist(k, v)
			clear(s.pending) // its only key: a clear is cheaper than a delete, which reseeds
			return
		}
	}
	for k, v := range s.pending { // each key on its own: the order does not matter
		s.persist(k, v)
	}
	clear(s.pending)
}
