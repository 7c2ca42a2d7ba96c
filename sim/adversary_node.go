package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// newState builds node id's protocol state: the protocol's own, or for a Byzantine node the
// protocol's correct code wrapped by the adversary (two copies of it for twins).
func (w *World) newState(id node.ID) node.Node {
	n := w.proto.New(w.cfg.Cluster, id)
	t := w.traitor(id)
	if t == nil {
		return n
	}
	b := &byzNode{w: w, t: t, twins: [2]node.Node{n}}
	if t.sides != nil {
		b.twins[1] = w.proto.New(w.cfg.Cluster, id)
	}
	return b
}

// byzNode is a Byzantine node: the protocol's correct code, whose messages go through the
// adversary. With twins it holds two instances of that code under one identity: each peer
// talks to the twin on its side of the split, and each twin reaches only its own side.
type byzNode struct {
	w     *World
	t     *traitor
	twins [2]node.Node // twins[1] is nil without twins
}

// twinPrefix namespaces the second twin's timers and storage keys.
const twinPrefix = "twin~"

// selfMsg is a twin's message to its own identity, tagged so that it comes back to the twin
// that sent it.
type selfMsg struct {
	Twin int
	Msg  node.Message
}

func (b *byzNode) env(parent node.Env, twin int) node.Env {
	return &byzEnv{Env: parent, w: b.w, t: b.t, twin: twin}
}

func (b *byzNode) Start(env node.Env) {
	for i, n := range b.twins {
		if n != nil {
			n.Start(b.env(env, i))
		}
	}
}

func (b *byzNode) Receive(env node.Env, from node.ID, m node.Message) {
	i := 0
	if b.twins[1] != nil {
		if sm, ok := m.(selfMsg); ok && from == b.t.id {
			i, m = sm.Twin, sm.Msg
		} else if from != b.t.id {
			i = b.w.side(b.t, from)
		}
	}
	b.twins[i].Receive(b.env(env, i), from, m)
}

func (b *byzNode) Timer(env node.Env, name string) {
	if inner, ok := strings.CutPrefix(name, twinPrefix); ok && b.twins[1] != nil {
		b.twins[1].Timer(b.env(env, 1), inner)
		return
	}
	b.twins[0].Timer(b.env(env, 0), name)
}

// Request goes to one of the twins, drawn (choice zero: the first), so that the twins can
// come to hold different requests.
func (b *byzNode) Request(env node.Env, req node.Request) {
	i := 0
	if b.twins[1] != nil {
		i = b.w.choose.Choose(Adversary, 2)
	}
	b.twins[i].Request(b.env(env, i), req)
}

func (b *byzNode) String() string {
	if b.twins[1] != nil {
		return fmt.Sprintf("byzantine twins {%s} {%s}", Describe(b.twins[0], 600), Describe(b.twins[1], 600))
	}
	return fmt.Sprintf("byzantine {%s}", Describe(b.twins[0], 600))
}

// byzEnv is the Env of a Byzantine node's correct code: what it sends and replies goes
// through the adversary; everything else passes to the world (namespaced for the second twin).
type byzEnv struct {
	node.Env
	w    *World
	t    *traitor
	twin int
}

func (e *byzEnv) Send(to node.ID, m node.Message) {
	w := e.w
	w.env.effect()
	if to < 1 || int(to) > len(w.ids) {
		panic(fmt.Sprintf("node %d sent %s to unknown node %d", e.t.id, Summary(m), to))
	}
	if m == nil {
		panic(fmt.Sprintf("node %d sent a nil message to node %d: a message must be a value of the protocol's own type", e.t.id, to))
	}
	switch {
	case to == e.t.id && e.t.sides != nil:
		w.send(to, to, selfMsg{Twin: e.twin, Msg: m})
	case to == e.t.id:
		w.send(to, to, m)
	case e.t.sides != nil && w.side(e.t, to) != e.twin:
		// The other twin's part of the network: this twin cannot reach it.
	default:
		w.betray(e.t, to, m)
	}
}

func (e *byzEnv) Broadcast(m node.Message) {
	for _, to := range e.w.ids {
		if to != e.t.id {
			e.Send(to, m)
		}
	}
}

// Reply answers a client through the adversary too: a silent node does not answer, and a
// mutating one may change the result.
func (e *byzEnv) Reply(req node.Request, result any) {
	w, b := e.w, &e.w.profile.Byzantine
	if b.Silent {
		w.env.effect()
		w.fault(KindSilent)
		w.record(Mutation, e.t.id, 0, req.Client, act{"silent: withholds reply", result})
		return
	}
	if b.Mutate > 0 && w.choose.Flip(Adversary, b.Mutate) {
		if v, name, ok := w.bend(e.t, result); ok {
			w.fault(KindMutate)
			w.record(Mutation, e.t.id, 0, req.Client, act{"mutate (" + name + "): reply " + Summary(result) + " ->", v})
			result = v
		}
	}
	e.Env.Reply(req, result)
}

func (e *byzEnv) key(k string) string {
	if e.twin == 1 {
		return twinPrefix + k
	}
	return k
}

func (e *byzEnv) SetTimer(name string, min, max time.Duration) { e.Env.SetTimer(e.key(name), min, max) }
func (e *byzEnv) CancelTimer(name string)                      { e.Env.CancelTimer(e.key(name)) }
func (e *byzEnv) Store(key string, v any)                      { e.Env.Store(e.key(key), v) }
func (e *byzEnv) Load(key string) (any, bool)                  { return e.Env.Load(e.key(key)) }
