package checker

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// toy is a protocol for testing checkers: node 1 ticks every 10ms; what a tick does is up to
// the test (nothing, arm one more timer, start a message storm). A quiet toy never ticks.
type toy struct {
	ticks int
	leak  string // "", "timers", "storm" or "quiet"
}

type spark struct{}

func (t *toy) Start(env node.Env) {
	if env.Self() == 1 && t.leak != "quiet" {
		env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
	}
}

func (t *toy) Receive(env node.Env, from node.ID, m node.Message) {
	if t.leak == "storm" { // every message begets two
		env.Send(from, spark{})
		env.Send(from, spark{})
	}
}

func (t *toy) Timer(env node.Env, name string) {
	if name != "tick" {
		return
	}
	t.ticks++
	switch t.leak {
	case "timers": // a timer per tick that nobody cancels
		env.SetTimer(fmt.Sprintf("forgotten-%d", t.ticks), time.Hour, time.Hour)
	case "storm":
		env.Broadcast(spark{})
	}
	env.SetTimer("tick", 10*time.Millisecond, 10*time.Millisecond)
}

func (t *toy) Request(env node.Env, req node.Request) { env.Reply(req, req.Op) }

func toyProtocol(leak string) *node.Protocol {
	return &node.Protocol{
		Name: "toy", New: func(node.Config, node.ID) node.Node { return &toy{leak: leak} },
		DefaultN: 3, MinN: 1, Quorum: func(n int) int { return n/2 + 1 },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 50 * time.Millisecond},
	}
}

func toyConfig(p *node.Protocol, monitors ...func() sim.Monitor) sim.Config {
	return sim.Config{Protocol: p, Cluster: node.Config{N: 3},
		Profile:  sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: time.Millisecond}},
		Faults:   100 * time.Millisecond,
		Monitors: monitors}
}
