package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// hooked is a node whose state may hold a callback, and a box of anything.
type hooked struct {
	Sent   int
	OnSend func()
	Box    any
}

func (h *hooked) Start(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, "hello")
	}
}
func (h *hooked) Receive(node.Env, node.ID, node.Message) { h.Sent++ }
func (h *hooked) Timer(node.Env, string)                  {}
func (h *hooked) Request(node.Env, node.Request)          {}

func hookedProtocol(newNode func() *hooked) *node.Protocol {
	return &node.Protocol{Name: "hooked", DefaultN: 2, MinN: 2,
		New:     func(node.Config, node.ID) node.Node { return newNode() },
		Quorum:  func(n int) int { return n },
		Timing:  node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		Explore: node.Explore{Crashes: 1}}
}

// A node state that is not a plain value is refused by campaigns in the timed world as by
// explore in the untimed one, with the same property and message, at boot: the drivers
// reach the same verdict. A nil func, and an interface holding a plain value, are plain.
func TestBothWorldsRefuseANodeStateThatIsNotPlain(t *testing.T) {
	for _, c := range []struct {
		name  string
		node  func() *hooked
		plain bool
	}{
		{"func", func() *hooked { return &hooked{OnSend: func() {}} }, false},
		{"chan in an interface", func() *hooked { return &hooked{Box: make(chan int)} }, false},
		{"nil func", func() *hooked { return &hooked{} }, true},
		{"plain value in an interface", func() *hooked { return &hooked{Box: []int{1, 2}} }, true},
	} {
		p := hookedProtocol(c.node)
		timed := sim.Run(sim.Config{Protocol: p, Cluster: node.Config{N: 2}, Faults: 50 * time.Millisecond,
			Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: time.Millisecond}}}, sim.NewSeeded(1))
		u := sim.NewUntimed(p, node.Config{N: 2}, sim.UntimedOptions{Crashes: 1})
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
		if err != nil {
			t.Fatalf("%s: explore: %v", c.name, err)
		}
		if c.plain {
			if timed.Violation != nil || r.Violation != nil {
				t.Errorf("%s: a plain state was refused: timed %v, untimed %v", c.name, timed.Violation, r.Violation)
			}
			continue
		}
		if timed.Violation == nil || r.Violation == nil {
			t.Fatalf("%s: timed %v, untimed %v; want both to refuse it", c.name, timed.Violation, r.Violation)
		}
		why := u.Why(u.Init()[0], r.Violation.Property)
		if timed.Violation.Property != sim.PropValue || r.Violation.Property != sim.PropValue ||
			!strings.Contains(timed.Violation.Message, "node states and messages must be plain values") ||
			timed.Violation.Message != why {
			t.Errorf("%s: timed %s %q; untimed %s %q", c.name, timed.Violation.Property, timed.Violation.Message, r.Violation.Property, why)
		}
	}
}
