package node

import (
	"errors"
	"fmt"
)

// MaxNodes is the largest cluster the tools run.
const MaxNodes = 64

// Validate checks that the description is complete and consistent, and names the first field
// at fault. Every tool calls it (through the registry) before it runs a protocol, so that a
// description that would run and pass vacuously, such as a zero Timing that makes every fault
// phase last no time at all, is refused instead. It does not know the scenarios: a bug's
// scenario is checked where scenarios are known (scenarios.Validate).
func (p *Protocol) Validate() error {
	if err := p.validate(); err != nil {
		return fmt.Errorf("protocol %s: %w", p.Name, err)
	}
	return nil
}

func (p *Protocol) validate() error {
	switch {
	case p.Name == "":
		return errors.New("Name is empty")
	case p.composeErr != nil:
		return p.composeErr
	case p.New == nil:
		return errors.New("New is nil: nothing builds its nodes")
	case p.Timing.Delay <= 0:
		return fmt.Errorf("Timing.Delay is %v: the scenarios scale message delays by it, so it must be above zero", p.Timing.Delay)
	case p.Timing.Settle <= 0:
		return fmt.Errorf("Timing.Settle is %v: the scenarios scale fault phases and liveness bounds by it, so every run would end before it began", p.Timing.Settle)
	case p.MinN < 1:
		return fmt.Errorf("MinN is %d: a cluster needs at least one node", p.MinN)
	case p.DefaultN < p.MinN:
		return fmt.Errorf("MinN %d is above DefaultN %d", p.MinN, p.DefaultN)
	case p.DefaultN > MaxNodes:
		return fmt.Errorf("DefaultN %d is above %d nodes", p.DefaultN, MaxNodes)
	}
	if p.Quorum != nil {
		if q := p.Quorum(p.DefaultN); q < 1 || q > p.DefaultN {
			return fmt.Errorf("Quorum(%d) is %d: want between 1 and n", p.DefaultN, q)
		}
	}
	if p.Essential != nil {
		for _, id := range p.Essential(Config{N: p.DefaultN}) {
			if id < 1 || int(id) > p.DefaultN {
				return fmt.Errorf("Essential names node %d, outside 1..DefaultN", id)
			}
		}
	}
	if d := p.Tolerates.Down; d != nil {
		if v := d(p.DefaultN); v < 0 || v > p.DefaultN {
			return fmt.Errorf("Tolerates.Down(%d) is %d: want between 0 and n", p.DefaultN, v)
		}
	}
	if k := p.Tolerates.Skew; k < 0 || k >= 1 {
		return fmt.Errorf("Tolerates.Skew is %g: want at least 0 and below 1 (timers run at rates within [1-Skew, 1+Skew])", k)
	}
	if p.MaxFaulty != nil {
		if f := p.MaxFaulty(p.DefaultN); f < 0 || f >= p.DefaultN {
			return fmt.Errorf("MaxFaulty(%d) is %d: want between 0 and n-1", p.DefaultN, f)
		}
	}
	checks := []struct {
		kind string
		n    int
		at   func(i int) (string, bool)
	}{
		{"invariant", len(p.Invariants), func(i int) (string, bool) { return p.Invariants[i].Name, p.Invariants[i].Check != nil }},
		{"sometimes-property", len(p.Sometimes), func(i int) (string, bool) { return p.Sometimes[i].Name, p.Sometimes[i].Reached != nil }},
		{"liveness property", len(p.Liveness), func(i int) (string, bool) { return p.Liveness[i].Name, p.Liveness[i].Pending != nil }},
		{"mutator", len(p.Mutators), func(i int) (string, bool) { return p.Mutators[i].Name, p.Mutators[i].Mutate != nil }},
		{"bug", len(p.Bugs), func(i int) (string, bool) { return p.Bugs[i].Name, p.Bugs[i].Scenario != "" }},
	}
	for _, c := range checks {
		if err := distinctNames(c.kind, c.n, c.at); err != nil {
			return err
		}
	}
	for _, l := range p.Liveness {
		if l.Stable < 0 {
			return fmt.Errorf("liveness property %q: Stable is negative", l.Name)
		}
	}
	if wl := p.Workload; wl != nil {
		if err := wl.validate(); err != nil {
			return fmt.Errorf("Workload.%w", err)
		}
	}
	return p.Explore.validate(p.DefaultN)
}

// distinctNames checks a list of named parts: each has a name, no two the same, and what
// makes it work (a check function; a bug's scenario).
func distinctNames(kind string, n int, at func(i int) (string, bool)) error {
	seen := map[string]bool{}
	for i := range n {
		name, ok := at(i)
		switch {
		case name == "":
			return fmt.Errorf("%s number %d has no name", kind, i+1)
		case seen[name]:
			return fmt.Errorf("two of its %ss are called %q", kind, name)
		case !ok && kind == "bug":
			return fmt.Errorf("bug %q names no scenario that finds it", name)
		case !ok:
			return fmt.Errorf("%s %q has no function to check it", kind, name)
		}
		seen[name] = true
	}
	return nil
}

func (wl *Workload) validate() error {
	switch {
	case wl.Clients < 1:
		return fmt.Errorf("Clients is %d: want at least 1, or no Workload", wl.Clients)
	case wl.Ops < 1:
		return fmt.Errorf("Ops is %d: want at least 1", wl.Ops)
	case wl.Timeout <= 0:
		return errors.New("Timeout is zero: clients would give up before any reply")
	case wl.Next == nil:
		return errors.New("Next is nil: nothing makes the clients' operations")
	case wl.Result == nil:
		return errors.New("Result is nil: nothing reads the replies")
	case wl.Attempts < 0:
		return fmt.Errorf("Attempts is %d: want 0 (the default) or more", wl.Attempts)
	case wl.Spec == nil:
		return errors.New("Spec is nil: the clients' history would go unchecked (give a sequential specification, see node.Sequential)")
	case wl.Spec.Name == "" || wl.Spec.Init == nil || wl.Spec.Step == nil:
		return errors.New("Spec needs a Name, Init and Step")
	}
	return nil
}

func (x Explore) validate(n int) error {
	for k := range x.Params {
		if k == "" {
			return errors.New("Explore.Params has a parameter without a name")
		}
	}
	for _, id := range x.Targets {
		if id < 1 || int(id) > n {
			return fmt.Errorf("Explore.Targets names node %d, outside 1..DefaultN", id)
		}
	}
	if x.Crashes < 0 || x.Requests < 0 {
		return errors.New("Explore.Crashes and Explore.Requests must not be negative")
	}
	return nil
}
