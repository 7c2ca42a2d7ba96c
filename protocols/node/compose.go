package node

import (
	"strings"
	"time"
)

// Envelope carries a sub-protocol's message inside its parent's traffic. Path is the
// sub-protocol's name (nested sub-protocols give "outer/inner").
type Envelope struct {
	Path string
	Msg  Message
}

// Sub returns the Env of the sub-protocol called name inside a node whose Env is parent.
// The framework keeps the two apart: the sub-protocol's messages travel in Envelopes with its
// name, and its timers and storage keys are prefixed with "name/", so a parent composes
// sub-protocols without multiplexing by hand. Outputs of the sub-protocol go to up, the
// parent's handler (a delivery of the broadcast below, say); with a nil up they go to the
// world, as the parent's own outputs.
//
// The parent routes what arrives with Route and RouteTimer.
func Sub(parent Env, name string, up func(v any)) Env {
	return &subEnv{Env: parent, name: name, up: up}
}

type subEnv struct {
	Env
	name string
	up   func(v any)
}

func (s *subEnv) Send(to ID, m Message) { s.Env.Send(to, Envelope{Path: s.name, Msg: m}) }
func (s *subEnv) Broadcast(m Message)   { s.Env.Broadcast(Envelope{Path: s.name, Msg: m}) }
func (s *subEnv) SetTimer(name string, min, max time.Duration) {
	s.Env.SetTimer(s.name+"/"+name, min, max)
}
func (s *subEnv) CancelTimer(name string)     { s.Env.CancelTimer(s.name + "/" + name) }
func (s *subEnv) Store(key string, v any)     { s.Env.Store(s.name+"/"+key, v) }
func (s *subEnv) Load(key string) (any, bool) { return s.Env.Load(s.name + "/" + key) }

func (s *subEnv) Output(v any) {
	if s.up != nil {
		s.up(v)
		return
	}
	s.Env.Output(v)
}

// Route splits a message received by a parent into the sub-protocol it belongs to and that
// sub-protocol's own message; ok is false for the parent's own messages.
func Route(m Message) (name string, inner Message, ok bool) {
	e, ok := m.(Envelope)
	if !ok {
		return "", nil, false
	}
	return e.Path, e.Msg, true
}

// RouteTimer splits a timer name the same way: "name/inner" belongs to sub-protocol name.
func RouteTimer(timer string) (name, inner string, ok bool) {
	return strings.Cut(timer, "/")
}
