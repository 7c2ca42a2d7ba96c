package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
)

func init() {
	register(command{name: "run", summary: "run a fault-injection campaign over many seeds", run: runCampaign})
}

// runFlags are the flags of `replica run`.
type runFlags struct {
	protocol, bug, scenario string
	n, f                    int
	seeds                   int
	seedStart               uint64
	workers                 int
	duration                time.Duration
	out                     string
	json, verbose           bool
	checkDeterminism        bool
	seedTimeout             time.Duration
	checks                  *checkFlags
}

func runCampaign(args []string, stdout, stderr io.Writer) int {
	var rf runFlags
	fs := newFlags("run", "[flags]", stderr)
	fs.StringVar(&rf.protocol, "protocol", "paxos", "the protocol to run (see 'replica list')")
	fs.StringVar(&rf.bug, "bug", "", "a seeded-bug variant of the protocol")
	fs.StringVar(&rf.scenario, "scenario", "", "the scenario (default: the one that finds -bug, else 'default')")
	fs.IntVar(&rf.n, "n", 0, "number of nodes (default: the scenario's or the protocol's)")
	fs.IntVar(&rf.f, "f", 0, "number of Byzantine nodes among the n")
	fs.IntVar(&rf.seeds, "seeds", 1000, "number of seeds to run")
	fs.Uint64Var(&rf.seedStart, "seed-start", 0, "the first seed")
	fs.IntVar(&rf.workers, "workers", 0, "seeds run in parallel (default: the number of CPUs); results do not depend on it")
	fs.DurationVar(&rf.duration, "duration", 0, "length of the fault phase in virtual time (default: the scenario's)")
	fs.StringVar(&rf.out, "out", "replica-out", "directory for the capsules of failing seeds")
	fs.BoolVar(&rf.json, "json", false, "print one JSON object with the campaign's summary")
	fs.BoolVar(&rf.verbose, "v", false, "print every seed's outcome and fault profile")
	fs.BoolVar(&rf.checkDeterminism, "check-determinism", false, "run every seed twice and fail seeds whose traces differ")
	fs.DurationVar(&rf.seedTimeout, "seed-timeout", campaign.DefaultSeedTimeout, "wall time after which a seed counts as hung")
	rf.checks = addCheckFlags(fs)
	ff := addFleetFlags(fs)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "replica run", "unexpected argument %q", fs.Arg(0))
	}
	switch {
	case rf.seeds < 1:
		return usageError(stderr, "replica run", "-seeds %d: must be at least 1", rf.seeds)
	case rf.workers < 0:
		return usageError(stderr, "replica run", "-workers %d: must be at least 1 (or 0 for the number of CPUs)", rf.workers)
	case rf.n < 0:
		return usageError(stderr, "replica run", "-n %d: must be positive", rf.n)
	case rf.duration < 0:
		return usageError(stderr, "replica run", "-duration %v: must be positive", rf.duration)
	case rf.seedTimeout <= 0:
		return usageError(stderr, "replica run", "-seed-timeout %v: must be positive", rf.seedTimeout)
	}
	spec, err := scenarios.Resolve(rf.protocol, rf.bug, rf.scenario, rf.n, rf.f)
	if err != nil {
		return usageError(stderr, "replica run", "%v", err)
	}
	spec.Faults = rf.duration
	if err := os.MkdirAll(rf.out, 0o755); err != nil { // find out now, not at the first failure
		return usageError(stderr, "replica run", "-out %s: %v", rf.out, err)
	}

	c := &campaign.Campaign{Spec: spec, Workers: rf.workers, OutDir: rf.out,
		CheckDeterminism: rf.checkDeterminism, SeedTimeout: rf.seedTimeout}
	if err := rf.checks.apply(spec, c); err != nil {
		return usageError(stderr, "replica run", "%v", err)
	}
	fl, err := ff.plan(fs, c, rf.seeds, rf.seedStart)
	if err != nil {
		return usageError(stderr, "replica run", "%v", err)
	}
	defer fl.close()
	c.OnResult = func(r campaign.Result) {
		fl.record(r)
		if rf.verbose && !rf.json {
			fl.clearProgress()
			printSeed(stdout, spec, r)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := fl.run(ctx, c, stderr)
	if err != nil {
		return usageError(stderr, "replica run", "%v", err)
	}
	c.Detail(&sum, campaign.DetailLimit)
	if ff.junit != "" {
		if err := writeJUnit(ff.junit, spec, fl, sum); err != nil {
			return usageError(stderr, "replica run", "-junit: %v", err)
		}
	}
	if rf.json {
		printJSON(stdout, fl.report(sum))
	} else {
		fl.printHead(stdout)
		printSummary(stdout, spec, fl.seeds, sum)
	}
	if sum.Failed() || fl.corpusFailures() > 0 {
		return 1
	}
	return 0
}

func printSeed(w io.Writer, spec *scenarios.Spec, r campaign.Result) {
	verdict := "ok"
	if r.Violation != nil {
		verdict = "FAIL " + r.Violation.Property
	}
	profile := ""
	if spec.Scenario.Swarm {
		res := spec.Run(r.Seed) // swarm draws the profile per seed: show it
		profile = "  profile: " + res.Profile.String()
	}
	fmt.Fprintf(w, "seed %d: %s  events=%d trace=%s%s\n", r.Seed, verdict, r.Events, r.TraceHash, profile)
}

func printJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(w, string(b))
}

func printSummary(w io.Writer, spec *scenarios.Spec, seeds []uint64, s campaign.Summary) {
	fmt.Fprintf(w, "%s  n=%d", spec.Name(), spec.Cluster.N)
	if spec.Cluster.F > 0 {
		fmt.Fprintf(w, " f=%d", spec.Cluster.F)
	}
	if len(seeds) > 0 {
		fmt.Fprintf(w, "  seeds %d..%d", seeds[0], seeds[len(seeds)-1])
	}
	fmt.Fprintln(w)
	if !spec.Scenario.Swarm {
		fmt.Fprintf(w, "  profile: %s\n", spec.Config().Profile)
	}
	fmt.Fprintf(w, "  %d seeds, %d failures, %d events, %.1f virtual s", s.SeedsRun, s.Failures, s.Events, s.Virtual)
	if s.Wall > 0 { // a merged summary has no wall time of its own
		fmt.Fprintf(w, " in %.2f s (%.0f seeds/s)", s.Wall, float64(s.SeedsRun)/s.Wall)
	}
	fmt.Fprintln(w)
	if s.Interrupted {
		fmt.Fprintf(w, "  interrupted: %d of %d seeds ran\n", s.SeedsRun, len(seeds))
	}
	fmt.Fprintf(w, "  faults: %s\n", countsLine(s.Faults))
	if len(s.Sometimes) > 0 {
		fmt.Fprintf(w, "  sometimes: %s\n", sometimesLine(s.Sometimes, s.SeedsRun))
	}
	if s.Ops > 0 {
		fmt.Fprintf(w, "  client operations: %d (%d with unknown outcome)\n", s.Ops, s.Unknown)
	}
	printChecks(w, s)
	fmt.Fprintf(w, "  campaign hash %s\n", s.CampaignHash)
	for i, v := range s.Violations {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more failing seeds\n", s.Failures-10)
			break
		}
		fmt.Fprintf(w, "FAIL seed %d: %s violated at %.3fs (event %d): %s\n", v.Seed, v.Property, v.Time, v.Event, v.Message)
		if v.Capsule != "" {
			fmt.Fprintf(w, "     capsule %s  (replica replay %s)\n", v.Capsule, v.Capsule)
		}
	}
	if len(s.Violations) > 0 {
		printReport(w, s.Violations[0])
	}
}

// countsLine prints fault counts in the simulator's fixed order of kinds.
func countsLine(m map[string]int) string {
	var parts []string
	for k := sim.Kind(0); k < sim.NumKinds; k++ {
		if n := m[k.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none fired"
	}
	return strings.Join(parts, ", ")
}

func sometimesLine(m map[string]int, runs int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		mark := ""
		if m[k] == 0 {
			mark = " (NEVER)"
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d%s", k, m[k], runs, mark))
	}
	return strings.Join(parts, ", ")
}
