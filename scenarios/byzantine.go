package scenarios

import (
	"errors"
	"fmt"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// AllF is a scenario's F when it runs with as many Byzantine nodes as the protocol tolerates.
const AllF = -1

// byzantine is the number of Byzantine nodes the scenario runs protocol p with, in a cluster
// of n, when the command line does not say.
func (s *Scenario) byzantine(p *node.Protocol, n int) int {
	if s.F == 0 || p.MaxFaulty == nil {
		return 0
	}
	if s.F != AllF {
		return s.F
	}
	f := p.MaxFaulty(n)
	if s.ExceedF {
		f++
	}
	return f
}

// enoughNodes says how many nodes f Byzantine ones need, for an error message.
func enoughNodes(p *node.Protocol, f int) string {
	for n := p.MinN; n <= 64; n++ {
		if p.MaxFaulty(n) >= f {
			return fmt.Sprintf(" (f=%d needs n >= %d)", f, n)
		}
	}
	return ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// bft lets into the Byzantine scenarios the protocols that declare how many Byzantine nodes
// they tolerate (node.Protocol.MaxFaulty), of any module.
func bft(p *node.Protocol) error {
	if p.MaxFaulty == nil {
		return errors.New("it needs a Byzantine fault-tolerant protocol (node.Protocol.MaxFaulty)")
	}
	return nil
}

// seqMutating lets into byzantine-primary the Byzantine fault-tolerant protocols with a
// mutator named "seq", which the scenario's primary uses.
func seqMutating(p *node.Protocol) error {
	if err := bft(p); err != nil {
		return err
	}
	for _, m := range p.Mutators {
		if m.Name == "seq" {
			return nil
		}
	}
	return errors.New(`it bumps sequence numbers: it needs a mutator named "seq" (node.Protocol.Mutators)`)
}

// The Byzantine scenarios: the adversary's strategies (see sim.Byzantine) on top of network
// faults.
func init() {
	RegisterScenario(
		&Scenario{Name: "byzantine-swarm",
			Summary: "f Byzantine nodes, each seed drawing their strategies and rates, over a swarm of network faults",
			Profile: func(t node.Timing) sim.Profile {
				p := mixed(t)
				p.Byzantine = sim.Byzantine{Swarm: true}
				return p
			},
			Swarm: true, F: AllF, Faults: 6, Liveness: 10, Needs: bft},
		&Scenario{Name: "twins",
			Summary: "one node runs as twins: two correct instances under one identity, each reaching its own part of the network",
			Profile: func(t node.Timing) sim.Profile {
				return sim.Profile{Delay: delays(t),
					Byzantine: sim.Byzantine{Twins: true, TwinsEvery: t.Settle / 2}}
			},
			F: 1, N: 4, Faults: 4, Liveness: 10, Needs: bft},
		&Scenario{Name: "byzantine-primary",
			Summary: "the first primary is Byzantine: it bumps sequence numbers (ByzzFuzz's small-scope mutation) and replays what it sent",
			Profile: func(t node.Timing) sim.Profile {
				return sim.Profile{Delay: delays(t), Reorder: true,
					Byzantine: sim.Byzantine{Nodes: []node.ID{1}, Mutate: 0.3, Replay: 0.5, Mutators: []string{"seq"}}}
			},
			F: 1, Faults: 3, Liveness: 5, Needs: seqMutating},
		&Scenario{Name: "beyond-threshold",
			Summary: "one Byzantine node more than the protocol tolerates: shows what its fault threshold protects",
			Profile: func(t node.Timing) sim.Profile {
				p := sim.Profile{Delay: delays(t), Reorder: true}
				p.Byzantine = sim.Byzantine{Swarm: true}
				return p
			},
			F: AllF, ExceedF: true, Faults: 6, Needs: bft},
	)
}
