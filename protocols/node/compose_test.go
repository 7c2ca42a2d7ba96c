package node_test

import (
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// recordEnv is an Env that records what a node does.
type recordEnv struct {
	node.Env // unused methods panic
	sent     []node.Message
	timers   []string
	stored   []string
	outputs  []any
}

func (r *recordEnv) Send(to node.ID, m node.Message) { r.sent = append(r.sent, m) }
func (r *recordEnv) Broadcast(m node.Message)        { r.sent = append(r.sent, m) }
func (r *recordEnv) SetTimer(name string, min, max time.Duration) {
	r.timers = append(r.timers, "set "+name)
}
func (r *recordEnv) CancelTimer(name string)     { r.timers = append(r.timers, "cancel "+name) }
func (r *recordEnv) Store(key string, v any)     { r.stored = append(r.stored, key) }
func (r *recordEnv) Load(key string) (any, bool) { return key, true }
func (r *recordEnv) Output(v any)                { r.outputs = append(r.outputs, v) }

func TestSubNamespacesMessagesTimersAndStorage(t *testing.T) {
	parent := &recordEnv{}
	var delivered []any
	rb := node.Sub(parent, "rb", func(v any) { delivered = append(delivered, v) })
	rb.Send(2, "echo")
	rb.Broadcast("ready")
	rb.SetTimer("retry", time.Second, time.Second)
	rb.CancelTimer("retry")
	rb.Store("log", 1)
	key, _ := rb.Load("log")
	rb.Output("delivered m")

	want := []node.Message{node.Envelope{Path: "rb", Msg: "echo"}, node.Envelope{Path: "rb", Msg: "ready"}}
	if !slices.Equal(parent.sent, want) {
		t.Errorf("sent %v, want %v", parent.sent, want)
	}
	if !slices.Equal(parent.timers, []string{"set rb/retry", "cancel rb/retry"}) {
		t.Errorf("timers %v", parent.timers)
	}
	if !slices.Equal(parent.stored, []string{"rb/log"}) || key != "rb/log" {
		t.Errorf("storage keys %v, load %v", parent.stored, key)
	}
	if len(parent.outputs) != 0 || !slices.Equal(delivered, []any{"delivered m"}) {
		t.Errorf("the sub-protocol's output went to the world (%v) instead of the parent (%v)", parent.outputs, delivered)
	}

	// Nested: a sub-protocol of a sub-protocol.
	inner := node.Sub(rb, "inner", nil)
	inner.Send(3, "x")
	got := parent.sent[len(parent.sent)-1]
	if got != (node.Envelope{Path: "rb", Msg: node.Envelope{Path: "inner", Msg: "x"}}) {
		t.Errorf("nested send %v", got)
	}
}

func TestRoute(t *testing.T) {
	name, inner, ok := node.Route(node.Envelope{Path: "rb", Msg: 7})
	if !ok || name != "rb" || inner != 7 {
		t.Errorf("Route = %q %v %v", name, inner, ok)
	}
	if _, _, ok := node.Route("plain"); ok {
		t.Error("a parent's own message routed to a sub-protocol")
	}
	tests := []struct {
		timer, name, inner string
		ok                 bool
	}{
		{"rb/retry", "rb", "retry", true},
		{"a/b/c", "a", "b/c", true},
		{"tick", "", "", false},
	}
	for _, tt := range tests {
		name, inner, ok := node.RouteTimer(tt.timer)
		if ok != tt.ok || ok && (name != tt.name || inner != tt.inner) {
			t.Errorf("RouteTimer(%q) = %q %q %v", tt.timer, name, inner, ok)
		}
	}
}
