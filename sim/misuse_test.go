package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/links"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// misuser makes one call of Env that has no meaning when it starts.
type misuser struct{ call func(env node.Env) }

func (m misuser) Start(env node.Env) {
	if env.Self() == 1 {
		m.call(env)
	}
}
func (misuser) Receive(node.Env, node.ID, node.Message) {}
func (misuser) Timer(node.Env, string)                  {}
func (misuser) Request(node.Env, node.Request)          {}

// A call of Env with no meaning (nothing to choose from, a nil message, an empty range of
// durations) fails the run with the call named, in both worlds, instead of being guessed at.
func TestEnvRefusesCallsWithoutMeaning(t *testing.T) {
	for _, c := range []struct {
		name, want string
		call       func(env node.Env)
	}{
		{"Choose(0)", "called Choose(0): there is nothing to choose from", func(env node.Env) { env.Choose(0) }},
		{"Choose(-2)", "called Choose(-2)", func(env node.Env) { env.Choose(-2) }},
		{"Send(nil)", "sent a nil message to node 2", func(env node.Env) { env.Send(2, nil) }},
		{"Broadcast(nil)", "sent a nil message to node 2", func(env node.Env) { env.Broadcast(nil) }},
		{"SetTimer max < min", `called SetTimer("t", 2s, 1s): want 0 <= min <= max`, func(env node.Env) { env.SetTimer("t", 2*time.Second, time.Second) }},
		{"SetTimer min < 0", `called SetTimer("t", -1s, 1s)`, func(env node.Env) { env.SetTimer("t", -time.Second, time.Second) }},
	} {
		p := &node.Protocol{Name: "misuser", DefaultN: 2, MinN: 2,
			New:     func(node.Config, node.ID) node.Node { return misuser{c.call} },
			Quorum:  func(n int) int { return n },
			Timing:  node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
			Explore: node.Explore{Crashes: 1}}
		timed := sim.Run(sim.Config{Protocol: p, Cluster: node.Config{N: 2}, Faults: 50 * time.Millisecond,
			Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: time.Millisecond}}}, sim.NewSeeded(1))
		if v := timed.Violation; v == nil || v.Property != sim.PropPanic || !strings.Contains(v.Message, c.want) {
			t.Errorf("%s, timed: violation %v, want no-panic saying %q", c.name, v, c.want)
		}
		u := sim.NewUntimed(p, node.Config{N: 2}, sim.UntimedOptions{Crashes: 1})
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
		if err != nil || r.Violation == nil || r.Violation.Property != sim.PropPanic {
			t.Fatalf("%s, untimed: %v, violation %v", c.name, err, r.Violation)
		}
		if why := u.Why(u.Init()[0], sim.PropPanic); !strings.Contains(why, c.want) {
			t.Errorf("%s, untimed: %q, want %q", c.name, why, c.want)
		}
	}
}

// A component of a stack that sends nil fails its run too: the message would travel wrapped
// (here in perfect links' DATA) and arrive as nil.
func TestAComponentsNilMessageIsRefused(t *testing.T) {
	for _, call := range []func(env node.Env){
		func(env node.Env) { env.Send(2, nil) },
		func(env node.Env) { env.Broadcast(nil) },
	} {
		p := node.Compose(&node.Protocol{Name: "nil-component", DefaultN: 2, MinN: 2,
			Quorum: func(n int) int { return n },
			Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}},
			node.Part{Module: &node.Module{Name: "m", New: func(node.Config, node.ID) node.Node { return misuser{call} }}, Over: "links"},
			node.Part{Path: "links", Module: links.Module})
		r := sim.Run(sim.Config{Protocol: p, Cluster: node.Config{N: 2}, Faults: 50 * time.Millisecond,
			Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: time.Millisecond}}}, sim.NewSeeded(1))
		if v := r.Violation; v == nil || v.Property != sim.PropPanic || !strings.Contains(v.Message, "sent a nil message") {
			t.Errorf("violation %v", v)
		}
	}
}
