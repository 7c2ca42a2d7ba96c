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

// mapGossip is a protocol with a classic mistake: on its timer it sends a message about the
// first entry of a Go map, and Go randomizes map iteration order. Its runs are not a function
// of their choices.
type mapGossip struct{ seen map[string]bool }

func (g *mapGossip) Start(env node.Env) {
	g.seen = map[string]bool{"a": true, "b": true, "c": true, "d": true, "e": true, "f": true}
	if env.Self() == 1 {
		env.SetTimer("tell", time.Millisecond, time.Millisecond)
	}
}

func (g *mapGossip) Timer(env node.Env, name string) {
	for k := range g.seen { // the mistake: the first key is a different one each time
		env.Send(2, k)
		break
	}
}

func (g *mapGossip) Receive(node.Env, node.ID, node.Message) {}
func (g *mapGossip) Request(node.Env, node.Request)          {}

var mapGossipProtocol = &node.Protocol{Name: "map-gossip", DefaultN: 2, MinN: 2,
	New: func(node.Config, node.ID) node.Node { return &mapGossip{} }}

// TestExplorerCatchesMapOrder: the explorer re-applies sampled steps (the initial state's
// among them) and a step whose successor differs between two tries is reported by name.
func TestExplorerCatchesMapOrder(t *testing.T) {
	u := sim.NewUntimed(mapGossipProtocol, node.Config{N: 2}, sim.UntimedOptions{})
	caught := false
	for try := 0; try < 20 && !caught; try++ { // a map's order can repeat by chance
		_, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
		if err != nil {
			if !strings.Contains(err.Error(), "not deterministic") || !strings.Contains(err.Error(), "timer n1 tell") {
				t.Fatalf("the error does not say which step is nondeterministic: %v", err)
			}
			caught = true
			t.Log(err)
		}
	}
	if !caught {
		t.Fatal("a protocol that lets Go map order reach its messages was explored without complaint")
	}
}
