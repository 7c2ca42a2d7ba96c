package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/replica-io/replica/protocols/twophase"
	"github.com/replica-io/replica/sim/explore"
)

func init() {
	register(command{name: "explore", summary: "check a protocol exhaustively over all its reachable states", run: runExplore})
}

// exploreTarget is a model ready to explore, with its state type hidden behind closures so
// that protocols with different state types fit one command.
type exploreTarget struct {
	name  string // for the report, e.g. "twophase n=3"
	run   func(ctx context.Context, opts explore.Options) (*explore.Result, error)
	steps func(p explore.Path) ([]string, error) // one line per step of p, the initial state first
}

// lookupExploreTarget returns the model of protocol with n nodes (0: the protocol's default)
// and the seeded bug (""; none), or an error naming what is wrong. New explorable protocols
// are added here.
func lookupExploreTarget(protocol string, n int, nSet bool, bug string) (*exploreTarget, error) {
	switch protocol {
	case "twophase":
		if bug != "" {
			return nil, fmt.Errorf("protocol twophase has no bug %q (it has no seeded bugs)", bug)
		}
		if !nSet {
			n = 3
		}
		m, err := twophase.New(n)
		if err != nil {
			return nil, err
		}
		return modelTarget(fmt.Sprintf("twophase n=%d", n), m, m.Format), nil
	}
	return nil, fmt.Errorf("unknown protocol %q (known: twophase)", protocol)
}

// TwoPhase satisfies the explorer's interfaces without importing them; these lines make the
// compiler check that it still does.
var (
	_ explore.Model[twophase.State]          = (*twophase.Model)(nil)
	_ explore.SymmetricModel[twophase.State] = (*twophase.Model)(nil)
	_ explore.ProgressModel[twophase.State]  = (*twophase.Model)(nil)
	_ explore.LabeledModel[twophase.State]   = (*twophase.Model)(nil)
)

// modelTarget wraps a model whose states format shows.
func modelTarget[S any](name string, m explore.Model[S], format func(S) string) *exploreTarget {
	return &exploreTarget{
		name: name,
		run: func(ctx context.Context, opts explore.Options) (*explore.Result, error) {
			return explore.Run(ctx, m, opts)
		},
		steps: func(p explore.Path) ([]string, error) {
			states, err := explore.Replay(m, p)
			if err != nil {
				return nil, err
			}
			labels, err := explore.Labels(m, p)
			if err != nil {
				return nil, err
			}
			lines := []string{fmt.Sprintf("initial state %d: %s", p.Init, format(states[0]))}
			for i, l := range labels {
				lines = append(lines, fmt.Sprintf("%s: %s", l, format(states[i+1])))
			}
			return lines, nil
		},
	}
}

func runExplore(args []string, stdout, stderr io.Writer) int {
	target, opts, asJSON, err := parseExploreArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlagPrinted):
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "replica explore: %v\n", err)
		return 2
	}
	if isTerminal(stderr) {
		opts.Report = func(s explore.Status) {
			fmt.Fprintf(stderr, "\r%s: %d states, %d unique, depth %d, %.0f states/s   ",
				s.Elapsed.Round(time.Second), s.Transitions, s.Unique, s.Depth, s.StatesPerSecond)
		}
	}
	return target.explore(opts, asJSON, stdout, stderr)
}

// errFlagPrinted means that the flag package has already printed what is wrong.
var errFlagPrinted = errors.New("bad flag")

// parseExploreArgs reads explore's flags into a target and search options.
func parseExploreArgs(args []string, stderr io.Writer) (*exploreTarget, explore.Options, bool, error) {
	fs := flag.NewFlagSet("explore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	protocol := fs.String("protocol", "twophase", "protocol to explore (twophase)")
	n := fs.Int("n", 0, "number of nodes (twophase: resource managers, default 3)")
	bug := fs.String("bug", "", "seeded bug to switch on (twophase has none)")
	strategy := fs.String("strategy", "bfs", "search order: bfs (shortest counterexamples) or dfs")
	maxDepth := fs.Int("max-depth", 0, "do not expand states deeper than this (0: no limit)")
	maxStates := fs.Int64("max-states", 0, "stop once this many unique states are stored (0: no limit)")
	timeout := fs.Duration("timeout", 0, "stop after this long, e.g. 10m (0: no limit)")
	workers := fs.Int("workers", runtime.NumCPU(), "goroutines expanding a breadth-first level; results do not depend on it")
	symmetry := fs.Bool("symmetry", false, "store one state per class of symmetric states")
	checkProgress := fs.Bool("check-progress", false, "check that a progress state stays reachable from every state (stores the whole graph)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: replica explore [flags]")
		fs.PrintDefaults()
	}
	opts := explore.Options{}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, opts, false, err
		}
		return nil, opts, false, errFlagPrinted
	}
	switch {
	case fs.NArg() > 0:
		return nil, opts, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *strategy != "bfs" && *strategy != "dfs":
		return nil, opts, false, fmt.Errorf("-strategy %q: want bfs or dfs", *strategy)
	case *maxDepth < 0 || *maxStates < 0 || *timeout < 0:
		return nil, opts, false, errors.New("-max-depth, -max-states and -timeout must not be negative")
	case *workers < 1:
		return nil, opts, false, fmt.Errorf("-workers %d: want at least 1", *workers)
	}
	opts = explore.Options{
		MaxDepth: *maxDepth, MaxStates: *maxStates, Timeout: *timeout,
		Workers: *workers, Symmetry: *symmetry, CheckProgress: *checkProgress,
	}
	if *strategy == "dfs" {
		opts.Strategy = explore.DepthFirst
	}
	nSet := false
	fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
	target, err := lookupExploreTarget(*protocol, *n, nSet, *bug)
	return target, opts, *asJSON, err
}

// explore runs the search and prints its report; it returns the exit status.
func (t *exploreTarget) explore(opts explore.Options, asJSON bool, stdout, stderr io.Writer) int {
	r, err := t.run(context.Background(), opts)
	if opts.Report != nil {
		fmt.Fprint(stderr, "\r\033[K") // clear the progress line
	}
	if err != nil {
		fmt.Fprintf(stderr, "replica explore: %s: %v\n", t.name, err)
		return 2
	}
	rep, err := newExploreReport(t, opts, r)
	if err != nil {
		fmt.Fprintf(stderr, "replica explore: %s: %v\n", t.name, err)
		return 2
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "replica explore: %v\n", err)
			return 2
		}
	} else {
		rep.printText(stdout)
	}
	if rep.failed() {
		return 1
	}
	return 0
}

// exploreReport is what explore prints, as text or as JSON.
type exploreReport struct {
	Target          string       `json:"target"`
	Strategy        string       `json:"strategy"`
	Workers         int          `json:"workers"`
	Symmetry        bool         `json:"symmetry"`
	UniqueStates    int64        `json:"unique_states"`
	Transitions     int64        `json:"transitions"`
	MaxDepth        int          `json:"max_depth"`
	WallSeconds     float64      `json:"wall_seconds"`
	StatesPerSecond float64      `json:"states_per_second"`
	PeakMemoryBytes int64        `json:"peak_memory_bytes"`
	StoreBytes      int64        `json:"store_bytes"` // held for states: visited set and frontier
	Complete        bool         `json:"complete"`
	Stopped         string       `json:"stopped,omitempty"`
	Violation       *pathOut     `json:"violation"`
	Sometimes       []witnessOut `json:"sometimes,omitempty"`
	ProgressChecked bool         `json:"progress_checked"`
	Stuck           *pathOut     `json:"stuck,omitempty"` // a state from which no progress state is reachable
}

// witnessOut is a sometimes-property and a path to where it holds; null: never reached.
type witnessOut struct {
	Property string   `json:"property"`
	Witness  *pathOut `json:"witness"`
}

// pathOut is a path as explore shows it: the action numbers that replay it, and a line per
// step for people.
type pathOut struct {
	Property string   `json:"property,omitempty"`
	Init     int      `json:"init"`
	Path     []int    `json:"path"`
	Steps    []string `json:"steps"`
	Capsule  string   `json:"capsule"` // a replay capsule's file; not written by explore yet
}

func newExploreReport(t *exploreTarget, opts explore.Options, r *explore.Result) (*exploreReport, error) {
	rep := &exploreReport{
		Target: t.name, Strategy: opts.Strategy.String(), Workers: opts.Workers, Symmetry: opts.Symmetry,
		UniqueStates: r.Unique, Transitions: r.Transitions, MaxDepth: r.MaxDepth,
		WallSeconds: r.Wall.Seconds(), StatesPerSecond: r.StatesPerSecond,
		PeakMemoryBytes: r.PeakMemoryBytes, StoreBytes: r.StoreBytes,
		Complete: r.Complete, Stopped: r.Stopped,
	}
	if opts.Strategy == explore.DepthFirst {
		rep.Workers = 1
	}
	out := func(property string, p *explore.Path) (*pathOut, error) {
		if p == nil {
			return nil, nil
		}
		steps, err := t.steps(*p)
		return &pathOut{Property: property, Init: p.Init, Path: p.Actions, Steps: steps}, err
	}
	var err error
	if v := r.Violation; v != nil {
		if rep.Violation, err = out(v.Property, &v.Path); err != nil {
			return nil, err
		}
	}
	for _, w := range r.Witnesses {
		p, err := out(w.Property, w.Path)
		if err != nil {
			return nil, err
		}
		rep.Sometimes = append(rep.Sometimes, witnessOut{w.Property, p})
	}
	if r.Progress != nil {
		rep.ProgressChecked = true
		if rep.Stuck, err = out("progress", r.Progress.Stuck); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// failed reports whether the search found something wrong: a violation, a stuck state, or,
// in a complete search, a sometimes-property never reached.
func (rep *exploreReport) failed() bool {
	if rep.Violation != nil || rep.Stuck != nil {
		return true
	}
	for _, s := range rep.Sometimes {
		if s.Witness == nil && rep.Complete {
			return true
		}
	}
	return false
}

func (rep *exploreReport) printText(w io.Writer) {
	fmt.Fprintf(w, "explore %s (%s, %d workers, symmetry %t)\n", rep.Target, rep.Strategy, rep.Workers, rep.Symmetry)
	fmt.Fprintf(w, "  unique states      %d\n", rep.UniqueStates)
	fmt.Fprintf(w, "  transitions        %d\n", rep.Transitions)
	fmt.Fprintf(w, "  maximum depth      %d\n", rep.MaxDepth)
	fmt.Fprintf(w, "  wall time          %.2fs\n", rep.WallSeconds)
	fmt.Fprintf(w, "  states per second  %.0f\n", rep.StatesPerSecond)
	fmt.Fprintf(w, "  peak memory        %.1f MiB\n", float64(rep.PeakMemoryBytes)/(1<<20))
	if rep.UniqueStates > 0 {
		fmt.Fprintf(w, "  bytes per state    %.1f (visited set and frontier)\n", float64(rep.StoreBytes)/float64(rep.UniqueStates))
	}
	if rep.Complete {
		fmt.Fprintln(w, "  search             complete")
	} else {
		fmt.Fprintf(w, "  search             stopped early: %s\n", rep.Stopped)
	}
	printPath := func(title string, p *pathOut) {
		fmt.Fprintf(w, "%s (%d steps):\n", title, len(p.Path))
		for _, s := range p.Steps {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	for _, s := range rep.Sometimes {
		switch {
		case s.Witness != nil:
			fmt.Fprintf(w, "sometimes %s: reached in %d steps\n", s.Property, len(s.Witness.Path))
		case rep.Complete:
			fmt.Fprintf(w, "SOMETIMES %s: NEVER REACHED\n", s.Property)
		default:
			fmt.Fprintf(w, "sometimes %s: not reached before the search stopped\n", s.Property)
		}
	}
	if rep.Stuck != nil {
		printPath("PROGRESS VIOLATED: no progress state is reachable from the last state", rep.Stuck)
	} else if rep.ProgressChecked {
		fmt.Fprintln(w, "progress: a progress state is reachable from every state")
	}
	if rep.Violation != nil {
		printPath("VIOLATION of "+rep.Violation.Property, rep.Violation)
	} else {
		fmt.Fprintln(w, "no violation")
	}
}
