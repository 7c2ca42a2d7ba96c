package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/abd"
	"github.com/replica-io/replica/protocols/bracha"
	"github.com/replica-io/replica/protocols/crdt"
	"github.com/replica-io/replica/protocols/etcdraft"
	"github.com/replica-io/replica/protocols/multipaxos"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/protocols/pbft"
	"github.com/replica-io/replica/protocols/raft"
	"github.com/replica-io/replica/protocols/twophase"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// The reference protocols, registered like any user's, in the order `replica list` shows them.
func init() {
	for _, p := range []*node.Protocol{paxos.Protocol, abd.Protocol, bracha.Protocol, pbft.Protocol, raft.Protocol, etcdraft.Protocol, multipaxos.Protocol, crdt.Protocol} {
		Register(p)
	}
}

// Scenario is a named way to run a protocol: its fault profile and phases, scaled by the
// protocol's timing.
type Scenario struct {
	Name    string
	Summary string
	// Profile builds the fault profile from the protocol's timing.
	Profile func(t node.Timing) sim.Profile
	// Swarm lets each seed draw its own profile around Profile, and for a protocol named in
	// SwarmParams, the protocol parameters listed there (see sim.ParamDraw): the features a
	// protocol has a sometimes-property for are drawn on in some seeds and off in others.
	// Parameters that the memory bounds depend on are not to be drawn.
	Swarm       bool
	SwarmParams map[string][]sim.ParamDraw
	// Unreached names the sometimes-properties the scenario does not mean to reach, each
	// with the reason (a feature it leaves off, a fault it never injects); summaries say so
	// instead of NEVER, and the coverage check (see scenarios/campaign) expects them unreached.
	// A key "protocol/name" says it of one protocol only (see Unreachable).
	Unreached map[string]string
	// Faults is the length of the fault phase, and Liveness the bound on progress after
	// healing (zero: no liveness phase), in units of the protocol's Settle time.
	Faults, Liveness float64
	// N is the cluster size the scenario needs, 0 for the protocol's default.
	N int
	// For restricts the scenario to some protocols; empty means every protocol.
	For []string
	// Needs, when not nil, is what a protocol must declare for the scenario to apply (a
	// tolerance, say): nil if the protocol has it, else what it lacks. Unlike For, it lets
	// a protocol of another module in.
	Needs func(p *node.Protocol) error
	// Checks are what the scenario demands beyond the protocol's own properties (see Checks).
	Checks Checks
	// F is the number of Byzantine nodes when the command line does not set one: AllF for
	// as many as the protocol tolerates. ExceedF says the scenario means to break the
	// protocol's fault threshold (to show what the threshold protects): it runs one Byzantine
	// node more than tolerated, and -f may go beyond the threshold too.
	F       int
	ExceedF bool
	// Params are protocol knobs the scenario sets (node.Config.Params), such as membership
	// churn for Raft; a protocol ignores knobs it does not know.
	Params map[string]int
	// MaxEvents raises the simulator's event budget for long scenarios (0: the default).
	MaxEvents int
}

// Applies reports whether the scenario can run protocol p.
func (s *Scenario) Applies(p *node.Protocol) bool { return s.Fits(p) == nil }

// Fits is nil if the scenario can run protocol p, else why not.
func (s *Scenario) Fits(p *node.Protocol) error {
	if s.Needs != nil {
		if err := s.Needs(p); err != nil {
			return err
		}
	}
	if len(s.For) == 0 || slices.Contains(s.For, p.Name) {
		return nil
	}
	return fmt.Errorf("it is for %s only", strings.Join(s.For, ", "))
}

// DefaultScenario is what `replica run` uses when neither a scenario nor a bug names one.
const DefaultScenario = "default"

// delays is the network every scenario starts from: mostly around the protocol's typical
// delay, with a long tail.
func delays(t node.Timing) sim.Delay {
	return sim.Delay{Min: t.Delay / 5, Typical: t.Delay, Tail: 20 * t.Delay}
}

// mixed is the everyday profile: every fault kind on, at moderate rates, within the
// protocol's assumptions (no more nodes down at once than it tolerates).
func mixed(t node.Timing) sim.Profile {
	d := delays(t)
	d.TailProb = 0.02
	return sim.Profile{
		Delay: d, Drop: 0.03, Duplicate: 0.03, Reorder: true,
		FaultEvery: t.Settle / 2, Down: t.Settle,
		Crash: 2, Pause: 1, Split: 1, Isolate: 1, OneWay: 1, Partial: 1,
		MaxDown: -1, Skew: 0.2,
	}
}

// swarmBase is the swarm's base profile: mixed's time scale, and the storage faults and cluster
// crashes among the kinds a seed may draw (each fires only for a protocol that declares it
// survives it, see node.Tolerance).
func swarmBase(t node.Timing) sim.Profile {
	p := mixed(t)
	p.Disk = true
	return p
}

// Reasons shared by the scenarios' Unreached lists.
const (
	noByzantine  = "no Byzantine node in this scenario (byzantine-swarm and twins have them)"
	noMembership = "membership changes and leadership transfers are off (swarm and membership-churn turn them on)"
)

// calmUnreached are the properties of a network that never misbehaves: no leader loses its
// majority or its followers' logs, nobody asks for a vote within a leader's lease, no request
// is retried.
func calmUnreached() map[string]string {
	const calm = "no faults: "
	return map[string]string{
		"byzantine-sender-delivered": noByzantine,
		"configuration-changed":      noMembership, "leadership-transferred": noMembership,
		"check-quorum-step-down": calm + "no leader loses its majority",
		"fast-backtrack":         calm + "no follower's log diverges from its leader's",
		"lease-kept-leader":      calm + "no server asks for a vote while a leader holds its lease",
		"retry-deduplicated":     calm + "no client request is lost and retried",
		"view-changed":           calm + "the first primary never fails",
		"state-transfer":         calm + "no replica falls behind",
	}
}

// builtin are the scenarios every protocol may run, registered first.
var builtin = []*Scenario{
	{Name: "default", Summary: "every fault kind at moderate rates, then healing and a liveness check",
		Profile: mixed, Faults: 6, Liveness: 10,
		Unreached: map[string]string{"byzantine-sender-delivered": noByzantine,
			"configuration-changed": noMembership, "leadership-transferred": noMembership}},
	{Name: "crash-restart", Summary: "frequent crashes and restarts from durable state, lossy network",
		Profile: func(t node.Timing) sim.Profile {
			// Quick reboots, often, and right after steps: a node that crashes between two
			// messages of one exchange and is back before the next is what exposes state
			// that should have been durable.
			d := delays(t)
			d.TailProb = 0.1
			return sim.Profile{Delay: d, Drop: 0.05, Duplicate: 0.1, Reorder: true,
				FaultEvery: t.Settle / 15, Down: t.Settle / 150, Crash: 1, StepCrash: 0.05, MaxDown: -1}
		},
		Faults: 6, Liveness: 10,
		Unreached: map[string]string{"byzantine-sender-delivered": noByzantine,
			"configuration-changed": noMembership, "leadership-transferred": noMembership,
			// Raft's leaders, with a crash every fifteenth of its settle time, do not last
			// long enough for these.
			"check-quorum-step-down": "a crash every few heartbeats: leaders crash before they can lose a majority",
			"fast-backtrack":         "a crash every few heartbeats: no leader lasts long enough to meet a follower a whole term behind",
			// etcd raft compacts its log at a lower threshold, and does reach it here.
			"raft/log-compacted":      "a crash every few heartbeats: the log never grows to a snapshot's threshold",
			"raft/snapshot-installed": "a crash every few heartbeats: the log never grows to a snapshot's threshold"}},
	{Name: "swarm", Summary: "each seed draws which faults are on and how often (swarm testing), and which protocol features",
		Profile: swarmBase, Swarm: true, Faults: 6, Liveness: 10, SwarmParams: swarmParams,
		Unreached: map[string]string{"byzantine-sender-delivered": "a crash-fault swarm: byzantine-swarm draws Byzantine nodes"}},
	{Name: "lossy-crash", Summary: "a very lossy network and frequent short crashes: operations left half done",
		Profile: func(t node.Timing) sim.Profile {
			return sim.Profile{Delay: delays(t), Drop: 0.4, Reorder: true,
				FaultEvery: t.Settle / 20, Down: t.Settle / 30, Crash: 1, MaxDown: -1}
		},
		Faults: 6, Liveness: 10,
		Unreached: map[string]string{"byzantine-sender-delivered": noByzantine,
			"configuration-changed": noMembership, "leadership-transferred": noMembership}},
	{Name: "calm", Summary: "a perfect network and no faults: the protocol's happy path",
		Profile: func(t node.Timing) sim.Profile { return sim.Profile{Delay: delays(t)} },
		Faults:  2, Liveness: 5,
		Unreached: calmUnreached()},
}

// scale turns a multiple of the protocol's settle time into a duration.
func scale(t node.Timing, x float64) time.Duration {
	return time.Duration(x * float64(t.Settle))
}

// TwoPhase is two-phase commit after Lamport's TwoPhase.tla, the plain model `replica explore`
// is measured against SPIN with.
func init() {
	RegisterModel(&Model{Name: "twophase", DefaultN: 3,
		Summary: "two-phase commit as in Lamport's TwoPhase.tla, a plain model (replica explore only; -n resource managers)",
		New: func(n int) (explore.Erased, error) {
			m, err := twophase.New(n)
			if err != nil {
				return nil, err
			}
			return explore.Erase(explore.Model[twophase.State](m), m.Format), nil
		}})
}

// TwoPhase satisfies the explorer's interfaces without importing them; these lines make the
// compiler check that it still does.
var (
	_ explore.Model[twophase.State]          = (*twophase.Model)(nil)
	_ explore.SymmetricModel[twophase.State] = (*twophase.Model)(nil)
	_ explore.ProgressModel[twophase.State]  = (*twophase.Model)(nil)
	_ explore.LabeledModel[twophase.State]   = (*twophase.Model)(nil)
)

// Unreachable says whether the scenario does not mean protocol to reach the sometimes-property
// name, and why: a reason given for that protocol ("protocol/name") or for every one.
func (s *Scenario) Unreachable(protocol, name string) (string, bool) {
	if why, ok := s.Unreached[protocol+"/"+name]; ok {
		return why, true
	}
	why, ok := s.Unreached[name]
	return why, ok
}
