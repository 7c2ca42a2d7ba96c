package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

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
}

// ResolveExplore checks an exploration's choices and builds its spec. Zero n takes the
// protocol's default size; params override the protocol's exploration parameters; negative
// budgets take the protocol's defaults.
func ResolveExplore(protocol, bug string, n int, opts sim.UntimedOptions, params map[string]int) (*ExploreSpec, error) {
	p, err := Protocol(protocol)
	if err != nil {
		return nil, err
	}
	if bug != "" {
		if _, ok := p.Bug(bug); !ok {
			return nil, fmt.Errorf("unknown bug %q for protocol %s (known: %s)", bug, p.Name, bugNames(p))
		}
	}
	if n == 0 {
		n = p.DefaultN
	}
	if n < p.MinN || n > 64 {
		return nil, fmt.Errorf("-n %d: protocol %s needs between %d and 64 nodes", n, p.Name, p.MinN)
	}
	if opts.Crashes < 0 {
		opts.Crashes = p.Explore.Crashes
	}
	if opts.Requests < 0 {
		opts.Requests = p.Explore.Requests
	}
	all := maps.Clone(p.Explore.Params)
	if all == nil {
		all = map[string]int{}
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if _, known := all[k]; !known {
			return nil, fmt.Errorf("protocol %s has no exploration parameter %q (known: %s)", p.Name, k, paramNames(all))
		}
		all[k] = params[k]
	}
	return &ExploreSpec{Protocol: p, Cluster: node.Config{N: n, Bug: bug, Params: all}, Options: opts}, nil
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
	x := e.Protocol.Explore
	return len(x.Params) > 0 || x.Requests > 0 || x.Crashes > 0
}

// Untimed is the transition system the explorer searches.
func (e *ExploreSpec) Untimed() *sim.Untimed { return sim.NewUntimed(e.Protocol, e.Cluster, e.Options) }

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
// the path's action numbers.
func (e *ExploreSpec) Capsule(path []int, r sim.UntimedReplay) *capsule.Capsule {
	c := &capsule.Capsule{
		Source: "explore", Protocol: e.Protocol.Name, Bug: e.Cluster.Bug, Scenario: ExploreScenario,
		N: e.Cluster.N, Options: map[string]string{
			"network":  network(e.Options),
			"crashes":  strconv.Itoa(e.Options.Crashes),
			"requests": strconv.Itoa(e.Options.Requests),
		},
		TraceHash: r.TraceHash,
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

// ExploreFromCapsule rebuilds the exploration a capsule was recorded by.
func ExploreFromCapsule(c *capsule.Capsule) (*ExploreSpec, error) {
	opts := sim.UntimedOptions{Crashes: -1, Requests: -1}
	params := map[string]int{}
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
		case strings.HasPrefix(k, "param."):
			params[strings.TrimPrefix(k, "param.")], err = strconv.Atoi(v)
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("option %s=%s: %w", k, v, err)
		}
	}
	return ResolveExplore(c.Protocol, c.Bug, c.N, opts, params)
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
}

// ReplayCapsule re-runs a capsule from `replica run`, `shrink` or `explore` exactly.
func ReplayCapsule(c *capsule.Capsule) (*Replayed, error) {
	if c.Scenario != ExploreScenario {
		s, err := FromCapsule(c)
		if err != nil {
			return nil, err
		}
		r, rec := s.Replay(c.Choices)
		return &Replayed{Name: s.Name(), N: s.Cluster.N, Result: r, Diverged: rec.Diverged()}, nil
	}
	e, err := ExploreFromCapsule(c)
	if err != nil {
		return nil, err
	}
	path := make([]int, len(c.Choices))
	for i, a := range c.Choices {
		path[i] = int(a)
	}
	r, err := e.Untimed().Replay(path)
	out := &Replayed{Name: e.Name(), N: e.Cluster.N, Untimed: true, Diverged: err != nil,
		Result: sim.Result{TraceHash: r.TraceHash, Events: r.Steps, Violation: r.Violation, Trace: r.Trace}}
	return out, nil
}
