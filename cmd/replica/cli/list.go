package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
)

func init() {
	register(command{name: "list", summary: "list the protocols, their seeded bugs, the scenarios and fault profiles", run: runList})
}

// listJSON is what `replica list -json` prints: every registered protocol and scenario.
type listJSON struct {
	Protocols []protocolJSON `json:"protocols"`
	Models    []modelJSON    `json:"models"`
	Scenarios []scenarioJSON `json:"scenarios"`
}

type protocolJSON struct {
	Name       string      `json:"name"`
	Summary    string      `json:"summary"`
	DefaultN   int         `json:"default_n"`
	MinN       int         `json:"min_n"`
	Byzantine  bool        `json:"byzantine"` // it tolerates Byzantine nodes
	Symmetric  bool        `json:"symmetric"` // its nodes are interchangeable (explore -symmetry)
	Bugs       []bugJSON   `json:"bugs"`
	Components []string    `json:"components"` // paths of its sub-components; empty for one component
	Checks     []string    `json:"checks"`     // the properties every run checks
	Explore    exploreJSON `json:"explore"`
	Invalid    string      `json:"invalid,omitempty"`
}

// exploreJSON says how `replica explore` takes a protocol: with the bounds it declares (Bounded:
// budgets or parameters, which end the search if they make the states finite, something only
// the protocol knows), or without, when it needs a limit, and Try is one to start from.
type exploreJSON struct {
	Bounded  bool           `json:"bounded"`
	Crashes  int            `json:"crashes"`
	Requests int            `json:"requests"`
	Params   map[string]int `json:"params,omitempty"`
	Try      string         `json:"try,omitempty"`
}

// tryLimits is a limit to start exploring an unbounded protocol with: a few seconds' worth.
const tryLimits = "-max-states 100000 (or -max-depth 20, or -timeout 1m)"

func exploreOf(p *node.Protocol) exploreJSON {
	x := p.Explore
	e := exploreJSON{Crashes: x.Crashes, Requests: x.Requests, Params: x.Params,
		Bounded: len(x.Params) > 0 || x.Crashes > 0 || x.Requests > 0}
	if !e.Bounded {
		e.Try = tryLimits
	}
	return e
}

// line says it in words, for the text listing.
func (e exploreJSON) line() string {
	if !e.Bounded {
		return "declares no bounds, so its states may never end: give a limit, e.g. " + e.Try
	}
	// The tool knows only that bounds are declared, not that they make the space finite: a
	// protocol whose timers re-arm forever declares budgets and still never ends.
	s := fmt.Sprintf("declares bounds: crashes=%d requests=%d", e.Crashes, e.Requests)
	for _, k := range sortedKeys(e.Params) {
		s += fmt.Sprintf(" %s=%d", k, e.Params[k])
	}
	return s + " (-crashes, -requests, -param change them); the search ends by itself if they make its states finite, else -max-memory stops it"
}

type bugJSON struct {
	Name     string `json:"name"`
	Summary  string `json:"summary"`
	Scenario string `json:"scenario"`
}

type modelJSON struct {
	Name     string `json:"name"`
	Summary  string `json:"summary"`
	DefaultN int    `json:"default_n"`
}

type scenarioJSON struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	For     []string `json:"for"` // the protocols it applies to; empty: all
}

func runList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", "[-json]", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: protocols, models and scenarios")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "list", "unexpected argument %q", fs.Arg(0))
	}
	l := listing()
	if *asJSON {
		printJSON(stdout, l)
		return 0
	}
	printList(stdout, l)
	return 0
}

func listing() listJSON {
	l := listJSON{Protocols: []protocolJSON{}, Models: []modelJSON{}, Scenarios: []scenarioJSON{}}
	for _, p := range scenarios.Protocols() {
		pj := protocolJSON{Name: p.Name, Summary: p.Summary, DefaultN: p.DefaultN, MinN: p.MinN,
			Byzantine: p.MaxFaulty != nil, Symmetric: p.Explore.Symmetric, Bugs: []bugJSON{},
			Components: append([]string{}, p.Components...), Checks: checks(p), Explore: exploreOf(p)}
		if err := scenarios.Validate(p); err != nil {
			pj.Invalid = err.Error()
		}
		for _, b := range p.Bugs {
			pj.Bugs = append(pj.Bugs, bugJSON{Name: b.Name, Summary: b.Summary, Scenario: b.Scenario})
		}
		l.Protocols = append(l.Protocols, pj)
	}
	for _, m := range scenarios.Models() {
		l.Models = append(l.Models, modelJSON{Name: m.Name, Summary: m.Summary, DefaultN: m.DefaultN})
	}
	for _, s := range scenarios.Scenarios() {
		l.Scenarios = append(l.Scenarios, scenarioJSON{Name: s.Name, Summary: s.Summary, For: scenarioFor(s)})
	}
	return l
}

// scenarioFor names the registered protocols scenario s applies to: those it names, or those
// that declare what it needs. Empty means every protocol.
func scenarioFor(s *scenarios.Scenario) []string {
	if s.For == nil && s.Needs == nil {
		return []string{}
	}
	names := []string{}
	for _, p := range scenarios.Protocols() {
		if s.Applies(p) {
			names = append(names, p.Name)
		}
	}
	return names
}

// checks names the properties every run of p checks.
func checks(p *node.Protocol) []string {
	props := []string{}
	for _, inv := range p.Invariants {
		props = append(props, inv.Name)
	}
	if p.Workload != nil && p.Workload.Spec != nil {
		props = append(props, checker.PropLinearizable+" ("+p.Workload.Spec.Name+")")
	}
	if p.Progress != nil {
		props = append(props, checker.PropProgress)
	}
	for _, l := range p.Liveness {
		props = append(props, l.Name)
	}
	// Every run bounds the messages in flight to a node and its armed timers; a protocol with
	// a MaxSize bounds its nodes' state too (scenarios refuse one whose state has no Size).
	if p.MaxSize != nil {
		props = append(props, checker.PropMemory+" (state, messages, timers)")
	} else {
		props = append(props, checker.PropMemory+" (messages, timers)")
	}
	return props
}

func printList(w io.Writer, l listJSON) {
	fmt.Fprintf(w, "Protocols (%s run -protocol P [-bug B]):\n", prog)
	for _, p := range l.Protocols {
		fmt.Fprintf(w, "  %-10s %s (default n=%d)\n", p.Name, p.Summary, p.DefaultN)
		if p.Invalid != "" {
			fmt.Fprintf(w, "  %-10s   INVALID: %s\n", "", p.Invalid)
		}
		if len(p.Components) > 0 {
			fmt.Fprintf(w, "  %-10s   components: %s\n", "", strings.Join(p.Components, ", "))
		}
		fmt.Fprintf(w, "  %-10s   checks: %s\n", "", strings.Join(p.Checks, ", "))
		for _, b := range p.Bugs {
			fmt.Fprintf(w, "  %-10s   -bug %-18s %s [found by scenario %s]\n", "", b.Name, b.Summary, b.Scenario)
		}
	}
	fmt.Fprintf(w, "\nExhaustive exploration (%s explore -protocol P), in the untimed world:\n", prog)
	for _, p := range l.Protocols {
		fmt.Fprintf(w, "  %-10s %s\n", p.Name, p.Explore.line())
	}
	for _, m := range l.Models {
		fmt.Fprintf(w, "  %-10s %s; ends by itself (default n=%d)\n", m.Name, m.Summary, m.DefaultN)
	}
	fmt.Fprintf(w, "\nScenarios (%s run -scenario S), with their fault profiles at the protocol's time scale:\n", prog)
	timing := node.Timing{}
	if ps := scenarios.Protocols(); len(ps) > 0 {
		timing = ps[0].Timing
	}
	for _, s := range scenarios.Scenarios() {
		only := ""
		if s.For != nil || s.Needs != nil {
			only = " (for " + strings.Join(scenarioFor(s), ", ") + ")"
		}
		fmt.Fprintf(w, "  %-22s %s%s\n", s.Name, s.Summary, only)
		prof := s.Profile(timing)
		kinds := []string{}
		for _, k := range prof.Enabled() {
			kinds = append(kinds, k.String())
		}
		if s.Swarm {
			kinds = []string{"drawn per seed"}
		}
		if len(prof.Cut) > 0 {
			kinds = append(kinds, fmt.Sprintf("%d links cut for the whole fault phase", len(prof.Cut)))
		}
		if len(kinds) == 0 {
			kinds = []string{"none"}
		}
		fmt.Fprintf(w, "  %-22s   faults: %s\n", "", strings.Join(kinds, ", "))
	}
}
