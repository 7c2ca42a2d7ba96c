package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// pinger is a tiny sub-protocol: on its timer it sends "ping" to node 2, and it outputs
// every ping it receives. Two of them run side by side inside one composite node, with the
// same timer name and the same message: only the framework's namespaces keep them apart.
type pinger struct{ got int }

func (p *pinger) start(env node.Env) { env.SetTimer("tick", 5*time.Millisecond, 5*time.Millisecond) }
func (p *pinger) timer(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, "ping")
	}
}
func (p *pinger) receive(env node.Env, m node.Message) {
	p.got++
	env.Output(p.got)
}

// pair composes two pingers, "a" and "b"; b's outputs come up to the pair, which counts them.
type pair struct {
	a, b  pinger
	fromB int
}

func (p *pair) envs(env node.Env) (node.Env, node.Env) {
	return node.Sub(env, "a", nil), node.Sub(env, "b", func(v any) { p.fromB++ })
}

func (p *pair) Start(env node.Env) {
	a, b := p.envs(env)
	p.a.start(a)
	p.b.start(b)
}

func (p *pair) Timer(env node.Env, name string) {
	a, b := p.envs(env)
	switch sub, _, _ := node.RouteTimer(name); sub {
	case "a":
		p.a.timer(a)
	case "b":
		p.b.timer(b)
	}
}

func (p *pair) Receive(env node.Env, from node.ID, m node.Message) {
	a, b := p.envs(env)
	switch sub, inner, _ := node.Route(m); sub {
	case "a":
		p.a.receive(a, inner)
	case "b":
		p.b.receive(b, inner)
	}
}

func (p *pair) Request(node.Env, node.Request) {}

func TestComposedSubProtocolsStayApart(t *testing.T) {
	proto := &node.Protocol{Name: "pair", New: func(node.Config, node.ID) node.Node { return &pair{} },
		DefaultN: 2, Timing: node.Timing{Delay: time.Millisecond}}
	cfg := Config{Protocol: proto, Cluster: node.Config{N: 2}, Profile: Profile{Delay: Delay{Min: time.Millisecond}},
		Faults: 20 * time.Millisecond}
	w, r := Simulate(cfg, NewSeeded(1))
	if r.Violation != nil {
		t.Fatal(r.Violation)
	}
	var outs []string
	for _, o := range w.Outputs() {
		outs = append(outs, fmt.Sprintf("n%d:%v", o.Node, o.Value))
	}
	n2 := w.State(2).(*pair)
	if n2.a.got == 0 || n2.a.got != n2.b.got {
		t.Errorf("the two sub-protocols received %d and %d pings: their traffic mixed", n2.a.got, n2.b.got)
	}
	if n2.fromB != n2.b.got {
		t.Errorf("b's outputs did not come up to the parent: %d of %d", n2.fromB, n2.b.got)
	}
	if len(outs) != n2.a.got { // only a's outputs reach the world
		t.Errorf("world outputs %v: want only sub-protocol a's %d", outs, n2.a.got)
	}
}
