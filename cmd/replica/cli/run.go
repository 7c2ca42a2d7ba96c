package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
	capsules                int
	json, verbose           bool
	checkDeterminism        bool
	seedTimeout             time.Duration
	guided                  bool
	guidedCorpus            string
	checks                  *checkFlags
}

func runCampaign(args []string, stdout, stderr io.Writer) int {
	var rf runFlags
	fs := newFlags("run", "[flags]", stderr)
	fs.StringVar(&rf.protocol, "protocol", "paxos", "the protocol to run (see '"+prog+" list')")
	fs.StringVar(&rf.bug, "bug", "", "a seeded-bug variant of the protocol")
	fs.StringVar(&rf.scenario, "scenario", "", "the scenario (default: the one that finds -bug, else 'default')")
	fs.IntVar(&rf.n, "n", 0, "number of nodes (default: the scenario's or the protocol's)")
	fs.IntVar(&rf.f, "f", 0, "number of Byzantine nodes among the n")
	fs.IntVar(&rf.seeds, "seeds", 1000, "number of seeds to run")
	fs.Uint64Var(&rf.seedStart, "seed-start", 0, "the first seed")
	fs.IntVar(&rf.workers, "workers", 0, "seeds run in parallel (default: the number of CPUs); results do not depend on it")
	fs.DurationVar(&rf.duration, "duration", 0, "length of the fault phase in virtual time (default: the scenario's)")
	fs.StringVar(&rf.out, "out", "replica-out", "directory for the capsules of failing seeds")
	fs.IntVar(&rf.capsules, "capsules", campaign.DefaultCapsules, "at most this many failing seeds get a capsule (-1: every one); the rest are listed by seed")
	fs.BoolVar(&rf.json, "json", false, "print one JSON object with the campaign's summary")
	fs.BoolVar(&rf.verbose, "v", false, "print every seed's outcome and fault profile")
	fs.BoolVar(&rf.checkDeterminism, "check-determinism", false, "run every seed twice and fail seeds whose traces differ")
	fs.DurationVar(&rf.seedTimeout, "seed-timeout", campaign.DefaultSeedTimeout, "wall time after which a seed counts as hung")
	fs.BoolVar(&rf.guided, "guided", false, "a guided search: after the first runs, each run mutates an earlier one that reached new coverage (-seeds runs in all)")
	fs.StringVar(&rf.guidedCorpus, "guided-corpus", "", "with -guided, seed the corpus from the capsules under `DIR` and write the new entries there")
	rf.checks = addCheckFlags(fs)
	ff := addFleetFlags(fs)
	maxMemory := addWatchMemory(fs)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	sim.WatchMemory(int64(*maxMemory))
	if fs.NArg() > 0 {
		return usageError(stderr, "run", "unexpected argument %q", fs.Arg(0))
	}
	set := setFlags(fs)
	switch {
	case rf.seeds < 1:
		return usageError(stderr, "run", "-seeds %d: must be at least 1", rf.seeds)
	case rf.workers < 0:
		return usageError(stderr, "run", "-workers %d: must be at least 1 (or 0 for the number of CPUs)", rf.workers)
	case rf.n < 0 || set["n"] && rf.n == 0: // unset, 0 is the default
		return usageError(stderr, "run", "-n %d: must be positive", rf.n)
	case rf.duration < 0 || set["duration"] && rf.duration == 0:
		return usageError(stderr, "run", "-duration %v: must be positive", rf.duration)
	case rf.seedTimeout <= 0:
		return usageError(stderr, "run", "-seed-timeout %v: must be positive", rf.seedTimeout)
	}
	tuneCampaignGC()
	spec, err := scenarios.Resolve(rf.protocol, rf.bug, rf.scenario, rf.n, rf.f)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	spec.Faults = rf.duration

	if rf.capsules == 0 || rf.capsules < -1 {
		return usageError(stderr, "run", "-capsules %d: want a positive count, or -1 for every failing seed", rf.capsules)
	}
	c := &campaign.Campaign{Spec: spec, Workers: rf.workers, OutDir: rf.out, Capsules: rf.capsules,
		CheckDeterminism: rf.checkDeterminism, SeedTimeout: rf.seedTimeout, Guided: rf.guided}
	if err := rf.checks.apply(spec, c); err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	plan, err := ff.plan(fs, rf.seeds, rf.seedStart)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	plan.GuidedCorpus = rf.guidedCorpus
	var show seedDisplay
	c.OnResult = func(r campaign.Result) {
		show.add(r)
		if rf.verbose && !rf.json {
			show.clear()
			printSeed(stdout, spec, r)
		}
	}
	runner, err := c.Prepare(plan)
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	defer runner.Close()
	for _, u := range c.Head().Unfireable {
		fmt.Fprintf(stderr, "note: enabled but can never fire: %s\n", u)
	}
	if !scenarios.DeclaresChecks(spec.Protocol) {
		fmt.Fprintf(stderr, "note: %s\n", scenarios.NoChecksNote(spec.Protocol))
	}
	show.start(stderr, runner.Todo(), plan.TimeBudget)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }() // a second interrupt ends the process at once
	rep, err := runner.Run(ctx)
	show.clear()
	if err == nil {
		err = runner.Close()
	}
	if err != nil {
		return usageError(stderr, "run", "%v", err)
	}
	if rf.json {
		printJSON(stdout, rep)
	} else {
		printHead(stdout, plan, rep)
		printSummary(stdout, spec, rep.Seeds, rep.Summary, rf.checkDeterminism, searchLines(rep))
	}
	if rep.Interrupted {
		hint := stdout
		if rf.json {
			hint = stderr
		}
		printResumeHint(hint, args, plan, runner, rf.out, spec)
		return exitInterrupted
	}
	return campaignExitCode(rep.Summary, rep.Failed())
}

// campaignExitCode is a finished campaign's exit status: 1 when it failed (a violation, a
// corpus capsule, coverage), else 3 when some runs stopped at their event budget before their
// end (they were not checked whole), else 0.
func campaignExitCode(s campaign.Summary, failed bool) int {
	switch {
	case failed:
		return 1
	case s.Exhausted > 0:
		return exitIncomplete
	}
	return 0
}

// exitInterrupted is the exit status of a campaign stopped by an interrupt (SIGINT), as a
// shell reports a process killed by it: 128 + the signal's number.
const exitInterrupted = 130

// printResumeHint says how to run the rest of an interrupted campaign. Without a results file
// the results so far are saved beside the capsules, so that -resume has one.
func printResumeHint(w io.Writer, args []string, plan campaign.Plan, runner *campaign.Runner, out string, spec *scenarios.Spec) {
	file := plan.Results
	if file == "" {
		file = filepath.Join(out, filepath.Dir(campaign.CapsuleName(spec, 0)), spec.Scenario.Name+".results.jsonl")
		if err := runner.SaveResults(file); err != nil {
			fmt.Fprintf(w, "  the results so far could not be saved (%v): rerun with -results FILE to be able to resume\n", err)
			return
		}
		fmt.Fprintf(w, "  the results so far are saved in %s\n", file)
	}
	fmt.Fprintf(w, "  to run the rest: %s\n", resumeCommand(args, file))
}

// resumeCommand is the command line args with -resume file in place of -results and -resume.
func resumeCommand(args []string, file string) string {
	cmd := []string{prog, "run"}
	for i := 0; i < len(args); i++ {
		name := strings.TrimLeft(args[i], "-")
		if strings.HasPrefix(args[i], "-") && (name == "results" || name == "resume") {
			i++ // and its value
			continue
		}
		if strings.HasPrefix(args[i], "-") && (strings.HasPrefix(name, "results=") || strings.HasPrefix(name, "resume=")) {
			continue
		}
		cmd = append(cmd, shellQuote(args[i]))
	}
	return strings.Join(append(cmd, "-resume", shellQuote(file)), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func printSeed(w io.Writer, spec *scenarios.Spec, r campaign.Result) {
	verdict := "ok"
	if r.Violation != nil {
		verdict = "FAIL " + r.Violation.Property
	}
	profile := ""
	if g := r.Guided; g != nil {
		profile = "  " + guidedOrigin(g)
	} else if spec.Scenario.Swarm {
		res := spec.Run(r.Seed) // swarm draws the profile per seed: show it
		profile = "  profile: " + res.Profile.String()
	}
	fmt.Fprintf(w, "seed %d: %s  events=%d trace=%s%s\n", r.Seed, verdict, r.Events, r.TraceHash, profile)
}

func printJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(w, string(b))
}

func printSummary(w io.Writer, spec *scenarios.Spec, seeds []uint64, s campaign.Summary, determinism bool, search []string) {
	fmt.Fprintf(w, "%s  n=%d", spec.Name(), spec.Cluster.N)
	if spec.Cluster.F > 0 {
		fmt.Fprintf(w, " f=%d", spec.Cluster.F)
	}
	if len(seeds) > 0 {
		fmt.Fprintf(w, "  seeds %d..%d", seeds[0], seeds[len(seeds)-1])
	}
	fmt.Fprintln(w)
	if !spec.Scenario.Swarm {
		prof := spec.Config().Profile
		line := prof.String()
		if spec.Cluster.F > 0 && prof.Byzantine.Drawn() && !prof.Byzantine.Swarm {
			line += " byzantine=swarm" // what the Byzantine nodes do when the profile says nothing
		}
		fmt.Fprintf(w, "  profile: %s\n", line)
	}
	fmt.Fprintf(w, "  %d seeds, %d failures, %d events, %.1f virtual s", s.SeedsRun, s.Failures, s.Events, s.Virtual)
	if s.Wall > 0 { // a merged summary has no wall time of its own
		fmt.Fprintf(w, " in %.2f s (%.0f seeds/s)", s.Wall, float64(s.SeedsRun)/s.Wall)
	}
	fmt.Fprintln(w)
	if s.Interrupted {
		fmt.Fprintf(w, "  interrupted: %d of %d seeds ran\n", s.SeedsRun, len(seeds))
	}
	if h := s.StoppedByHang; h != nil {
		notRun := "the rest of the time budget was not used"
		if h.NotRun >= 0 {
			notRun = fmt.Sprintf("%d of %d seeds not run", h.NotRun, len(seeds))
		}
		fmt.Fprintf(w, "  INCOMPLETE: stopped after seed %d hung: %s (a step that loops cannot be stopped, and keeps a core busy "+
			"until the command exits); fix the loop and run again\n", h.Seed, notRun)
	}
	if s.Hung > 0 {
		fmt.Fprintf(w, "  %s: their counts are not included below\n", hungRuns(s))
	}
	if s.Exhausted > 0 {
		fmt.Fprintf(w, "  event budget used up: %d of %d runs stopped before their end, still taking events as virtual time "+
			"advanced; checked up to there, not failed, but not checked whole (a shorter -duration checks them whole; exit status %d)\n",
			s.Exhausted, s.SeedsRun, exitIncomplete)
	}
	if s.Hung < s.SeedsRun || s.SeedsRun == 0 {
		printCounts(w, spec, s)
	}
	printChecks(w, s)
	if determinism {
		printDeterminism(w, s)
	}
	for _, l := range search {
		fmt.Fprintf(w, "  %s\n", l)
	}
	fmt.Fprintf(w, "  campaign hash %s\n", s.CampaignHash)
	for i, v := range s.Violations {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more failing seeds\n", s.Failures-10)
			break
		}
		fmt.Fprintf(w, "FAIL seed %d: %s violated at %.3fs (event %d): %s\n", v.Seed, v.Property, v.Time, v.Event, v.Message)
		if why, failed := campaign.CapsuleError(v.Capsule); failed {
			fmt.Fprintf(w, "     no capsule: it could not be written: %s\n", why)
		} else if v.Capsule != "" {
			fmt.Fprintf(w, "     capsule %s  (%s replay %s)\n", v.Capsule, prog, v.Capsule)
		} else if v.Property == campaign.PropHang && !s.Guided {
			fmt.Fprintf(w, "     no capsule for a run that did not finish; run it again: %s replay %s\n", prog, strings.Join(spec.SeedArgs(v.Seed), " "))
		} else if v.Property == campaign.PropHang {
			fmt.Fprintf(w, "     no capsule for a run that did not finish; the guided campaign makes it again from its start (-seed-start and -seeds up to run %d)\n", v.Seed)
		} else if len(s.Capsules) > 0 {
			fmt.Fprintf(w, "     no capsule: over the -capsules bound (-seed-start %d -seeds 1 writes one)\n", v.Seed)
		}
	}
	if len(s.Violations) > 0 {
		printReport(w, s.Violations[0])
	}
}

// hungRuns says how many runs of a summary hung.
func hungRuns(s campaign.Summary) string {
	if s.Hung == 1 {
		return "1 run hung"
	}
	return fmt.Sprintf("%d runs hung", s.Hung)
}

// printCounts prints what the runs that finished counted: faults, sometimes-properties,
// client operations.
func printCounts(w io.Writer, spec *scenarios.Spec, s campaign.Summary) {
	fmt.Fprintf(w, "  faults: %s\n", campaign.CountsLine(s.Faults))
	if len(s.Sometimes) > 0 {
		fmt.Fprintf(w, "  sometimes: %s\n", sometimesLine(s.Sometimes, s.SeedsRun, func(name string) (string, bool) { return spec.Scenario.Unreachable(spec.Protocol.Name, name) }))
	}
	if s.Ops > 0 {
		fmt.Fprintf(w, "  client operations: %d (%d with unknown outcome)\n", s.Ops, s.Unknown)
	}
}

// sometimesLine lists the sometimes-properties with how many runs reached each; one that no
// run reached is marked NEVER, or, if the scenario does not mean to reach it, why not.
func sometimesLine(m map[string]int, runs int, unreached func(string) (string, bool)) string {
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
			if why, ok := unreached(k); ok {
				mark = " (not in this scenario: " + why + ")"
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d%s", k, m[k], runs, mark))
	}
	return strings.Join(parts, ", ")
}

// guidedOrigin says how a guided run was made, for -v.
func guidedOrigin(g *campaign.GuidedRun) string {
	var from string
	switch {
	case g.Parent != nil:
		from = fmt.Sprintf("mutated from run %d (%s)", *g.Parent, strings.Join(g.Edits, ", "))
	case g.Corpus != "":
		from = fmt.Sprintf("mutated from %s (%s)", g.Corpus, strings.Join(g.Edits, ", "))
	default:
		from = "a plain seeded run"
	}
	if g.New > 0 {
		from += fmt.Sprintf(", new coverage %d", g.New)
	}
	return from
}

// searchLines say how the search went: runs to the first failure, how many runs without a
// failure a fixed version needs, and what a guided search kept.
func searchLines(rep campaign.Report) []string {
	var out []string
	if n := rep.RunsToFirstFailure; n != nil {
		out = append(out, fmt.Sprintf("first failure after %d %s", *n, plural(*n, "run", "runs")))
	}
	if f := rep.Findability; f != nil && rep.Hung == 0 { // a rate of runs stopped by a hang says nothing
		out = append(out, "findability: "+f.Sentence())
	}
	if g := rep.Guided; g != nil {
		loaded := ""
		if g.Loaded > 0 {
			loaded = fmt.Sprintf(" (%d from the corpus directory)", g.Loaded)
		}
		written := ""
		if g.Written > 0 {
			written = fmt.Sprintf(", %d written to the corpus directory", g.Written)
		}
		out = append(out, fmt.Sprintf("guided: a corpus of %d runs%s reaching %d coverage features%s", g.Corpus, loaded, g.Features, written))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
