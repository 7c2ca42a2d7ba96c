package scenarios_test

// Perfect links' progress property (links/progress) demanded that a Byzantine peer acknowledge
// what correct nodes send it; a silent Byzantine node never does, so any Byzantine protocol
// stacked over protocols/links failed byzantine-swarm ("pending: n1 holds 1 messages for n3
// unacknowledged", n3 being the Byzantine node; an outside user's Bracha over links failed 53
// of 300 seeds). Reliable delivery is owed between correct nodes only.

import (
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/links"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

type linkPinger struct{}

func (linkPinger) Start(env node.Env)                                 { env.Broadcast(LinkPing{From: env.Self()}) }
func (linkPinger) Receive(env node.Env, from node.ID, m node.Message) {}
func (linkPinger) Timer(env node.Env, name string)                    {}
func (linkPinger) Request(env node.Env, req node.Request)             {}

type LinkPing struct{ From node.ID }

func TestLinksDoNotWaitForByzantineAcks(t *testing.T) {
	root := &node.Module{Name: "pinger", New: func(node.Config, node.ID) node.Node { return linkPinger{} }}
	p := node.Compose(&node.Protocol{Name: "pinger-links", DefaultN: 4, MinN: 4,
		Quorum:    func(n int) int { return n - quorum.MaxByzantine(n) },
		MaxFaulty: quorum.MaxByzantine,
		Timing:    node.Timing{Delay: 5 * time.Millisecond, Settle: 300 * time.Millisecond},
	}, node.Part{Path: "", Module: root, Over: "links"}, node.Part{Path: "links", Module: links.Module})
	s, err := scenarios.New(p, scenarios.Options{Scenario: "byzantine-swarm"})
	if err != nil {
		t.Fatal(err)
	}
	simtest.Run(t, s, simtest.Seeds(100))
}
