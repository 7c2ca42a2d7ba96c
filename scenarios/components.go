package scenarios

import (
	"errors"
	"slices"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// The scenarios of the component stacks (protocols/multipaxos, protocols/crdt): each puts a
// stack in the situation one of its components' seeded bugs needs, in runs short enough that
// a campaign of 20,000 seeds stays within two minutes on two cores.
// They are the stacks' own: the other protocols have other scenarios for crashes and delays,
// and their coverage in these was never asked for.
func init() {
	RegisterScenario(
		&Scenario{Name: "leader-churn", Needs: aStack,
			Summary: "crashes and isolations that outlast failure detection, often: leaders change hands while slots are open",
			Profile: func(t node.Timing) sim.Profile {
				d := delays(t)
				d.TailProb = 0.05
				return sim.Profile{Delay: d, Reorder: true, FaultEvery: t.Settle / 6, Down: t.Settle / 2,
					Crash: 2, Isolate: 2, Split: 1, StepCrash: 0.03, MaxDown: -1}
			},
			Faults: 6, Liveness: 10},
		&Scenario{Name: "brief", Needs: aStack,
			Summary: "a perfect network, healed after a fifth of a settle time: judges the liveness properties early, in short runs",
			Profile: func(t node.Timing) sim.Profile { return sim.Profile{Delay: delays(t)} },
			Faults:  0.2, Liveness: 4},
		&Scenario{Name: "slow-commits", Needs: aStack,
			Summary: "no crashes, but a long delay tail on many messages: clients time out and ask again while their command is on its way",
			Profile: func(t node.Timing) sim.Profile {
				d := delays(t)
				d.TailProb, d.Tail = 0.2, 30*t.Delay
				return sim.Profile{Delay: d, Reorder: true}
			},
			Faults: 1.5, Liveness: 4},
		&Scenario{Name: "crash-heavy", Needs: aStack,
			Summary: "crashes that outlast failure detection, and little else: the first leader is often down when faults heal",
			Profile: func(t node.Timing) sim.Profile {
				return sim.Profile{Delay: delays(t), FaultEvery: t.Settle / 4, Down: 3 * t.Settle, Crash: 1, MaxDown: -1}
			},
			// A long liveness phase: a client whose retries keep drawing the node that is down
			// for good needs several tries to reach one that is up.
			Faults: 1, Liveness: 8},
	)
}

// What multipaxos does not reach in the scenarios that do not aim at it, and why, said for
// multipaxos alone ("protocol/name", see Scenario.Unreachable).
const (
	noGap        = "a no-op fills a slot a deposed leader left open: it needs a leader change with a slot proposed and not chosen, which leader-churn's isolations give"
	noSuspicion  = "no crash, isolation or delay outlasts the detector's timeout, so it never suspects a live peer"
	noLoss       = "a perfect network loses nothing that a retransmission would deliver"
	mpNoop       = "multipaxos/log/noop-committed"
	mpSuspicion  = "multipaxos/log/omega/fd/false-suspicion-corrected"
	mpRetransmit = "multipaxos/log/paxos/links/retransmission-delivered"
)

func init() {
	unreached := map[string]map[string]string{
		"calm":          {mpNoop: noGap, mpSuspicion: noSuspicion, mpRetransmit: noLoss},
		"brief":         {mpNoop: noGap, mpSuspicion: noSuspicion, mpRetransmit: noLoss},
		"slow-commits":  {mpNoop: noGap, mpSuspicion: "the delay tail stays below the detector's timeout"},
		"crash-restart": {mpNoop: noGap},
		"lossy-crash":   {mpNoop: noGap},
		"crash-heavy":   {mpNoop: noGap},
	}
	for name, why := range unreached {
		sc, err := Lookup(name)
		if err != nil {
			panic(err)
		}
		if sc.Unreached == nil {
			sc.Unreached = map[string]string{}
		}
		for k, v := range why {
			sc.Unreached[k] = v
		}
	}
}

// aStack lets in the protocols the scenarios above are for: any stack of components (of the
// component library's or another module's), and the library's components run alone (fd,
// omega, links, gossip, each a node.Protocol of its own in their tests).
func aStack(p *node.Protocol) error {
	if len(p.Components) > 0 || slices.Contains(components, p.Name) {
		return nil
	}
	return errors.New("it is for stacks of components (node.Compose with sub-components)")
}

var components = []string{"fd", "omega", "links", "gossip"}
