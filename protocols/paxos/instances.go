package paxos

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Instances is consensus on a sequence of values as a component: one instance of
// single-decree Paxos (Node, unchanged) per slot, each in a namespace of its own, so that a
// replicated log can agree on every slot independently (Lamport's multi-Paxos, without its
// shared phase 1: each slot runs both phases). The instances are passive: a node proposes in a
// slot only when the layer above asks it to (a log asks only while it leads), and otherwise
// answers as an acceptor and learns.
//
// Interface:
//
//	request     Propose{Slot, Value}       propose Value in Slot
//	indication  SlotDecided{Slot, Value}   Slot has decided Value (once per instance's life here)
//
// An instance is made when a request or a message first names its slot, and dropped once it
// has decided here; its acceptor's promise and accepted proposal stay in durable storage, so a
// slot made again (a late message, a restart) answers exactly as before. At most MaxOpen
// instances are live at once; a message for a slot beyond that is dropped (its proposer
// retries).
//
// Properties, per slot: agreement (no two nodes decide different values) and validity (a
// decided value was proposed in that slot). Seeded bug: shared-acceptor (the instances keep
// their acceptor records under one storage key instead of one per slot: the namespace a
// component must keep for each of its instances, forgotten).
type Instances[V comparable] struct {
	cfg  node.Config
	live []slotNode[V] // sorted by slot
}

type slotNode[V comparable] struct {
	Slot int
	N    *Node[V]
	done bool // decided: dropped after the step
}

// MaxOpen bounds the live instances of a node.
const MaxOpen = 256

// BugSharedAcceptor is the seeded bug of Instances: a namespace forgotten.
const BugSharedAcceptor = "shared-acceptor"

// Propose is the request of Instances: propose Value in Slot.
type Propose[V comparable] struct {
	Slot  int
	Value V
}

// SlotDecided is the indication of Instances: Slot decided Value.
type SlotDecided[V comparable] struct {
	Slot  int
	Value V
}

// Slotted carries an instance's message.
type Slotted struct {
	Slot int
	Msg  node.Message
}

func (m Slotted) String() string { return fmt.Sprintf("slot %d: %v", m.Slot, m.Msg) }

// The outputs the per-slot properties read.
type (
	Chosen[V comparable] struct {
		Slot  int
		Value V
	}
	Proposed[V comparable] struct {
		Slot  int
		Value V
	}
)

func (c Chosen[V]) String() string   { return fmt.Sprintf("chosen slot %d: %+v", c.Slot, c.Value) }
func (p Proposed[V]) String() string { return fmt.Sprintf("proposed slot %d: %+v", p.Slot, p.Value) }

// NewInstances returns node id's instances.
func NewInstances[V comparable](cfg node.Config, id node.ID) node.Node {
	return &Instances[V]{cfg: cfg}
}

// Start: instances are made on demand, each recovering its slot's storage when it starts.
func (in *Instances[V]) Start(env node.Env) { in.live = nil }

// Request proposes a value in a slot.
func (in *Instances[V]) Request(env node.Env, req node.Request) {
	p, ok := node.OpOf[Propose[V]](req)
	if !ok || p.Slot < 1 {
		return
	}
	if s := in.instance(env, p.Slot); s != nil {
		s.N.Request(in.env(env, s), node.Request{Op: p.Value})
		in.sweep()
	}
}

// Receive hands a message to its slot's instance.
func (in *Instances[V]) Receive(env node.Env, from node.ID, m node.Message) {
	sm, ok := m.(Slotted)
	if !ok || sm.Slot < 1 {
		return
	}
	if s := in.instance(env, sm.Slot); s != nil {
		s.N.Receive(in.env(env, s), from, sm.Msg)
		in.sweep()
	}
}

// Timer hands a timer to its slot's instance, if it is still live.
func (in *Instances[V]) Timer(env node.Env, name string) {
	base, slot, ok := splitSlot(name)
	if !ok {
		return
	}
	i, found := in.find(slot)
	if !found {
		return // the instance decided and was dropped: its timer is stale
	}
	s := &in.live[i]
	s.N.Timer(in.env(env, s), base)
	in.sweep()
}

func (in *Instances[V]) find(slot int) (int, bool) {
	return slices.BinarySearchFunc(in.live, slot, func(s slotNode[V], slot int) int { return s.Slot - slot })
}

// instance returns slot's live instance, making and starting it if need be; nil when too
// many are live.
func (in *Instances[V]) instance(env node.Env, slot int) *slotNode[V] {
	i, found := in.find(slot)
	if found {
		return &in.live[i]
	}
	if len(in.live) >= MaxOpen {
		return nil
	}
	in.live = slices.Insert(in.live, i, slotNode[V]{Slot: slot, N: &Node[V]{cfg: in.cfg, passive: true}})
	s := &in.live[i]
	s.N.Start(in.env(env, s))
	return s
}

// sweep drops the instances that decided during the step.
func (in *Instances[V]) sweep() {
	in.live = slices.DeleteFunc(in.live, func(s slotNode[V]) bool { return s.done })
}

// Live is the number of live instances.
func (in *Instances[V]) Live() int { return len(in.live) }

// Size is the number of live instances.
func (in *Instances[V]) Size() int { return len(in.live) }

// slotEnv is the Env of one instance: its messages in Slotted, its timers and storage keys
// suffixed with its slot, its decision indicated to the layer above.
type slotEnv[V comparable] struct {
	node.Env
	s   *slotNode[V]
	bug string
}

func (in *Instances[V]) env(env node.Env, s *slotNode[V]) node.Env {
	return &slotEnv[V]{Env: env, s: s, bug: in.cfg.Bug}
}

func (e *slotEnv[V]) Send(to node.ID, m node.Message) {
	e.Env.Send(to, Slotted{Slot: e.s.Slot, Msg: m})
}
func (e *slotEnv[V]) Broadcast(m node.Message) { e.Env.Broadcast(Slotted{Slot: e.s.Slot, Msg: m}) }
func (e *slotEnv[V]) SetTimer(name string, min, max time.Duration) {
	e.Env.SetTimer(slotKey(name, e.s.Slot), min, max)
}
func (e *slotEnv[V]) CancelTimer(name string)     { e.Env.CancelTimer(slotKey(name, e.s.Slot)) }
func (e *slotEnv[V]) Store(key string, v any)     { e.Env.Store(e.storageKey(key), v) }
func (e *slotEnv[V]) Load(key string) (any, bool) { return e.Env.Load(e.storageKey(key)) }

// storageKey is an instance's own storage key for key.
func (e *slotEnv[V]) storageKey(key string) string {
	if e.bug == BugSharedAcceptor && key == keyAcceptor {
		return key // the seeded bug: one acceptor record for every slot
	}
	return slotKey(key, e.s.Slot)
}

// Output turns the instance's decision into the component's indication, and its outputs into
// the per-slot ones.
func (e *slotEnv[V]) Output(v any) {
	switch v := v.(type) {
	case Decision[V]:
		e.s.done = true
		e.Env.Output(Chosen[V]{Slot: e.s.Slot, Value: v.Value})
		node.Indicate(e.Env, SlotDecided[V]{Slot: e.s.Slot, Value: v.Value})
	case Proposal[V]:
		e.Env.Output(Proposed[V]{Slot: e.s.Slot, Value: v.Value})
	default:
		e.Env.Output(v)
	}
}

// Reply: an instance answers the layer above's proposal with its decision, which Output has
// indicated already.
func (e *slotEnv[V]) Reply(req node.Request, result any) {}

func slotKey(name string, slot int) string { return name + "/" + strconv.Itoa(slot) }

func splitSlot(key string) (string, int, bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", 0, false
	}
	slot, err := strconv.Atoi(key[i+1:])
	return key[:i], slot, err == nil && slot >= 1
}

// InstancesModule describes Instances of values of type V to the tools.
func InstancesModule[V comparable]() *node.Module {
	return &node.Module{
		Name:    "paxos-instances",
		Summary: "consensus per slot: one single-decree Paxos instance per slot, passive unless asked to propose",
		New:     NewInstances[V],
		// Node's bugs are in every instance too, but a leader-driven log gives a slot competing
		// proposers only while leadership changes hands, which is rare enough that a campaign
		// finds them slowly; they stay the paxos protocol's, whose clients all propose at once.
		Bugs: []node.Bug{
			{Name: BugSharedAcceptor, Scenario: "default",
				Summary: "the instances keep their acceptor records under one storage key, not one per slot: a slot made again reports another slot's accepted value"},
		},
		Invariants: []node.Invariant{
			{Name: "agreement", Check: slotAgreement[V]},
			{Name: "validity", Check: slotValidity[V]},
		},
		Sometimes: []node.Sometimes{
			{Name: "decided", Required: true, Reached: func(w node.World) bool {
				_, _, ok := node.FirstOutput[Chosen[V]](w)
				return ok
			}},
		},
	}
}

// slotAgreement: no two nodes decide different values in one slot.
func slotAgreement[V comparable](w node.World) error {
	if len(w.NewOutputs()) == 0 {
		return nil
	}
	type first struct {
		node  node.ID
		value V
	}
	seen, memo := node.Memo(w, "chosen", func() map[int]first { return map[int]first{} })
	fresh := w.NewOutputs()
	if !memo {
		seen, fresh = map[int]first{}, w.Outputs()
	}
	for _, o := range fresh {
		c, ok := o.Value.(Chosen[V])
		if !ok {
			continue
		}
		f, ok := seen[c.Slot]
		if !ok {
			seen[c.Slot] = first{o.Node, c.Value}
			continue
		}
		if f.value != c.Value {
			return fmt.Errorf("slot %d: n%d decided %+v, but n%d decided %+v", c.Slot, o.Node, c.Value, f.node, f.value)
		}
	}
	return nil
}

// slotValidity: a value decided in a slot was proposed in that slot.
func slotValidity[V comparable](w node.World) error {
	if len(w.NewOutputs()) == 0 {
		return nil
	}
	type key struct {
		slot  int
		value V
	}
	type index struct {
		seen     int
		proposed map[key]bool
	}
	ix, memo := node.Memo(w, "proposed", func() *index { return &index{proposed: map[key]bool{}} })
	if !memo {
		ix = &index{proposed: map[key]bool{}}
	}
	outs := w.Outputs()
	for _, o := range outs[ix.seen:] {
		if p, ok := o.Value.(Proposed[V]); ok {
			ix.proposed[key{p.Slot, p.Value}] = true
		}
	}
	ix.seen = len(outs)
	for _, o := range w.NewOutputs() {
		c, ok := o.Value.(Chosen[V])
		if ok && !ix.proposed[key{c.Slot, c.Value}] {
			return fmt.Errorf("n%d decided %+v in slot %d, which no node proposed there", o.Node, c.Value, c.Slot)
		}
	}
	return nil
}
