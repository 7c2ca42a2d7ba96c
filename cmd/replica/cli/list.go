package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/scenarios"
)

func init() {
	register(command{name: "list", summary: "list the protocols, their seeded bugs, the scenarios and fault profiles", run: runList})
}

func runList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", "", stderr)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "replica list", "unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintln(stdout, "Protocols (replica run -protocol P [-bug B]):")
	for _, p := range scenarios.Protocols() {
		fmt.Fprintf(stdout, "  %-10s %s (default n=%d)\n", p.Name, p.Summary, p.DefaultN)
		var props []string
		for _, inv := range p.Invariants {
			props = append(props, inv.Name)
		}
		if p.Workload != nil && p.Workload.Spec != nil {
			props = append(props, checker.PropLinearizable+" ("+p.Workload.Spec.Name+")")
		}
		if p.Progress != nil {
			props = append(props, checker.PropProgress)
		}
		fmt.Fprintf(stdout, "  %-10s   checks: %s\n", "", strings.Join(props, ", "))
		for _, b := range p.Bugs {
			fmt.Fprintf(stdout, "  %-10s   -bug %-18s %s [found by scenario %s]\n", "", b.Name, b.Summary, b.Scenario)
		}
	}
	fmt.Fprintln(stdout, "\nEvery protocol above can also be explored exhaustively (replica explore -protocol P), and so can")
	fmt.Fprintln(stdout, "  twophase   two-phase commit as in Lamport's TwoPhase.tla, a plain model (replica explore only; -n resource managers)")
	fmt.Fprintln(stdout, "\nScenarios (replica run -scenario S), with their fault profiles at the protocol's time scale:")
	for _, s := range scenarios.Scenarios() {
		only := ""
		if len(s.For) > 0 {
			only = " (for " + strings.Join(s.For, ", ") + ")"
		}
		fmt.Fprintf(stdout, "  %-22s %s%s\n", s.Name, s.Summary, only)
		prof := s.Profile(scenarios.Protocols()[0].Timing)
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
		fmt.Fprintf(stdout, "  %-22s   faults: %s\n", "", strings.Join(kinds, ", "))
	}
	return 0
}
