package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
)

// checkFlags are the flags of `replica run` that tune the checkers.
type checkFlags struct {
	context       int
	requireFaults bool
}

func addCheckFlags(fs *flag.FlagSet) *checkFlags {
	cf := &checkFlags{}
	fs.IntVar(&cf.context, "context", sim.DefaultContext, "events shown before each violation in its report")
	fs.BoolVar(&cf.requireFaults, "require-faults", false, "fail the campaign if a fault kind its profile enables never fired")
	return cf
}

// apply checks the flags' values and sets them on the campaign; it returns an error for a bad
// value.
func (cf *checkFlags) apply(spec *scenarios.Spec, c *campaign.Campaign) error {
	if cf.context < 1 {
		return fmt.Errorf("-context %d: must be at least 1", cf.context)
	}
	spec.Context = cf.context
	c.RequireFaults = cf.requireFaults
	return nil
}

// printChecks prints the verdicts of the checkers beyond the failing seeds: linearizability
// checks by outcome, fault kinds that never fired, and what fails the campaign's coverage.
func printChecks(w io.Writer, s campaign.Summary) {
	if s.Hung > 0 && s.Hung == s.SeedsRun {
		s.Linearizability, s.Convergence = nil, nil // no run checked anything
	}
	if l := s.Linearizability; l != nil {
		fmt.Fprintf(w, "  linearizability: %d histories checked: %d linearizable, %d not linearizable, %d undecided within the checker's time limit\n",
			l.Checked, l.Passed, l.Failed, l.Unknown)
	}
	if c := s.Convergence; c != nil {
		fmt.Fprintf(w, "  convergence: %d checked, %d passed, %d failed\n", c.Checked, c.Passed, c.Failed)
	}
	if len(s.NeverFired) > 0 {
		fmt.Fprintf(w, "  enabled but never fired: %s\n", strings.Join(s.NeverFired, ", "))
	}
	if s.CoverageNotJudged {
		fmt.Fprintf(w, "  coverage: not judged, since %s: what no run counted may have happened in the runs that hung or did not run\n", hungRuns(s))
	}
	for _, f := range s.CoverageFailures {
		fmt.Fprintf(w, "FAIL coverage: %s\n", f)
	}
}

// printReport prints the rest of the report of a violation whose headline the list of
// failing seeds printed: its details, the events that led to it, the nodes.
func printReport(w io.Writer, v campaign.Violation) {
	fmt.Fprintf(w, "\nseed %d, the first failure, in full:\n", v.Seed)
	why, failed := campaign.CapsuleError(v.Capsule)
	v.Capsule = "" // the list named it
	v.WriteBody(w, prog)
	if failed {
		fmt.Fprintf(w, "no capsule: it could not be written: %s\n", why)
	}
}

// printDeterminism says what -check-determinism found: every seed without a violation ran a
// second time, and its trace was compared with the first.
func printDeterminism(w io.Writer, s campaign.Summary) {
	differ := 0
	for _, v := range s.Violations {
		if v.Property == campaign.PropDeterminism {
			differ++
		}
	}
	twice := s.SeedsRun - s.Failures + differ
	if differ == 0 {
		fmt.Fprintf(w, "  determinism: each of the %d seeds without a violation ran twice, with the same trace both times\n", twice)
		return
	}
	fmt.Fprintf(w, "  determinism: of the %d seeds without another violation, which ran twice, %d gave a different trace the second time (below)\n", twice, differ)
}
