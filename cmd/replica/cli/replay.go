package cli

import (
	"fmt"
	"io"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

func init() {
	register(command{name: "replay", summary: "re-run a capsule's run exactly and show its violation", run: runReplay})
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
}

// violationJSON is a violation as the JSON of replay and show gives it.
type violationJSON = campaign.RunViolation

func newViolationJSON(v *sim.Violation) *violationJSON { return campaign.NewRunViolation(v) }

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("replay", "[-json] [-v] CAPSULE", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	verbose := fs.Bool("v", false, "print the whole event trace")
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "replay", "want exactly one capsule file, got %d arguments", len(pos))
	}
	path := pos[0]
	c, err := capsule.Read(path)
	if err != nil {
		return usageError(stderr, "replay", "%v", err)
	}
	rp, err := scenarios.ReplayCapsule(c)
	if err != nil {
		return usageError(stderr, "replay", "capsule %s: %v", path, err)
	}
	r := rp.Result
	rep := replayReport{
		Capsule: path, Protocol: c.Protocol, Bug: c.Bug, Scenario: c.Scenario, Seed: c.Seed,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash), ExpectedTraceHash: fmt.Sprintf("%016x", c.TraceHash),
		Diverged: rp.Diverged, ExpectedProperty: c.Property, Violation: newViolationJSON(r.Violation),
		Events: r.Events,
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
	switch {
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
	v := r.Violation
	if v == nil {
		fmt.Fprintf(w, "  no violation: the recorded %q does not occur any more\n", c.Property)
		return
	}
	fmt.Fprintf(w, "  VIOLATION %s at %.3fs (event %d): %s\n", v.Property, v.Time.Seconds(), v.Event, v.Message)
	if c.Property != "" && v.Property != c.Property {
		fmt.Fprintf(w, "  (the capsule recorded %s)\n", c.Property)
	}
	for _, d := range v.Details {
		fmt.Fprintf(w, "    %s\n", d)
	}
	if !verbose {
		fmt.Fprintf(w, "  the last %d events (all of them with -v):\n", len(v.Context))
		for _, e := range v.Context {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}
