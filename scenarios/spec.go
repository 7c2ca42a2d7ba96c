package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// Spec is a resolved scenario: a protocol, its bug variant, the scenario and the cluster, all
// that a run needs besides its seed.
type Spec struct {
	Protocol *node.Protocol
	Bug      string
	Scenario *Scenario
	Cluster  node.Config
	// Faults overrides the scenario's fault-phase length when positive.
	Faults time.Duration
	// Clients and Ops override the protocol's workload size when positive (a shrunk
	// failure needs fewer clients).
	Clients, Ops int
	// Context is how many trace entries lead up to a violation in its report (zero: the
	// simulator's default); LinLimit the time limit of one linearizability check (zero:
	// the checker's default).
	Context  int
	LinLimit time.Duration
}

// Resolve checks a command line's choices and builds their Spec. An empty scenario means the
// one that finds bug, or the default; n and f at zero mean the scenario's or protocol's.
func Resolve(protocol, bug, scenario string, n, f int) (*Spec, error) {
	p, err := Protocol(protocol)
	if err != nil {
		return nil, err
	}
	return New(p, Options{Bug: bug, Scenario: scenario, N: n, F: f})
}

// Options are a run's choices besides its protocol: the seeded bug ("" for the correct
// protocol), the scenario ("" for the one that finds Bug, else "default"), the cluster size
// and Byzantine nodes (zero: the scenario's or the protocol's), and parameters on top of the
// scenario's.
type Options struct {
	Bug, Scenario string
	N, F          int
	Params        map[string]int
}

// New builds the Spec of protocol p, registered or not: the one way every tool (the command
// line, simtest, capsules) turns a protocol and a scenario into runs, so that each run checks
// everything the protocol declares (invariants, the workload's specification, liveness,
// memory bounds) and the scenario's parameters apply. It validates p and refuses a bug p does
// not have, a scenario that does not apply to p, and a cluster outside what p supports.
func New(p *node.Protocol, o Options) (*Spec, error) {
	if err := Validate(p); err != nil {
		return nil, err
	}
	scenario := o.Scenario
	if o.Bug != "" {
		b, ok := p.Bug(o.Bug)
		if !ok {
			return nil, fmt.Errorf("unknown bug %q for protocol %s (known: %s)", o.Bug, p.Name, bugNames(p))
		}
		if scenario == "" {
			scenario = b.Scenario
		}
	}
	if scenario == "" {
		scenario = DefaultScenario
	}
	sc, err := Lookup(scenario)
	if err != nil {
		return nil, err
	}
	n := o.N
	if n == 0 {
		n = sc.N
	}
	if n == 0 {
		n = p.DefaultN
	}
	f := o.F
	if f == 0 && n >= p.MinN {
		f = sc.byzantine(p, n)
	}
	params := maps.Clone(sc.Params)
	if len(o.Params) > 0 && params == nil {
		params = map[string]int{}
	}
	maps.Copy(params, o.Params)
	s := &Spec{Protocol: p, Bug: o.Bug, Scenario: sc, Cluster: node.Config{N: n, F: f, Bug: o.Bug, Params: params}}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks a spec before it runs, however it was built: the protocol's description,
// that the bug is one of the protocol's and the scenario applies to it, and that the cluster
// is one the protocol supports (its size, and no more Byzantine nodes than it tolerates
// unless the scenario means to exceed that).
func (s *Spec) Validate() error {
	p := s.Protocol
	switch {
	case p == nil:
		return errors.New("the spec has no protocol")
	case s.Scenario == nil:
		return fmt.Errorf("the spec of protocol %s has no scenario", p.Name)
	case s.Bug != "" && s.Cluster.Bug != "" && s.Bug != s.Cluster.Bug:
		return fmt.Errorf("the spec names bug %q but its cluster runs bug %q", s.Bug, s.Cluster.Bug)
	}
	if err := Validate(p); err != nil {
		return err
	}
	if bug := s.bug(); bug != "" {
		if _, ok := p.Bug(bug); !ok {
			return fmt.Errorf("unknown bug %q for protocol %s (known: %s)", bug, p.Name, bugNames(p))
		}
	}
	if err := s.Scenario.Fits(p); err != nil {
		return fmt.Errorf("scenario %s does not apply to protocol %s: %v", s.Scenario.Name, p.Name, err)
	}
	if s.Scenario.Profile == nil {
		return fmt.Errorf("scenario %s has no fault profile", s.Scenario.Name)
	}
	if s.Scenario.Faults <= 0 && s.Faults <= 0 {
		return fmt.Errorf("scenario %s has a fault phase of no length: its runs would check nothing", s.Scenario.Name)
	}
	n, f := s.Cluster.N, s.Cluster.F
	if n < p.MinN || n > MaxNodes {
		return fmt.Errorf("-n %d: protocol %s needs between %d and %d nodes", n, p.Name, p.MinN, MaxNodes)
	}
	if f < 0 {
		return fmt.Errorf("-f %d: the number of Byzantine nodes cannot be negative", f)
	}
	if f > 0 {
		if p.MaxFaulty == nil {
			return fmt.Errorf("-f %d: protocol %s tolerates crash faults only, not Byzantine nodes", f, p.Name)
		}
		if max := p.MaxFaulty(n); f > max && !s.Scenario.ExceedF {
			return fmt.Errorf("-f %d: protocol %s with n=%d tolerates at most %d Byzantine %s%s", f, p.Name, n, max,
				plural(max, "node", "nodes"), enoughNodes(p, f))
		}
		if f >= n {
			return fmt.Errorf("-f %d: a cluster of n=%d needs at least one correct node", f, n)
		}
	}
	if err := checkMaxSize(p, s.Cluster); err != nil {
		return err
	}
	if err := s.checkBounds(); err != nil {
		return err
	}
	if p.MaxSize == nil && s.Scenario.Checks.MaxSize != nil {
		return checkSizer(p, s.Cluster, "runs under scenario "+s.Scenario.Name+", which bounds its state (Checks.MaxSize),")
	}
	return nil
}

// checkBounds computes the spec's memory bounds once, so that a bound function that panics
// (the protocol's MaxSize, the scenario's) is a one-line error of the command that resolves
// the spec rather than a crash of the whole campaign outside any run.
func (s *Spec) checkBounds() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("protocol %s: its memory bound (MaxSize) for n=%d panicked: %v", s.Protocol.Name, s.Cluster.N, r)
		}
	}()
	s.Bounds()
	return nil
}

// Variant is the seeded bug the spec runs ("" for the correct protocol): Bug, or the
// cluster's when only that is set, so that a hand-built spec never runs one variant under the
// other's name.
func (s *Spec) Variant() string { return s.bug() }

func (s *Spec) bug() string {
	if s.Bug != "" {
		return s.Bug
	}
	return s.Cluster.Bug
}

func bugNames(p *node.Protocol) string {
	if len(p.Bugs) == 0 {
		return "none"
	}
	s := ""
	for i, b := range p.Bugs {
		if i > 0 {
			s += ", "
		}
		s += b.Name
	}
	return s
}

// Config is the simulator configuration of the spec.
func (s *Spec) Config() sim.Config {
	t := s.Protocol.Timing
	cluster := s.Cluster
	cluster.Bug = s.bug()
	if len(s.Scenario.Params) > 0 { // the scenario's parameters, under the spec's own
		params := maps.Clone(s.Scenario.Params)
		maps.Copy(params, cluster.Params)
		cluster.Params = params
	}
	cfg := sim.Config{
		Protocol:  s.Protocol,
		Cluster:   cluster,
		Profile:   s.Scenario.Profile(t),
		Swarm:     s.Scenario.Swarm,
		Faults:    scale(t, s.Scenario.Faults),
		Liveness:  scale(t, s.Scenario.Liveness),
		Clients:   s.Clients,
		Ops:       s.Ops,
		MaxEvents: s.Scenario.MaxEvents,
	}
	if s.Faults > 0 {
		cfg.Faults = s.Faults
	}
	cfg.MaxEvents = s.eventBudget(cfg) // see budget.go
	cfg.SwarmParams = s.Scenario.SwarmParams[s.Protocol.Name]
	cfg.Context = s.Context
	cfg.Monitors = s.monitors()
	return cfg
}

// Run simulates the spec's run of seed.
func (s *Spec) Run(seed uint64) sim.Result {
	return sim.Run(s.Config(), sim.NewSeeded(seed))
}

// SeedArgs are the flags of `replica replay` that run seed of the spec again:
// "-protocol P [-bug B] [-scenario S] [-n N] [-f F] [-duration D] -seed N". The scenario is
// named unless it is the one the command would pick, and the cluster unless it is the
// protocol's or scenario's default. Options other than the fault phase's length (a shrunk
// workload) have no flag, and are left out.
func (s *Spec) SeedArgs(seed uint64) []string {
	args := []string{"-protocol", s.Protocol.Name}
	if b := s.bug(); b != "" {
		args = append(args, "-bug", b)
	}
	def, err := New(s.Protocol, Options{Bug: s.bug()})
	if err != nil || def.Scenario.Name != s.Scenario.Name {
		args = append(args, "-scenario", s.Scenario.Name)
		def, err = New(s.Protocol, Options{Bug: s.bug(), Scenario: s.Scenario.Name})
	}
	if err != nil || def.Cluster.N != s.Cluster.N {
		args = append(args, "-n", strconv.Itoa(s.Cluster.N))
	}
	if s.Cluster.F > 0 {
		args = append(args, "-f", strconv.Itoa(s.Cluster.F))
	}
	if s.Faults > 0 {
		args = append(args, "-duration", s.Faults.String())
	}
	return append(args, "-seed", strconv.FormatUint(seed, 10))
}

// Name is a short name of the spec for reports: protocol, bug and scenario.
func (s *Spec) Name() string {
	name := s.Protocol.Name
	if bug := s.bug(); bug != "" {
		name += "/" + bug
	}
	return name + "@" + s.Scenario.Name
}

// Capsule records run r of seed as a replay capsule; source says which tool made it.
func (s *Spec) Capsule(seed uint64, r sim.Result, source string) *capsule.Capsule {
	c := &capsule.Capsule{
		Source: source, Protocol: s.Protocol.Name, Bug: s.bug(), Scenario: s.Scenario.Name,
		N: s.Cluster.N, F: s.Cluster.F, Seed: seed, Profile: r.Profile.String(),
		TraceHash: r.TraceHash, Choices: r.Choices,
	}
	c.Options = s.Options()
	if v := r.Violation; v != nil {
		c.Property, c.Message, c.Event = v.Property, v.Message, v.Event
	}
	return c
}

// Options lists the spec's overrides of its scenario as capsule options.
func (s *Spec) Options() map[string]string {
	o := map[string]string{}
	if s.Faults > 0 {
		o["faults"] = s.Faults.String()
	}
	if s.Clients > 0 {
		o["clients"] = strconv.Itoa(s.Clients)
	}
	if s.Ops > 0 {
		o["ops"] = strconv.Itoa(s.Ops)
	}
	if len(o) == 0 {
		return nil
	}
	return o
}

// maxWorkload bounds the clients and operations a capsule may ask for.
const maxWorkload = 10_000

// FromCapsule rebuilds the spec a capsule was recorded with.
func FromCapsule(c *capsule.Capsule) (*Spec, error) {
	s, err := Resolve(c.Protocol, c.Bug, c.Scenario, c.N, c.F)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(c.Options)) { // the first bad option, the same every time
		v := c.Options[k]
		switch k {
		case "faults":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("bad option faults=%s", v)
			}
			s.Faults = d
		case "clients", "ops":
			x, err := strconv.Atoi(v)
			if err != nil || x <= 0 || x > maxWorkload {
				return nil, fmt.Errorf("bad option %s=%s", k, v)
			}
			if k == "clients" {
				s.Clients = x
			} else {
				s.Ops = x
			}
		default:
			return nil, fmt.Errorf("unknown option %q", k)
		}
	}
	return s, nil
}

// Replay re-runs a recorded choice sequence with a full trace.
func (s *Spec) Replay(choices []int32) (sim.Result, *sim.Recorded) {
	cfg := s.Config()
	cfg.Trace = sim.TraceFull
	rec := sim.NewRecorded(choices)
	return sim.Run(cfg, rec), rec
}
