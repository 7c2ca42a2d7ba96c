package sim

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// env is the node.Env a node steps with. The world owns one and points it at the stepping
// node, so that a step allocates nothing for it.
type env struct {
	w       *World
	s       *slot
	effects int
}

// budgetExceeded is the panic value of a step that does too much; Run turns it into a
// failure of the run.
type budgetExceeded struct{ limit int }

func (e *env) effect() {
	e.effects++
	if e.effects > e.w.cfg.StepBudget {
		panic(budgetExceeded{e.w.cfg.StepBudget})
	}
}

func (e *env) Self() node.ID    { return e.s.id }
func (e *env) Nodes() []node.ID { return e.w.ids }
func (e *env) Choose(n int) int { e.effect(); return e.w.choose.Choose(Protocol, max(n, 1)) }
func (e *env) Send(to node.ID, m node.Message) {
	e.effect()
	if to < 1 || int(to) > len(e.w.ids) {
		panic(fmt.Sprintf("node %d sent %s to unknown node %d", e.s.id, Summary(m), to))
	}
	e.w.send(e.s.id, to, m)
}

func (e *env) Broadcast(m node.Message) {
	for _, to := range e.w.ids {
		if to != e.s.id {
			e.Send(to, m)
		}
	}
}

func (e *env) SetTimer(name string, min, max time.Duration) {
	e.effect()
	if max < min {
		max = min
	}
	d := min
	if span := int64((max - min) / time.Millisecond); span > 0 {
		d += time.Duration(e.w.choose.Choose(Protocol, int(span)+1)) * time.Millisecond
	}
	d = time.Duration(float64(d) * e.s.rate)
	e.w.gen++
	e.s.timers[name] = e.w.gen
	e.w.schedule(event{at: e.w.now + d, kind: evTimer, node: e.s.id, inc: e.s.inc, gen: e.w.gen, name: name})
}

func (e *env) CancelTimer(name string) { delete(e.s.timers, name) }

func (e *env) Store(key string, v any) {
	e.effect()
	e.s.store(key, v)
}

func (e *env) Load(key string) (any, bool) { return e.s.load(key) }
func (e *env) Sync()                       { e.s.sync() }

// Storage, the same in every driver: writes are copied in, reads copied out, and a write is
// durable only once synced.

func (s *slot) store(key string, v any) {
	s.own()
	s.pending[key] = cloneAny(v)
}

func (s *slot) load(key string) (any, bool) {
	if v, ok := s.pending[key]; ok {
		return cloneAny(v), true
	}
	v, ok := s.durable[key]
	return cloneAny(v), ok
}

func (s *slot) sync() {
	if len(s.pending) == 0 {
		return
	}
	s.own()
	for k, v := range s.pending { // each key on its own: the order does not matter
		s.durable[k] = v
	}
	clear(s.pending)
	s.durValid = false
}

func (e *env) Output(v any) {
	e.effect()
	v = cloneAny(v)
	path, value := node.SplitOutput(v) // a component's output, with its path
	e.w.outputs = append(e.w.outputs, node.Output{Node: e.s.id, Time: e.w.now, Path: path, Value: value})
	e.w.record(Output, e.s.id, 0, 0, v)
}

func (e *env) Reply(req node.Request, result any) {
	e.effect()
	e.w.reply(e.s.id, req, cloneAny(result))
}
