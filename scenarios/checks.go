package scenarios

import (
	"errors"
	"fmt"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// Checks are what a scenario demands of a run beyond the protocol's invariants: they become
// the checkers (package checker) that run beside the simulator. Every run of a spec gets
//
//   - linearizability of its client history, when the protocol's workload names a model
//     ("register", "kv");
//   - memory bounds: the protocol's MaxSize (or the scenario's), and bounds on the messages
//     in flight to a node and on its armed timers;
//   - liveness after healing, when the scenario has a liveness phase: progress, and the
//     protocol's liveness properties ("eventually" and "eventually always"); a scenario
//     without a liveness phase judges none of them;
//   - the fault-phase watchdog, when the scenario promises progress under its faults;
//   - convergence of the protocol's eventually consistent objects, when it declares some;
//   - the scenario's own sometimes-properties, beside the protocol's.
type Checks struct {
	// Watchdog, in units of the protocol's Settle time, is how long the protocol may make no
	// progress during the fault phase while work is pending; zero for scenarios whose faults
	// may stop progress (most: a partition can leave no quorum).
	Watchdog float64
	// MaxSize replaces the protocol's bound on a node's state size; MaxInFlight and
	// MaxTimers bound the messages in flight to a node and its armed timers. nil means the
	// protocol's MaxSize and the defaults below.
	MaxSize, MaxInFlight, MaxTimers func(cfg node.Config) int
	// Sometimes are the scenario's sometimes-properties (what its faults must make happen
	// at least once in a campaign, a leader elected while links are cut, say), counted
	// beside the protocol's.
	Sometimes []node.Sometimes
}

// Default bounds on the messages in flight to a node (per peer: n times this in all) and on
// its armed timers: far above what a healthy protocol needs, low enough to stop a message
// storm or a timer leak long before it exhausts the machine.
const (
	DefaultMaxInFlightPerPeer = 1000
	DefaultMaxTimers          = 64
)

// monitors are the checkers of the spec's runs, in the order their verdicts take precedence
// at the end of a run: safety of the history before liveness.
func (s *Spec) monitors() []func() sim.Monitor {
	return monitors(s.Protocol, s.Scenario.Checks, s.Bounds(), s.Scenario.Liveness > 0, s.LinLimit)
}

func monitors(p *node.Protocol, c Checks, b checker.Bounds, liveness bool, linLimit time.Duration) []func() sim.Monitor {
	var ms []func() sim.Monitor
	if wl := p.Workload; wl != nil && wl.Spec != nil {
		ms = append(ms, checker.NewLinearizability(wl.Spec, linLimit))
	}
	ms = append(ms, checker.NewMemory(b))
	if c.Watchdog > 0 {
		ms = append(ms, checker.NewWatchdog(scale(p.Timing, c.Watchdog), p.Advance))
	}
	if len(c.Sometimes) > 0 {
		ms = append(ms, checker.NewSometimes(c.Sometimes))
	}
	if len(p.Convergence) > 0 {
		ms = append(ms, checker.NewConvergence(p.Convergence))
	}
	if liveness {
		ms = append(ms, checker.NewLiveness)
	}
	return ms
}

// Checked returns a hand-built simulator configuration with every check its protocol
// declares: the linearizability of the history against the workload's Spec, the memory bounds
// (MaxSize and the defaults for messages in flight and timers) and, when cfg has a liveness
// phase, liveness after healing; its own Monitors run beside them. It refuses a configuration
// that would check nothing: an invalid protocol, a cluster outside what the protocol supports,
// a fault phase of no length, or a bound on the state (MaxSize) that it could not check (see
// checkSizer). A configuration built from a Spec needs none of this:
// Spec.Config already has it all.
func Checked(cfg sim.Config) (sim.Config, error) {
	p := cfg.Protocol
	if p == nil {
		return cfg, errors.New("the configuration has no protocol")
	}
	if err := Validate(p); err != nil {
		return cfg, err
	}
	if n := cfg.Cluster.N; n < p.MinN || n > MaxNodes {
		return cfg, fmt.Errorf("a cluster of %d nodes: protocol %s needs between %d and %d", n, p.Name, p.MinN, MaxNodes)
	}
	if bug := cfg.Cluster.Bug; bug != "" {
		if _, ok := p.Bug(bug); !ok {
			return cfg, fmt.Errorf("unknown bug %q for protocol %s (known: %s)", bug, p.Name, bugNames(p))
		}
	}
	if cfg.Faults <= 0 {
		return cfg, errors.New("Faults is zero: a run of no length checks nothing")
	}
	if err := checkMaxSize(p, cfg.Cluster); err != nil {
		return cfg, err
	}
	b := checker.Bounds{InFlight: DefaultMaxInFlightPerPeer * cfg.Cluster.N, Timers: DefaultMaxTimers}
	if p.MaxSize != nil {
		b.State = p.MaxSize(cfg.Cluster)
	}
	own := cfg.Monitors
	cfg.Monitors = append(monitors(p, Checks{}, b, cfg.Liveness > 0, 0), own...)
	return cfg, nil
}

// Bounds are the memory bounds of the spec's runs.
func (s *Spec) Bounds() checker.Bounds {
	c, cfg := s.Scenario.Checks, s.Cluster
	b := checker.Bounds{InFlight: DefaultMaxInFlightPerPeer * cfg.N, Timers: DefaultMaxTimers}
	switch {
	case c.MaxSize != nil:
		b.State = c.MaxSize(cfg)
	case s.Protocol.MaxSize != nil:
		b.State = s.Protocol.MaxSize(cfg)
	}
	if c.MaxInFlight != nil {
		b.InFlight = c.MaxInFlight(cfg)
	}
	if c.MaxTimers != nil {
		b.Timers = c.MaxTimers(cfg)
	}
	return b
}

// Sometimes lists the sometimes-properties of the spec's runs: the protocol's, then the
// scenario's.
func (s *Spec) Sometimes() []node.Sometimes {
	return append(append([]node.Sometimes(nil), s.Protocol.Sometimes...), s.Scenario.Checks.Sometimes...)
}

// EnabledFaults lists the fault kinds the spec's profile can fire. Under swarm, where each
// seed draws its own profile, it is every kind some seed may draw.
func (s *Spec) EnabledFaults() []sim.Kind {
	p := s.Scenario.Profile(s.Protocol.Timing)
	if s.Scenario.Swarm {
		p = sim.Swarm(everyFault{}, p)
	}
	// Storage faults the protocol does not survive never fire (sim.Unfireable says so up front).
	return sim.WithinTolerance(p, s.Protocol).Enabled()
}

// everyFault draws the swarm profile with every fault kind on, at its highest rate.
type everyFault struct{}

func (everyFault) Choose(_ sim.Purpose, n int) int    { return n - 1 }
func (everyFault) Flip(_ sim.Purpose, _ float64) bool { return true }
