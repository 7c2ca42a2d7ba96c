package links_test

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
)

type simProfile = sim.Profile

func simulate(s *scenarios.Spec, seed uint64) (*sim.World, sim.Result) {
	return sim.Simulate(s.Config(), sim.NewSeeded(seed))
}

func outputsOf[T any](w node.World) []T {
	var out []T
	for _, v := range node.Outputs[T](w) {
		out = append(out, v)
	}
	return out
}
