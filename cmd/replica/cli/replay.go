package cli

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

func init() {
	register(command{name: "replay", summary: "re-run a capsule's run (or a seed) exactly and show its violation", run: runReplay})
}

// replayReport is what `replica replay -json` prints.
type replayReport struct {
	Capsule           string         `json:"capsule"`
	Protocol          string         `json:"protocol"`
	Bug               string         `json:"bug"`
	Scenario          string         `json:"scenario"`
	Seed              uint64         `json:"seed"`
	Reproduced        bool           `json:"reproduced"`
	TraceHash         string         `json:"trace_hash"`
	ExpectedTraceHash string         `json:"expected_trace_hash"`
	SameTrace         bool           `json:"same_trace"`
	Diverged          bool           `json:"diverged"`
	ExpectedProperty  string         `json:"expected_property"`
	Violation         *violationJSON `json:"violation"`
	Events            int            `json:"events"`
	// Hung says that the run did not finish within -seed-timeout (a violation of no-hang).
	Hung bool `json:"hung,omitempty"`
}

// violationJSON is a violation as the JSON of replay and show gives it.
type violationJSON = campaign.RunViolation

func newViolationJSON(v *sim.Violation) *violationJSON { return campaign.NewRunViolation(v) }

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "[-json] [-v] [-seed-timeout D] [-max-memory SIZE] CAPSULE\n   or: "+prog+
		" replay [-json] [-v] -protocol P [-bug B] [-scenario S] [-n N] [-f F] [-duration D] -seed N", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "print the whole event trace")
	seedTimeout := fs.Duration("seed-timeout", campaign.DefaultSeedTimeout, "wall time after which the run counts as hung (as in run): a violation of no-hang that names the step that loops")
	seed := fs.Uint64("seed", 0, "run this seed of -protocol, -bug and -scenario as `replica run` does, instead of a capsule (a seed that hung has none)")
	protocol := fs.String("protocol", "paxos", "with -seed: the protocol")
	bug := fs.String("bug", "", "with -seed: the seeded-bug variant")
	scenario := fs.String("scenario", "", "with -seed: the scenario (default: the one that finds -bug, else 'default')")
	n := fs.Int("n", 0, "with -seed: number of nodes (default: the scenario's or the protocol's)")
	f := fs.Int("f", 0, "with -seed: number of Byzantine nodes among the n")
	duration := fs.Duration("duration", 0, "with -seed: length of the fault phase in virtual time (default: the scenario's)")
	maxMemory := addWatchMemory(fs)
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	sim.WatchMemory(int64(*maxMemory))
	bySeed := false
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "seed" {
			bySeed = true
		}
	})
	switch {
	case *seedTimeout <= 0:
		return usageError(stderr, "replay", "-seed-timeout %v: must be positive", *seedTimeout)
	case bySeed && len(pos) > 0:
		return usageError(stderr, "replay", "-seed runs a seed, not a capsule: unexpected argument %q", pos[0])
	case bySeed:
		spec, err := scenarios.Resolve(*protocol, *bug, *scenario, *n, *f)
		if err != nil {
			return usageError(stderr, "replay", "%v", err)
		}
		if *duration < 0 {
			return usageError(stderr, "replay", "-duration %v: must be positive", *duration)
		}
		spec.Faults = *duration
		return replaySeed(stdout, spec, *seed, *seedTimeout, *asJSON, *verbose)
	case len(pos) != 1:
		return usageError(stderr, "replay", "want exactly one capsule file (or -seed N), got %d arguments", len(pos))
	}
	path := pos[0]
	c, err := capsule.Read(path)
	if err != nil {
		return usageError(stderr, "replay", "%v", err)
	}
	rp, err := scenarios.ReplayCapsuleWatched(c, *seedTimeout)
	if err != nil {
		return usageError(stderr, "replay", "capsule %s: %v", path, err)
	}
	r := rp.Result
	rep := replayReport{
		Capsule: path, Protocol: c.Protocol, Bug: c.Bug, Scenario: c.Scenario, Seed: c.Seed,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash), ExpectedTraceHash: fmt.Sprintf("%016x", c.TraceHash),
		Diverged: rp.Diverged, ExpectedProperty: c.Property, Violation: newViolationJSON(r.Violation),
		Events: r.Events, Hung: rp.Stuck != nil,
	}
	if rp.Stuck != nil {
		rep.TraceHash = "hung"
	}
	rep.SameTrace = rep.TraceHash == rep.ExpectedTraceHash
	rep.Reproduced = r.Violation != nil && (c.Property == "" || r.Violation.Property == c.Property)
	if *asJSON {
		printJSON(stdout, rep)
	} else {
		printReplay(stdout, rp, c, rep, *verbose)
	}
	if r.Violation != nil {
		return 1
	}
	return 0
}

// replaySeed runs a seed again, as `replica run` ran it, and prints its outcome.
func replaySeed(w io.Writer, spec *scenarios.Spec, seed uint64, timeout time.Duration, asJSON, verbose bool) int {
	rp := scenarios.ReplaySeed(spec, seed, timeout)
	r := rp.Result
	rep := replayReport{Protocol: spec.Protocol.Name, Bug: spec.Variant(), Scenario: spec.Scenario.Name, Seed: seed,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash), Violation: newViolationJSON(r.Violation), Events: r.Events,
		Hung: rp.Stuck != nil, Reproduced: r.Violation != nil}
	if rp.Stuck != nil {
		rep.TraceHash = "hung"
	}
	if asJSON {
		printJSON(w, rep)
	} else {
		fmt.Fprintf(w, "replay %s n=%d seed %d\n", rp.Name, rp.N, seed)
		if verbose {
			for _, e := range r.Trace {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
		if rp.Stuck == nil {
			fmt.Fprintf(w, "  trace %s (%d events)\n", rep.TraceHash, r.Events)
		}
		if r.Violation == nil {
			fmt.Fprintln(w, "  no violation")
		} else {
			printViolation(w, rp, "", verbose)
		}
	}
	if r.Violation != nil {
		return 1
	}
	return 0
}

func printReplay(w io.Writer, rp *scenarios.Replayed, c *capsule.Capsule, rep replayReport, verbose bool) {
	r := rp.Result
	if rp.Untimed {
		fmt.Fprintf(w, "replay %s: %s, a path of %d steps (written by %s)\n", rep.Capsule, rp.Name, len(c.Choices), c.Source)
	} else {
		fmt.Fprintf(w, "replay %s: %s n=%d seed %d (%d choices, written by %s)\n",
			rep.Capsule, rp.Name, rp.N, c.Seed, len(c.Choices), c.Source)
	}
	if verbose {
		for _, e := range r.Trace {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	nondeterministic := r.Violation != nil && r.Violation.Property == scenarios.PropDeterminism
	switch {
	case rp.Stuck != nil:
	case !rep.SameTrace && nondeterministic:
		fmt.Fprintf(w, "  trace %s differs from the recorded %s: the run is not deterministic (below)\n", rep.TraceHash, rep.ExpectedTraceHash)
	case rep.SameTrace && rep.Diverged:
		fmt.Fprintf(w, "  trace %s: identical to the recorded run (%d events), though the run did not use the capsule's choices as recorded\n", rep.TraceHash, r.Events)
	case rep.SameTrace:
		fmt.Fprintf(w, "  trace %s: identical to the recorded run (%d events)\n", rep.TraceHash, r.Events)
	case rep.Diverged:
		fmt.Fprintf(w, "  trace %s differs from the recorded %s, and the run asked for choices the capsule does not hold: "+
			"the code changed since the capsule was written\n", rep.TraceHash, rep.ExpectedTraceHash)
	default:
		fmt.Fprintf(w, "  trace %s differs from the recorded %s: the code changed since the capsule was written\n",
			rep.TraceHash, rep.ExpectedTraceHash)
	}
	if r.Violation == nil {
		fmt.Fprintf(w, "  no violation: the recorded %q does not occur any more\n", c.Property)
		return
	}
	printViolation(w, rp, c.Property, verbose)
}

// printViolation prints a replayed run's violation; recorded is the property its capsule
// recorded, if any.
func printViolation(w io.Writer, rp *scenarios.Replayed, recorded string, verbose bool) {
	v := rp.Result.Violation
	fmt.Fprintf(w, "  VIOLATION %s at %.3fs (event %d): %s\n", v.Property, v.Time.Seconds(), v.Event, v.Message)
	if recorded != "" && v.Property != recorded {
		fmt.Fprintf(w, "  (the capsule recorded %s)\n", recorded)
	}
	for _, d := range v.Details {
		fmt.Fprintf(w, "    %s\n", d)
	}
	if rp.Stuck != nil {
		fmt.Fprintf(w, "  the run did not finish, so it has no trace to show: the stuck goroutine's frames are above\n")
		return
	}
	if !verbose {
		fmt.Fprintf(w, "  the last %d events (all of them with -v):\n", len(v.Context))
		for _, e := range v.Context {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}
