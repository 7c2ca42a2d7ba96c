package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// ExploreScenario is the scenario name capsules of explorations carry: untimed semantics,
// where any message in flight may arrive next.
const ExploreScenario = "explore"

// ExploreSpec is what an exhaustive exploration of a protocol runs: the same protocol code as
// a campaign, in the untimed world, bounded by parameters and budgets.
type ExploreSpec struct {
	Protocol *node.Protocol
	Cluster  node.Config
	Options  sim.UntimedOptions
	// Bounds are the exploration bounds declared for what is explored: the bug's
	// (Bug.Explore) or the protocol's (Protocol.Explore).
	Bounds node.Explore
}

// ResolveExplore checks an exploration's choices and builds its spec. Zero n takes the
// protocol's default size; params override the protocol's exploration parameters; negative
// budgets take the protocol's defaults. A Byzantine budget (opts.Byzantine) makes the first
// MaxFaulty(n) nodes Byzantine unless opts.Faulty names them; symmetry (opts.Symmetry) needs a
// protocol that declares Explore.Symmetric.
func ResolveExplore(protocol, bug string, n int, opts sim.UntimedOptions, params map[string]int) (*ExploreSpec, error) {
	p, err := Protocol(protocol)
	if err != nil {
		return nil, err
	}
	bounds := p.Explore
	if bug != "" {
		b, ok := p.Bug(bug)
		if !ok {
			return nil, fmt.Errorf("unknown bug %q for protocol %s (known: %s)", bug, p.Name, bugNames(p))
		}
		if b.Explore != nil {
			bounds = *b.Explore
		}
	}
	if n == 0 {
		n = p.DefaultN
	}
	if n < p.MinN || n > 64 {
		return nil, fmt.Errorf("-n %d: protocol %s needs between %d and 64 nodes", n, p.Name, p.MinN)
	}
	if p.Workload == nil && (opts.Requests > 0 || opts.Clients > 0 || opts.Timeouts > 0 || len(opts.Targets) > 0) {
		return nil, fmt.Errorf("-requests, -clients, -timeouts and -targets: protocol %s has no clients (no Workload)", p.Name)
	}
	if opts.Crashes < 0 {
		opts.Crashes = bounds.Crashes
	}
	if opts.Requests < 0 {
		opts.Requests = bounds.Requests
	}
	if len(opts.Targets) == 0 {
		opts.Targets = slices.Clone(bounds.Targets)
	}
	if opts.Clients == 0 {
		opts.Clients = bounds.Clients
	}
	if opts.Timeouts < 0 || opts.Clients < 0 || opts.Byzantine < 0 {
		return nil, errors.New("-timeouts, -clients and -byzantine must not be negative")
	}
	for _, t := range opts.Targets {
		if t < 1 || int(t) > n {
			return nil, fmt.Errorf("-targets: no node n%d in a cluster of %d", t, n)
		}
	}
	if err := resolveFaulty(p, n, &opts); err != nil {
		return nil, err
	}
	all := maps.Clone(bounds.Params)
	if all == nil {
		all = map[string]int{}
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if _, known := all[k]; !known {
			return nil, fmt.Errorf("protocol %s has no exploration parameter %q (known: %s)", p.Name, k, paramNames(all))
		}
		all[k] = params[k]
	}
	e := &ExploreSpec{Protocol: p, Cluster: node.Config{N: n, F: len(opts.Faulty), Bug: bug, Params: all}, Options: opts, Bounds: bounds}
	if err := checkMaxSize(p, e.Cluster); err != nil {
		return nil, err
	}
	if opts.Symmetry {
		if !bounds.Symmetric {
			return nil, fmt.Errorf("-symmetry: protocol %s does not declare interchangeable nodes (Explore.Symmetric)", p.Name)
		}
		if k := e.Untimed().Symmetries(); k <= 1 {
			return nil, fmt.Errorf("-symmetry: no two nodes of %s n=%d play the same role (clients' targets, Byzantine nodes), or more than %d renamings", p.Name, n, sim.MaxSymmetries)
		}
	}
	return e, nil
}

// resolveFaulty checks the Byzantine nodes and budget of an exploration, and picks the nodes
// when a budget is given without them: the first MaxFaulty(n), so that a leader-based
// protocol's first leader is among them.
func resolveFaulty(p *node.Protocol, n int, opts *sim.UntimedOptions) error {
	if opts.Byzantine == 0 && len(opts.Faulty) == 0 {
		return nil
	}
	if p.MaxFaulty == nil || p.MaxFaulty(n) == 0 {
		flag := "-byzantine"
		if opts.Byzantine == 0 {
			flag = "-faulty" // the flag given
		}
		return fmt.Errorf("%s: protocol %s with n=%d tolerates no Byzantine nodes", flag, p.Name, n)
	}
	f := p.MaxFaulty(n)
	if len(opts.Faulty) == 0 {
		for id := node.ID(1); int(id) <= f; id++ {
			opts.Faulty = append(opts.Faulty, id)
		}
	}
	if len(opts.Faulty) > f {
		return fmt.Errorf("-faulty: protocol %s with n=%d tolerates at most %d Byzantine nodes, not %d", p.Name, n, f, len(opts.Faulty))
	}
	seen := map[node.ID]bool{}
	for _, id := range opts.Faulty {
		if id < 1 || int(id) > n || seen[id] {
			return fmt.Errorf("-faulty: n%d is not a node of a cluster of %d, or is named twice", id, n)
		}
		seen[id] = true
	}
	return nil
}

func paramNames(params map[string]int) string {
	if len(params) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(params)), ", ")
}

// Bounded reports whether the protocol declares exploration bounds (parameters or budgets)
// meant to make its state space finite; a protocol without them (whose terms, logs or
// retransmissions grow without end) can only be explored up to a limit.
func (e *ExploreSpec) Bounded() bool {
	x := e.Bounds
	return len(x.Params) > 0 || x.Requests > 0 || x.Crashes > 0
}

// Untimed is the transition system the explorer searches, with the checks of a campaign's
// runs that are not the protocol's own: the linearizability of the clients' history against
// the workload's specification (judged in every state, see sim.Untimed.CheckHistory). The
// protocol's memory bound (MaxSize) the untimed world checks itself.
func (e *ExploreSpec) Untimed() *sim.Untimed {
	u := sim.NewUntimed(e.Protocol, e.Cluster, e.Options)
	if wl := e.Protocol.Workload; wl != nil && wl.Spec != nil {
		spec := wl.Spec
		u.CheckHistory(&sim.HistoryCheck{Property: checker.PropLinearizable, Linearizability: true, Check: func(h []node.Op) error {
			if o, msg, _ := checker.JudgeHistory(spec, h, exploreLinLimit); o == checker.Fail {
				return errors.New(msg)
			}
			return nil
		}})
	}
	return u
}

// ReplayTimed re-runs a path of the exploration in the timed world (see
// sim.Untimed.ReplayTimed), with the checks a campaign's run has that the protocol does not
// declare itself: the linearizability of the history and the memory bound.
func (e *ExploreSpec) ReplayTimed(init int, path []int) (sim.TimedReplay, error) {
	var ms []func() sim.Monitor
	if wl := e.Protocol.Workload; wl != nil && wl.Spec != nil {
		ms = append(ms, checker.NewLinearizability(wl.Spec, exploreLinLimit))
	}
	if e.Protocol.MaxSize != nil {
		ms = append(ms, checker.NewMemory(checker.Bounds{State: e.Protocol.MaxSize(e.Cluster)}))
	}
	return e.Untimed().ReplayTimed(init, path, ms)
}

// exploreLinLimit bounds one linearizability check in exploration. The histories of an
// exploration's paths are a few operations long and take microseconds; a check that ran out
// of time would pass as unknown.
const exploreLinLimit = 10 * time.Second

// Name names the exploration for reports.
func (e *ExploreSpec) Name() string {
	name := e.Protocol.Name
	if e.Cluster.Bug != "" {
		name += "/" + e.Cluster.Bug
	}
	s := fmt.Sprintf("%s n=%d %s", name, e.Cluster.N, e.Options)
	for _, k := range slices.Sorted(maps.Keys(e.Cluster.Params)) {
		s += fmt.Sprintf(" %s=%d", k, e.Cluster.Params[k])
	}
	return s
}

// Capsule records a path of the exploration, replayed as r, as a capsule: its choices are
// the path's action numbers, and its options the exploration's bounds and the initial state.
func (e *ExploreSpec) Capsule(init int, path []int, r sim.UntimedReplay) *capsule.Capsule {
	o := e.Options
	c := &capsule.Capsule{
		Source: "explore", Protocol: e.Protocol.Name, Bug: e.Cluster.Bug, Scenario: ExploreScenario,
		N: e.Cluster.N, F: e.Cluster.F, Options: map[string]string{
			"network":  network(o),
			"crashes":  strconv.Itoa(o.Crashes),
			"requests": strconv.Itoa(o.Requests),
		},
		TraceHash: r.TraceHash,
	}
	set := func(k string, v int) {
		if v != 0 {
			c.Options[k] = strconv.Itoa(v)
		}
	}
	set("init", init)
	set("timeouts", o.Timeouts)
	set("clients", o.Clients)
	set("byzantine", o.Byzantine)
	if len(o.Faulty) > 0 {
		c.Options["faulty"] = nodeList(o.Faulty)
	}
	if len(o.Targets) > 0 {
		c.Options["targets"] = nodeList(o.Targets)
	}
	for k, v := range e.Cluster.Params {
		c.Options["param."+k] = strconv.Itoa(v)
	}
	for _, a := range path {
		c.Choices = append(c.Choices, int32(a))
	}
	if v := r.Violation; v != nil {
		c.Property, c.Message, c.Event = v.Property, v.Message, v.Event
	}
	return c
}

func nodeList(ids []node.ID) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return strings.Join(parts, ",")
}

// ParseNodes reads a comma-separated list of node IDs, such as "1,3".
func ParseNodes(s string) ([]node.ID, error) {
	var ids []node.ID
	for _, part := range strings.Split(s, ",") {
		x, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(part), "n"))
		if err != nil || x < 1 || x > 64 {
			return nil, fmt.Errorf("%q: want node numbers such as 1,3", s)
		}
		ids = append(ids, node.ID(x))
	}
	return ids, nil
}

func network(o sim.UntimedOptions) string {
	parts := []string{"unordered"}
	if o.Ordered {
		parts[0] = "ordered"
	}
	if o.Duplicate {
		parts = append(parts, "duplicating")
	}
	if o.Lossy {
		parts = append(parts, "lossy")
	}
	return strings.Join(parts, ",")
}

// ParseNetwork reads network semantics: "unordered" or "ordered", optionally followed by
// ",duplicating" and ",lossy".
func ParseNetwork(s string, o *sim.UntimedOptions) error {
	for i, part := range strings.Split(s, ",") {
		switch {
		case i == 0 && part == "unordered":
		case i == 0 && part == "ordered":
			o.Ordered = true
		case i > 0 && part == "duplicating":
			o.Duplicate = true
		case i > 0 && part == "lossy":
			o.Lossy = true
		default:
			return fmt.Errorf("network %q: want unordered or ordered, then optionally ,duplicating and ,lossy", s)
		}
	}
	return nil
}

// ExploreFromCapsule rebuilds the exploration a capsule was recorded by, and the initial
// state its path starts from.
func ExploreFromCapsule(c *capsule.Capsule) (*ExploreSpec, int, error) {
	opts := sim.UntimedOptions{Crashes: -1, Requests: -1}
	params := map[string]int{}
	init := 0
	for _, k := range slices.Sorted(maps.Keys(c.Options)) { // the first bad option, the same every time
		v := c.Options[k]
		var err error
		switch {
		case k == "network":
			err = ParseNetwork(v, &opts)
		case k == "crashes":
			opts.Crashes, err = budget(v)
		case k == "requests":
			opts.Requests, err = budget(v)
		case k == "timeouts":
			opts.Timeouts, err = budget(v)
		case k == "clients":
			opts.Clients, err = budget(v)
		case k == "byzantine":
			opts.Byzantine, err = budget(v)
		case k == "init":
			init, err = strconv.Atoi(v)
			if err == nil && (init < 0 || init >= sim.MaxInitial) {
				err = fmt.Errorf("want an initial state between 0 and %d", sim.MaxInitial-1)
			}
		case k == "faulty":
			opts.Faulty, err = ParseNodes(v)
		case k == "targets":
			opts.Targets, err = ParseNodes(v)
		case strings.HasPrefix(k, "param."):
			params[strings.TrimPrefix(k, "param.")], err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return nil, 0, fmt.Errorf("option %s=%s: %w", k, v, err)
		}
	}
	e, err := ResolveExplore(c.Protocol, c.Bug, c.N, opts, params)
	return e, init, err
}

func budget(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1000 {
		return 0, fmt.Errorf("want a budget between 0 and 1000")
	}
	return n, nil
}

// Replayed is a capsule's run replayed with its whole trace, whichever tool wrote it.
type Replayed struct {
	Name string // what ran, for reports
	N    int
	// Result holds the trace, its hash, the steps and the violation; for timed runs also
	// the profile, fault counts and operations.
	Result sim.Result
	// Diverged reports that the run did not follow the capsule's choices as recorded: the
	// code changed since it was written.
	Diverged bool
	Untimed  bool
	// Stuck describes a timed run that did not finish within its limit (see
	// ReplayCapsuleWatched); Result then holds only its violation, of sim.PropHang.
	Stuck *sim.Stuck
}

// ReplayCapsule re-runs a capsule from `replica run`, `shrink` or `explore` exactly. A capsule
// that records a determinism failure (PropDeterminism) is run again (up to DeterminismRuns
// times in all), and its replay violates determinism when a trace differs from the first
// run's, as the campaign that wrote it judged; Result is then the first run's, with that
// violation.
func ReplayCapsule(c *capsule.Capsule) (*Replayed, error) { return ReplayCapsuleWatched(c, 0) }

// ReplayCapsuleWatched is ReplayCapsule with a timed run under the watchdog of sim.Watched
// (no limit: limit <= 0), as campaigns run it: a run that does not finish within limit is
// described by Replayed.Stuck. (An explorer's path is replayed unwatched: the explorer
// writes no capsule of a step that did not return.)
func ReplayCapsuleWatched(c *capsule.Capsule, limit time.Duration) (*Replayed, error) {
	if c.Scenario != ExploreScenario {
		s, err := FromCapsule(c)
		if err != nil {
			return nil, err
		}
		cfg := s.Config()
		cfg.Trace = sim.TraceFull
		rec := sim.NewRecorded(c.Choices)
		r, stuck := sim.Watched(cfg, rec, limit)
		if stuck == nil && r.Violation == nil && judgesDeterminism(c) {
			// The capsule records runs that differed: run its choices again, and compare.
			v, again, stuck2 := againAndCompare(r, func() (sim.Result, *sim.Stuck) {
				return sim.Watched(cfg, sim.NewRecorded(c.Choices), limit)
			})
			if stuck2 != nil {
				rp := replayed(s, again, stuck2, false)
				rp.Result.Violation.Message += " (in a later run of the determinism check: the first one finished)"
				return rp, nil
			}
			r.Violation = v
		}
		return replayed(s, r, stuck, stuck == nil && rec.Diverged()), nil
	}
	e, init, err := ExploreFromCapsule(c)
	if err != nil {
		return nil, err
	}
	path := make([]int, len(c.Choices))
	for i, a := range c.Choices {
		path[i] = int(a)
	}
	r, err := e.Untimed().Replay(init, path)
	out := &Replayed{Name: e.Name(), N: e.Cluster.N, Untimed: true, Diverged: err != nil,
		Result: sim.Result{TraceHash: r.TraceHash, Events: r.Steps, Violation: r.Violation, Trace: r.Trace}}
	return out, nil
}

// ReplaySeed runs seed of spec s again with its whole trace, as a campaign ran it (the
// seeded chooser), under the watchdog of sim.Watched (no limit: limit <= 0).
func ReplaySeed(s *Spec, seed uint64, limit time.Duration) *Replayed {
	cfg := s.Config()
	cfg.Trace = sim.TraceFull
	r, stuck := sim.Watched(cfg, sim.NewSeeded(seed), limit)
	return replayed(s, r, stuck, false)
}

func replayed(s *Spec, r sim.Result, stuck *sim.Stuck, diverged bool) *Replayed {
	if stuck != nil {
		r = sim.Result{Events: stuck.Event, Virtual: stuck.Time, Violation: stuck.Violation()}
	}
	return &Replayed{Name: s.Name(), N: s.Cluster.N, Result: r, Diverged: diverged, Stuck: stuck}
}

// checkMaxSize calls the protocol's memory bound once, so that one that panics is a one-line
// error rather than a crash outside any step, and one that gives no bound (zero or less, for
// which the checkers would check nothing) is refused rather than dropped: no bound is a nil
// MaxSize.
func checkMaxSize(p *node.Protocol, cfg node.Config) (err error) {
	if p.MaxSize == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("protocol %s: its memory bound (MaxSize) for n=%d panicked: %v", p.Name, cfg.N, r)
		}
	}()
	if b := p.MaxSize(cfg); b <= 0 {
		return fmt.Errorf("protocol %s: its memory bound (MaxSize) for n=%d is %d; a bound must be positive (a nil MaxSize means no bound)", p.Name, cfg.N, b)
	}
	return checkSizer(p, cfg, "declares MaxSize")
}

// checkSizer refuses a bound on the size of a node's state that no run could check: the
// memory checkers measure a state through node.Sizer and pass over one without it, so a
// protocol that bounds its state but whose state has no Size method would pass every run,
// leak or not. It learns the state's type by building node 1 of cfg, as a run does (New is
// a plain constructor, with no effect outside the value it returns); a composed protocol's
// state (node.Stack) counts when one of its components reports a size. A New that panics is
// left to the runs, which report it (no-panic). what says what declares the bound.
func checkSizer(p *node.Protocol, cfg node.Config, what string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = nil
		}
	}()
	n := p.New(cfg, 1)
	if sizes(n) {
		return nil
	}
	if _, ok := n.(*node.Stack); ok {
		return fmt.Errorf("protocol %s %s but no component of its node state %T has a Size method (node.Sizer): the memory bound could not be checked", p.Name, what, n)
	}
	return fmt.Errorf("protocol %s %s but its node state %T has no Size method (node.Sizer): the memory bound could not be checked", p.Name, what, n)
}

// sizes reports whether the memory checkers can measure state n: it is a node.Sizer, or a
// stack of components one of which is (the stack's Size sums theirs).
func sizes(n node.Node) bool {
	if st, ok := n.(*node.Stack); ok {
		for _, part := range st.Parts {
			if sizes(part.C) {
				return true
			}
		}
		return false
	}
	_, ok := n.(node.Sizer)
	return ok
}
