package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim/explore"
)

// The registry: every protocol, scenario and plain model the tools know. The reference ones
// register themselves when the package loads; a program of one's own registers its own before
// it hands control to the command line (cmd/replica/cli), and from then on every tool serves
// them exactly as it serves the reference ones.
var registry = struct {
	sync.Mutex
	protocols []*node.Protocol
	scenarios []*Scenario
	models    []*Model
}{scenarios: slices.Clone(builtin)}

// Register adds protocols to the registry. A protocol is validated when a tool resolves it
// (see Validate), so that a mistake in one protocol is a one-line error of the command that
// uses it, not a crash of every command. Register panics on a nil protocol, an empty name or a
// name already taken: those are mistakes in the program itself, found the first time it runs.
func Register(ps ...*node.Protocol) {
	registry.Lock()
	defer registry.Unlock()
	for _, p := range ps {
		if p == nil || p.Name == "" {
			panic("scenarios.Register: a protocol without a name")
		}
		if taken(p.Name) {
			panic(fmt.Sprintf("scenarios.Register: the name %q is taken", p.Name))
		}
		registry.protocols = append(registry.protocols, p)
	}
}

// RegisterScenario adds named scenarios to the registry. It panics on a nil scenario, an
// empty name, a name already taken or a scenario without a profile.
func RegisterScenario(ss ...*Scenario) {
	registry.Lock()
	defer registry.Unlock()
	for _, s := range ss {
		switch {
		case s == nil || s.Name == "":
			panic("scenarios.RegisterScenario: a scenario without a name")
		case s.Profile == nil:
			panic(fmt.Sprintf("scenarios.RegisterScenario: scenario %q has no Profile", s.Name))
		case s.Name == ExploreScenario || slices.ContainsFunc(registry.scenarios, func(o *Scenario) bool { return o.Name == s.Name }):
			panic(fmt.Sprintf("scenarios.RegisterScenario: the name %q is taken", s.Name))
		}
		registry.scenarios = append(registry.scenarios, s)
	}
}

// Model is a plain model for `replica explore`: a transition system written against the
// explorer's interface (package sim/explore) rather than as node protocol code, such as
// two-phase commit after Lamport's TwoPhase.tla.
type Model struct {
	Name, Summary string
	// DefaultN is the size explored when none is given; New builds the model of size n, or
	// says why it cannot.
	DefaultN int
	New      func(n int) (explore.Erased, error)
}

// RegisterModel adds plain models to the registry. It panics on a nil model, an empty name,
// a name already taken (by a protocol too) or a model without New.
func RegisterModel(ms ...*Model) {
	registry.Lock()
	defer registry.Unlock()
	for _, m := range ms {
		switch {
		case m == nil || m.Name == "":
			panic("scenarios.RegisterModel: a model without a name")
		case m.New == nil:
			panic(fmt.Sprintf("scenarios.RegisterModel: model %q has no New", m.Name))
		case taken(m.Name):
			panic(fmt.Sprintf("scenarios.RegisterModel: the name %q is taken", m.Name))
		}
		registry.models = append(registry.models, m)
	}
}

// taken reports whether a protocol or model already has name; the registry is locked.
func taken(name string) bool {
	return slices.ContainsFunc(registry.protocols, func(p *node.Protocol) bool { return p.Name == name }) ||
		slices.ContainsFunc(registry.models, func(m *Model) bool { return m.Name == name })
}

// Protocols lists every registered protocol, in the order registered.
func Protocols() []*node.Protocol {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.protocols)
}

// Scenarios lists every registered scenario, in the order registered.
func Scenarios() []*Scenario {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.scenarios)
}

// Models lists every registered plain model, in the order registered.
func Models() []*Model {
	registry.Lock()
	defer registry.Unlock()
	return slices.Clone(registry.models)
}

// Protocol returns the registered protocol called name, validated (see Validate). The error
// for a name nobody registered lists the names that are.
func Protocol(name string) (*node.Protocol, error) {
	for _, p := range Protocols() {
		if p.Name == name {
			if err := Validate(p); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	for _, m := range Models() {
		if m.Name == name {
			return nil, fmt.Errorf("%s is a plain model: it runs only under replica explore", name)
		}
	}
	return nil, fmt.Errorf("unknown protocol %q (known: %s)", name, strings.Join(protocolNames(), ", "))
}

// LookupModel returns the registered plain model called name.
func LookupModel(name string) (*Model, bool) {
	for _, m := range Models() {
		if m.Name == name {
			return m, true
		}
	}
	return nil, false
}

func protocolNames() []string {
	var names []string
	for _, p := range Protocols() {
		names = append(names, p.Name)
	}
	return names
}

// Lookup returns the registered scenario called name.
func Lookup(name string) (*Scenario, error) {
	var names []string
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(names, ", "))
}
