package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
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
	// capsule writes a counterexample path as a replay capsule under dir and returns its
	// file and what the property's check said of the path's last state (the explorer keeps
	// only which property broke); nil for plain models, whose paths the report shows in full.
	capsule func(p explore.Path, dir string) (file, message string, err error)
	// symmetric says whether the target may be reduced by symmetry.
	symmetric bool
	// out is the directory capsules go to.
	out string
	// unbounded says that the state space may be infinite: exploring needs a limit.
	unbounded bool
	// note is said on stderr before the search (a protocol that declares nothing to check).
	note string
	// enabled names the actions enabled in a state of the model without taking them, for
	// the report of a state whose expansion did not return; nil if the model cannot.
	enabled func(state any) []string
}

// defaultProbe is the distinct states the random walks before the search may reach: on
// Paxos's default bounds they stop earlier, after about three seconds, against minutes for
// the search; about one walk in 10,000 finds its no-persist bug (docs/BENCHMARKS.md).
const defaultProbe = 200_000

// exploreArgs are explore's choices of what to explore.
type exploreArgs struct {
	protocol, bug string
	n             int
	nSet          bool
	untimed       sim.UntimedOptions
	params        map[string]int
}

// untimedDefault reports whether no flag of the untimed world was given.
func (a exploreArgs) untimedDefault() bool {
	o := a.untimed
	return o.Crashes == -1 && o.Requests == -1 && o.Timeouts == 0 && o.Clients == 0 && o.Byzantine == 0 &&
		len(o.Targets) == 0 && len(o.Faulty) == 0 && !o.Ordered && !o.Duplicate && !o.Lossy
}

// lookupExploreTarget returns the model to explore, or an error naming what is wrong: the
// plain model twophase, or any protocol of the catalog in the simulator's untimed world (the
// same code `replica run` simulates).
func lookupExploreTarget(a exploreArgs) (*exploreTarget, error) {
	if m, ok := scenarios.LookupModel(a.protocol); ok {
		a.untimed.Symmetry = false // the model's own Canonical
		return modelTargetOf(m, a)
	}
	if _, err := scenarios.Protocol(a.protocol); err != nil && !known(a.protocol) {
		return nil, fmt.Errorf("unknown protocol %q (explorable: %s)", a.protocol, strings.Join(explorable(), ", "))
	}
	e, err := scenarios.ResolveExplore(a.protocol, a.bug, a.n, a.untimed, a.params)
	if err != nil {
		return nil, err
	}
	t := untimedTarget(e)
	if !scenarios.DeclaresChecks(e.Protocol) {
		t.note = scenarios.NoChecksNote(e.Protocol)
	} else {
		t.note = beyondUntimed(e.Protocol, a.bug)
	}
	return t, nil
}

// beyondUntimed says what the untimed world leaves out that the protocol or its bug counts
// on: storage faults and whole-cluster crashes, which only campaigns inject. A search that
// cannot meet a bug's faults must not pass for one that looked.
func beyondUntimed(p *node.Protocol, bug string) string {
	for _, b := range p.Bugs {
		if b.Name != bug || b.Scenario == "" {
			continue
		}
		for _, s := range scenarios.Scenarios() {
			if s.Name != b.Scenario {
				continue
			}
			if f := s.Profile(p.Timing); f.Disk || f.Corrupt+f.Torn+f.Lost+f.Full+f.Slow+f.ClusterCrash > 0 {
				return fmt.Sprintf("bug %s is found by scenario %s, whose storage faults or cluster crashes the untimed world does not inject: "+
					"a search without them cannot meet it (%s run -protocol %s -bug %s does)", bug, b.Scenario, prog, p.Name, bug)
			}
		}
	}
	if p.Tolerates.Disk != (node.DiskFaults{}) || p.Tolerates.ClusterCrash {
		return fmt.Sprintf("protocol %s declares it survives storage faults or cluster crashes; the untimed world injects neither "+
			"(crashes lose what was not synced, nothing more): campaigns check those (%s run -scenario swarm)", p.Name, prog)
	}
	return ""
}

// explorable names everything explore takes: every registered protocol, then every plain
// model.
func explorable() []string {
	var names []string
	for _, p := range scenarios.Protocols() {
		names = append(names, p.Name)
	}
	for _, m := range scenarios.Models() {
		names = append(names, m.Name)
	}
	return names
}

// known reports whether name is a registered protocol (which may still be invalid: the
// lookup's own error says why).
func known(name string) bool {
	for _, p := range scenarios.Protocols() {
		if p.Name == name {
			return true
		}
	}
	return false
}

// modelTargetOf explores a registered plain model, whose states its own Steps print.
func modelTargetOf(m *scenarios.Model, a exploreArgs) (*exploreTarget, error) {
	if a.bug != "" {
		return nil, fmt.Errorf("%s is a plain model: it has no bug %q (plain models have no seeded bugs)", m.Name, a.bug)
	}
	if !a.untimedDefault() || len(a.params) > 0 {
		return nil, fmt.Errorf("%s is a plain model: -crashes, -requests, -timeouts, -clients, -targets, -byzantine, -faulty, -network and -param do not apply", m.Name)
	}
	n := a.n
	if !a.nSet {
		n = m.DefaultN
	}
	em, err := m.New(n)
	if err != nil {
		return nil, err
	}
	return &exploreTarget{name: fmt.Sprintf("%s n=%d", m.Name, n), run: em.Explore, steps: em.Steps,
		symmetric: em.Symmetric()}, nil
}

// untimedTarget explores a protocol in the untimed world. Its paths are shown as the labels of
// their actions (states are too large to print), and written as capsules that `replica
// replay` re-runs with the whole trace.
func untimedTarget(e *scenarios.ExploreSpec) *exploreTarget {
	u := e.Untimed()
	t := modelTarget(e.Name(), explore.Model[*sim.UState](u), nil)
	run := t.run
	t.run = func(ctx context.Context, opts explore.Options) (*explore.Result, error) {
		r, err := run(ctx, opts)
		if err == nil && u.Truncated() && r.Complete {
			// Start's choices made more initial states than the world enumerates.
			r.Complete, r.Stopped = false, fmt.Sprintf("initial-states (more than %d)", sim.MaxInitial)
		}
		return r, err
	}
	t.symmetric = e.Bounds.Symmetric
	t.unbounded = !e.Bounded()
	t.steps = func(p explore.Path) ([]string, error) { return explore.Labels(u, p) }
	t.enabled = func(s any) []string {
		if us, ok := s.(*sim.UState); ok && us != nil {
			return u.Enabled(us)
		}
		return nil
	}
	t.capsule = func(p explore.Path, dir string) (string, string, error) {
		r, err := u.Replay(p.Init, p.Actions)
		if err != nil {
			return "", "", err
		}
		name := e.Protocol.Name
		if e.Cluster.Bug != "" {
			name += "-" + e.Cluster.Bug
		}
		var message string
		if r.Violation != nil {
			message = r.Violation.Message
		}
		path := filepath.Join(dir, name, fmt.Sprintf("explore-%016x.capsule", r.TraceHash))
		return path, message, capsule.Write(path, e.Capsule(p.Init, p.Actions, r))
	}
	return t
}

// modelTarget wraps a model whose states format shows.
func modelTarget[S any](name string, m explore.Model[S], format func(S) string) *exploreTarget {
	em := explore.Erase(m, format)
	return &exploreTarget{name: name, run: em.Explore, steps: em.Steps}
}

func runExplore(args []string, stdout, stderr io.Writer) int {
	target, opts, asJSON, err := parseExploreArgs(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errFlagPrinted):
		return 2
	case err != nil:
		return usageError(stderr, "explore", "%v", err)
	}
	tuneGC(opts.MaxMemory)
	if target.note != "" {
		fmt.Fprintf(stderr, "note: %s\n", target.note)
	}
	if isTerminal(stderr) {
		opts.Report = func(s explore.Status) {
			fmt.Fprintf(stderr, "\r%s: %d states, %d unique, depth %d, %.0f states/s   ",
				s.Elapsed.Round(time.Second), s.Transitions, s.Unique, s.Depth, s.StatesPerSecond)
		}
	}
	ctx := context.Background()
	if opts.Timeout > 0 {
		// -timeout bounds the whole command: the search, the progress check, and the report
		// with its paths and capsule.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		opts.Timeout = 0
	}
	return target.explore(ctx, opts, asJSON, stdout, stderr)
}

// exploreExitCode is explore's exit status for a report: 1 for something wrong found (a
// violation, a state from which progress is impossible, or in a complete search a
// sometimes-property never reached), else 3 for a search stopped before it was complete (a
// budget or -timeout), else 0: the whole space was searched and nothing is wrong.
func exploreExitCode(rep *exploreReport) int {
	switch {
	case rep.failed():
		return 1
	case !rep.Complete:
		return exitIncomplete
	}
	return 0
}

// incompleteLine says why a search is not complete.
func incompleteLine(rep *exploreReport) string {
	if rep.Probe != nil && rep.Probe.Hit >= 0 {
		return "not run: a random walk broke a property first"
	}
	if rep.Violation != nil && rep.Stopped == "violation" {
		return "stopped at the first violation"
	}
	if rep.Hung {
		return fmt.Sprintf("INCOMPLETE: stopped by a step that did not return; nothing is proved about the rest (exit status 1)")
	}
	return fmt.Sprintf("INCOMPLETE: stopped early (%s) before every reachable state was explored; "+
		"nothing is proved about the rest (exit status %d)", rep.Stopped, exitIncomplete)
}

// timeoutGrace is how long explore waits, after its -timeout, for the search to stop and
// then for the report to be written (a variable for the tests).
var timeoutGrace = 2500 * time.Millisecond

// exitIncomplete is the exit status of an exploration that stopped before it was complete.
const exitIncomplete = 3

// tuneGC trades memory for time while exploring: the frontier of a simulator world holds
// millions of small objects that every collection scans, so collect a quarter as often,
// but no later than when the heap nears 60% of the machine's memory or 80% of the memory
// budget (the rest of the budget is for the visited set, outside the heap, and for the
// garbage of the last cycle). GOGC and GOMEMLIMIT in the environment take precedence.
func tuneGC(budget int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit := physicalMemory() / 10 * 6
		if budget > 0 && (limit <= 0 || budget/10*8 < limit) {
			limit = budget / 10 * 8
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}

// tuneCampaignGC trades memory for time in campaigns: each worker's world is a small live
// heap (a few MiB) that its steps churn through, so at Go's default the collector runs every
// few MiB allocated and takes about a quarter of a campaign's CPU (Raft, disk-full, 2000
// seeds: 12.1 s -> 9.1 s of wall time, docs/BENCHMARKS.md). The limit, a quarter of the machine's memory, brings the
// collections back before a campaign with big worlds would grow its heap that far. GOGC and
// GOMEMLIMIT in the environment take precedence.
func tuneCampaignGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if limit := physicalMemory() / 4; limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
}

// memoryFlag is a size in bytes, written with an optional unit: 512MiB, 4GiB, 2G, 1.5GB.
type memoryFlag int64

func (m *memoryFlag) String() string {
	if m == nil || *m <= 0 {
		return ""
	}
	return formatSize(int64(*m))
}

func (m *memoryFlag) Set(s string) error {
	v, err := parseSize(s)
	if err != nil {
		return err
	}
	*m = memoryFlag(v)
	return nil
}

// parseSize reads a size: a number and an optional unit, B, K/KB/KiB, M/MB/MiB, G/GB/GiB or
// T/TB/TiB, all powers of 1024.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	}
	x, err := strconv.ParseFloat(num, 64)
	if err != nil || x < 0 {
		return 0, fmt.Errorf("want a size such as 512MiB or 4GiB")
	}
	shift := map[string]uint{"": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20,
		"g": 30, "gb": 30, "gib": 30, "t": 40, "tb": 40, "tib": 40}
	sh, ok := shift[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q: want B, KiB, MiB, GiB or TiB", unit)
	}
	v := x * float64(uint64(1)<<sh)
	if v >= 1<<62 {
		return 0, fmt.Errorf("size %s is too large", s)
	}
	return int64(v), nil
}

// formatSize writes a size in the largest unit that keeps it readable.
func formatSize(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0fMiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0fKiB", float64(b)/(1<<10))
	}
	return strconv.FormatInt(b, 10) + "B"
}

// physicalMemory reads the machine's memory from /proc/meminfo, 0 where there is none.
func physicalMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// errFlagPrinted means that the problem has already been printed.
var errFlagPrinted = errors.New("bad flag")

// budgetFlag is a budget flag whose default, -1, means the protocol's own: the help text says
// so in words instead of printing the -1.
type budgetFlag int

func (b *budgetFlag) String() string {
	if b == nil || *b <= 0 { // the zero value prints as the default does: no "(default ...)"
		return ""
	}
	return strconv.Itoa(int(*b))
}

func (b *budgetFlag) Set(s string) error {
	x, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want an integer")
	}
	if x < 0 {
		return errors.New("must not be negative")
	}
	*b = budgetFlag(x)
	return nil
}

// paramFlag collects -param name=value flags.
type paramFlag map[string]int

func (p paramFlag) String() string { return "" }

func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	x, err := strconv.Atoi(v)
	if !ok || k == "" || err != nil {
		return fmt.Errorf("want name=integer")
	}
	p[k] = x
	return nil
}

// parseExploreArgs reads explore's flags into a target and search options.
func parseExploreArgs(args []string, stderr io.Writer) (*exploreTarget, explore.Options, bool, error) {
	fs := newFlags("explore", "[flags]", stderr)
	var a exploreArgs
	fs.StringVar(&a.protocol, "protocol", "twophase", "protocol to explore: twophase, or any protocol of '"+prog+" list' in the untimed world")
	fs.IntVar(&a.n, "n", 0, "number of nodes (twophase: resource managers, default 3; others: the protocol's default)")
	fs.StringVar(&a.bug, "bug", "", "seeded bug to switch on")
	strategy := fs.String("strategy", "bfs", "search order: bfs (shortest counterexamples) or dfs")
	maxDepth := fs.Int("max-depth", 0, "do not expand states deeper than this; with dfs a state first met on a long path is not expanded again from a shorter one (0: no limit)")
	maxStates := fs.Int64("max-states", 0, "stop once this many unique states are stored, checked between breadth-first levels so it may overshoot by one level (0: no limit)")
	timeout := fs.Duration("timeout", 0, "stop after this long, e.g. 10m (0: no limit)")
	stepTimeout := fs.Duration("step-timeout", campaign.DefaultSeedTimeout, "wall time after which the steps from one state count as hung (a step that loops forever): the search stops and reports the state and the path to it, as a violation of no-hang (exit status 1)")
	maxMemory := memoryFlag(explore.SafeMemory())
	fs.Var(&maxMemory, "max-memory", "stop, incomplete (exit status 3), before the process holds more than `SIZE` of memory, e.g. 4GiB or 512MiB (default: "+
		"three quarters of the machine's or the control group's memory, at most nine tenths of what is available at the start; 0: no limit)")
	workers := fs.Int("workers", 0, "goroutines expanding a breadth-first level (default: the number of CPUs); results do not depend on it")
	symmetry := fs.Bool("symmetry", false, "store one state per class of symmetric states (protocols with interchangeable nodes)")
	por := fs.Bool("por", false, "partial-order reduction by sleep sets: skip interleavings of independent steps at different nodes (every state is still visited, so the verdict is the same; off by itself with dfs, -symmetry, -max-depth or a duplicating network; off by default: on Paxos it saves 3-17% of the transitions and costs memory, see docs/BENCHMARKS.md)")
	probe := fs.Int("probe", defaultProbe, "random walks before the search, until they reach this many distinct `STATES`, to find a violation sooner: a walk that breaks a property ends the search with it, its path shortened but not necessarily shortest (0: no walks, and a violation's path is a shortest, with bfs); the walks stop early where they mostly revisit states, at -max-states, or after a quarter of -timeout")
	checkProgress := fs.Bool("check-progress", false, "check that a progress state stays reachable from every state (stores the whole graph)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	a.untimed.Crashes, a.untimed.Requests = -1, -1
	fs.Var((*budgetFlag)(&a.untimed.Crashes), "crashes", "crash budget `K` (default: the protocol's)")
	fs.Var((*budgetFlag)(&a.untimed.Requests), "requests", "client request budget `K` (default: the protocol's)")
	fs.IntVar(&a.untimed.Timeouts, "timeouts", 0, "client timeout budget: a client stops waiting and retries elsewhere, or gives up")
	fs.IntVar(&a.untimed.Clients, "clients", 0, "number of clients (default: the protocol's explored clients, or its workload's)")
	fs.IntVar(&a.untimed.Byzantine, "byzantine", 0, "budget `K` of Byzantine deviations (mutated, replayed or withheld messages and replies) of the Byzantine nodes")
	faulty := fs.String("faulty", "", "the Byzantine nodes, e.g. 1,3 (default with -byzantine: the first f the protocol tolerates)")
	targets := fs.String("targets", "", "the nodes clients send requests to, e.g. 1,2 (default: the protocol's)")
	network := fs.String("network", "unordered", "network semantics: unordered or ordered, then optionally ,duplicating and ,lossy")
	a.params = paramFlag{}
	fs.Var(paramFlag(a.params), "param", "a protocol parameter name=value, repeatable (e.g. max-round=2)")
	out := fs.String("out", "replica-out", "directory for the capsules of counterexamples")
	opts := explore.Options{}
	if code, ok := parse(fs, args, stderr); !ok {
		if code == 0 {
			return nil, opts, false, flag.ErrHelp
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
	case *probe < 0:
		return nil, opts, false, fmt.Errorf("-probe %d: must not be negative (0: no walks)", *probe)
	case *stepTimeout <= 0:
		return nil, opts, false, fmt.Errorf("-step-timeout %v: must be positive", *stepTimeout)
	case *workers < 0:
		return nil, opts, false, fmt.Errorf("-workers %d: must be at least 1 (or 0 for the number of CPUs)", *workers)
	case a.n < 0:
		return nil, opts, false, fmt.Errorf("-n %d: must be positive", a.n)
	}
	if err := scenarios.ParseNetwork(*network, &a.untimed); err != nil {
		return nil, opts, false, fmt.Errorf("-network: %v", err)
	}
	for _, l := range []struct {
		name, value string
		ids         *[]node.ID
	}{{"faulty", *faulty, &a.untimed.Faulty}, {"targets", *targets, &a.untimed.Targets}} {
		if l.value == "" {
			continue
		}
		ids, err := scenarios.ParseNodes(l.value)
		if err != nil {
			return nil, opts, false, fmt.Errorf("-%s: %v", l.name, err)
		}
		*l.ids = ids
	}
	a.untimed.Symmetry = *symmetry
	if *workers == 0 {
		*workers = runtime.NumCPU()
	}
	opts = explore.Options{
		MaxDepth: *maxDepth, MaxStates: *maxStates, Timeout: *timeout, MaxMemory: int64(maxMemory),
		Workers: *workers, Symmetry: *symmetry, CheckProgress: *checkProgress, Reduce: *por,
		StepTimeout: *stepTimeout, Probe: *probe,
	}
	if *strategy == "dfs" {
		opts.Strategy = explore.DepthFirst
	}
	a.nSet = setFlags(fs)["n"]
	target, err := lookupExploreTarget(a)
	if err == nil && a.nSet && a.n < 1 { // a plain model names its own bound (twophase: resource managers)
		target, err = nil, fmt.Errorf("-n %d: must be positive", a.n)
	}
	if err == nil && target.unbounded && *maxDepth == 0 && *maxStates == 0 && *timeout == 0 {
		err = fmt.Errorf("protocol %s declares no exploration bounds, so its states may never end: give -max-states, -max-depth or -timeout", a.protocol)
	}
	if err == nil && *symmetry && !target.symmetric {
		err = fmt.Errorf("-symmetry: protocol %s does not declare interchangeable nodes", a.protocol)
	}
	if err == nil {
		target.out = *out
	}
	return target, opts, *asJSON, err
}

// explore runs the search and prints its report; it returns the exit status. A deadline on
// ctx bounds all of it: should it pass while the report's paths and capsule are still being
// written, the report is printed without them, and says so.
func (t *exploreTarget) explore(ctx context.Context, opts explore.Options, asJSON bool, stdout, stderr io.Writer) int {
	type outcome struct {
		rep *exploreReport
		err error
	}
	done := make(chan outcome, 1)
	searched := make(chan *explore.Result, 1)
	progress := &lastStatus{show: opts.Report}
	opts.Report = progress.record
	start := time.Now()
	go func() {
		r, err := t.run(ctx, opts)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		searched <- r
		rep, err := newExploreReport(t, opts, r)
		done <- outcome{rep, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		// The search stops at the deadline by itself (between blocks of states, so it may
		// take a moment on a busy machine); the report is cut short if it is not done soon.
		var r *explore.Result
		select {
		case o = <-done:
		case r = <-searched:
		case <-time.After(timeoutGrace):
		}
		if o.rep == nil && o.err == nil {
			if r == nil {
				select {
				case o = <-done:
				case r = <-searched:
				case <-time.After(timeoutGrace):
				}
			}
			select {
			case o = <-done:
			case <-time.After(timeoutGrace / 5):
			}
		}
		if o.rep == nil && o.err == nil {
			o.rep = progress.overrun(t, opts, time.Since(start))
			if r != nil {
				o.rep = baseReport(t, opts, r)
				o.rep.Stopped = "timeout while writing the report (the paths and the capsule are left out)"
				if v := r.Violation; v != nil {
					o.rep.Violation = &pathOut{Property: v.Property, Init: v.Path.Init, Path: v.Path.Actions}
				}
			}
			o.rep.Complete = false
		}
	}
	if progress.show != nil {
		fmt.Fprint(stderr, "\r\033[K") // clear the progress line
	}
	if o.err != nil {
		fmt.Fprintf(stderr, "%s explore: %s: %v\n", prog, t.name, o.err)
		return 2
	}
	rep := o.rep
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "%s explore: %v\n", prog, err)
			return 2
		}
	} else {
		rep.printText(stdout)
	}
	return exploreExitCode(rep)
}

// lastStatus keeps the search's latest progress report (about one a second), so that a search
// that overruns its deadline and never hands over its result is still reported with what it had
// counted, rather than with zeros as if it had not begun.
type lastStatus struct {
	show func(explore.Status) // the terminal's progress line, or nil
	mu   sync.Mutex
	last explore.Status
	seen bool
}

func (l *lastStatus) record(s explore.Status) {
	l.mu.Lock()
	l.last, l.seen = s, true
	l.mu.Unlock()
	if l.show != nil {
		l.show(s)
	}
}

// overrun is the report of a search that had not stopped a moment after its deadline: the
// counts of its last progress report (at least that much was explored), the real wall time.
func (l *lastStatus) overrun(t *exploreTarget, opts explore.Options, wall time.Duration) *exploreReport {
	rep := &exploreReport{Target: t.name, Strategy: opts.Strategy.String(), Workers: opts.Workers, Symmetry: opts.Symmetry,
		WallSeconds: wall.Seconds(), MaxMemoryBytes: opts.MaxMemory,
		Stopped: "timeout (the search had not stopped a moment later, and gave no counts)"}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen {
		s := l.last
		rep.UniqueStates, rep.Transitions, rep.MaxDepth, rep.StatesPerSecond = s.Unique, s.Transitions, s.Depth, s.StatesPerSecond
		rep.Stopped = fmt.Sprintf("timeout (the search had not stopped a moment later: the counts are those of its last progress report, at %s)",
			s.Elapsed.Round(time.Second))
	}
	return rep
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
	StoreBytes      int64        `json:"store_bytes"`      // held for states: visited set and frontier
	MaxMemoryBytes  int64        `json:"max_memory_bytes"` // the memory budget, 0 for none
	Reduction       string       `json:"reduction"`        // "sleep sets", "off: why", or "" (not asked)
	Complete        bool         `json:"complete"`
	Stopped         string       `json:"stopped,omitempty"`
	Violation       *pathOut     `json:"violation"`
	Sometimes       []witnessOut `json:"sometimes,omitempty"`
	ProgressChecked bool         `json:"progress_checked"`
	Stuck           *pathOut     `json:"stuck,omitempty"` // a state from which no progress state is reachable
	Probe           *probeOut    `json:"probe,omitempty"` // the random walks before the search (-probe)
	// Hung says that the search stopped on a step that did not return (-step-timeout); the
	// violation, of no-hang, leads to the state it was taken from.
	Hung   bool   `json:"hung,omitempty"`
	hungIn string // explore.Hang.Where, for the text report
	// progressAsked: -check-progress, which only a complete search can answer
	progressAsked bool
}

// probeOut is what the random walks before the search did: Hit is the number of the walk
// that broke a property and Length its steps before its path was shortened (-1 and 0: none).
type probeOut struct {
	Walks       int     `json:"walks"`
	Steps       int64   `json:"steps"`
	States      int64   `json:"states"`
	WallSeconds float64 `json:"wall_seconds"`
	Hit         int     `json:"hit"`
	Length      int     `json:"length"`
}

// witnessOut is a sometimes-property and a path to where it holds; null: never reached, or
// (with a positive reached_in) reached, its path not rebuilt before the search's -timeout.
type witnessOut struct {
	Property string   `json:"property"`
	Witness  *pathOut `json:"witness"`
	// ReachedIn is the length of a shortest path to where it holds, or -1: never reached.
	ReachedIn int `json:"reached_in"`
}

// pathOut is a path as explore shows it: the action numbers that replay it, and a line per
// step for people.
type pathOut struct {
	Property string   `json:"property,omitempty"`
	Init     int      `json:"init"`
	Path     []int    `json:"path"`
	Steps    []string `json:"steps"`
	Capsule  string   `json:"capsule"` // the replay capsule of a violation (protocols in the untimed world)
	// Message is what the violated property said of the path's last state (protocols in the
	// untimed world).
	Message string `json:"message,omitempty"`
}

func newExploreReport(t *exploreTarget, opts explore.Options, r *explore.Result) (*exploreReport, error) {
	rep := baseReport(t, opts, r)
	if r.Hung != nil {
		return rep, addHang(rep, t, r.Hung)
	}
	return rep, addPaths(rep, t, opts, r)
}

// addHang reports a state whose expansion did not return as a violation of no-hang, the
// name campaigns give a run that does not finish. It has no capsule: its replay would loop.
func addHang(rep *exploreReport, t *exploreTarget, h *explore.Hang) error {
	v := &pathOut{Property: campaign.PropHang, Path: []int{}}
	if h.Path != nil {
		steps, err := t.steps(*h.Path)
		if err != nil {
			return err
		}
		v.Init, v.Path, v.Steps = h.Path.Init, h.Path.Actions, steps
	}
	var what string
	switch h.Where {
	case "init":
		what = "making the initial states (the protocol's Init or its nodes' start) did not return"
	case "":
		what = "a step from the last state did not return"
	case "probe":
		what = "a step from the last state, taken by a random walk before the search (-probe), did not return"
	default:
		what = fmt.Sprintf("a step did not return while the search went over its states again (%s)", h.Where)
	}
	if h.Memory > 0 {
		v.Message = fmt.Sprintf("%s: the process passed its memory budget while the step ran (%s resident, -max-memory %s): it allocates without end",
			what, formatSize(h.Memory), formatSize(h.Budget))
	} else {
		v.Message = fmt.Sprintf("%s within %v of wall time (-step-timeout): it loops without end, or is far too slow", what, h.Limit)
	}
	if t.enabled != nil && h.Where != "init" {
		if names := t.enabled(h.State); len(names) > 0 {
			v.Message += "; the state's steps: " + strings.Join(names, "; ")
		}
	}
	if h.Why != "" {
		v.Message += "; " + h.Why
	}
	rep.Violation, rep.Hung, rep.hungIn = v, true, h.Where
	return nil
}

// baseReport is the report of r without its paths.
func baseReport(t *exploreTarget, opts explore.Options, r *explore.Result) *exploreReport {
	rep := &exploreReport{
		Target: t.name, Strategy: opts.Strategy.String(), Workers: opts.Workers, Symmetry: opts.Symmetry,
		UniqueStates: r.Unique, Transitions: r.Transitions, MaxDepth: r.MaxDepth,
		WallSeconds: r.Wall.Seconds(), StatesPerSecond: r.StatesPerSecond,
		PeakMemoryBytes: r.PeakMemoryBytes, StoreBytes: r.StoreBytes, MaxMemoryBytes: opts.MaxMemory, Reduction: r.Reduction,
		Complete: r.Complete, Stopped: r.Stopped, progressAsked: opts.CheckProgress,
	}
	if p := r.Probe; p != nil {
		rep.Probe = &probeOut{Walks: p.Walks, Steps: p.Steps, States: p.States, WallSeconds: p.Wall.Seconds(), Hit: p.Hit, Length: p.Length}
	}
	if opts.Strategy == explore.DepthFirst {
		rep.Workers = 1
	}
	return rep
}

// addPaths adds r's paths to the report: the violation's (and its capsule), the
// sometimes-properties' witnesses, the state from which progress is impossible.
func addPaths(rep *exploreReport, t *exploreTarget, opts explore.Options, r *explore.Result) error {
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
			return err
		}
		if t.capsule != nil {
			if rep.Violation.Capsule, rep.Violation.Message, err = t.capsule(v.Path, t.out); err != nil {
				return err
			}
		}
	}
	for _, w := range r.Witnesses {
		p, err := out(w.Property, w.Path)
		if err != nil {
			return err
		}
		rep.Sometimes = append(rep.Sometimes, witnessOut{w.Property, p, w.Steps})
	}
	if r.Progress != nil {
		rep.ProgressChecked = true
		if rep.Stuck, err = out("progress", r.Progress.Stuck); err != nil {
			return err
		}
	}
	return nil
}

// failed reports whether the search found something wrong: a violation, a stuck state, or,
// in a complete search, a sometimes-property never reached.
func (rep *exploreReport) failed() bool {
	if rep.Violation != nil || rep.Stuck != nil {
		return true
	}
	for _, s := range rep.Sometimes {
		if s.ReachedIn < 0 && rep.Complete {
			return true
		}
	}
	return false
}

func (rep *exploreReport) printText(w io.Writer) {
	fmt.Fprintf(w, "explore %s (%s, %d workers, symmetry %t)\n", rep.Target, rep.Strategy, rep.Workers, rep.Symmetry)
	if rep.Reduction != "" {
		fmt.Fprintf(w, "  reduction          %s\n", rep.Reduction)
	}
	fmt.Fprintf(w, "  unique states      %d\n", rep.UniqueStates)
	fmt.Fprintf(w, "  transitions        %d\n", rep.Transitions)
	fmt.Fprintf(w, "  maximum depth      %d\n", rep.MaxDepth)
	fmt.Fprintf(w, "  wall time          %.2fs\n", rep.WallSeconds)
	fmt.Fprintf(w, "  states per second  %.0f\n", rep.StatesPerSecond)
	fmt.Fprintf(w, "  peak memory        %.1f MiB", float64(rep.PeakMemoryBytes)/(1<<20))
	if rep.MaxMemoryBytes > 0 {
		fmt.Fprintf(w, " (budget %s)", formatSize(rep.MaxMemoryBytes))
	}
	fmt.Fprintln(w)
	if rep.StoreBytes > 0 {
		fmt.Fprintf(w, "  bytes per state    %.1f (the visited set and the frontier's slots; states held by pointer count apart, in peak memory: %.0f bytes per state in all)\n",
			float64(rep.StoreBytes)/float64(rep.UniqueStates), float64(rep.PeakMemoryBytes)/float64(rep.UniqueStates))
	}
	if p := rep.Probe; p != nil {
		fmt.Fprintf(w, "  probe              %d random walks, %d steps, %d states, %.2fs", p.Walks, p.Steps, p.States, p.WallSeconds)
		if p.Hit >= 0 {
			fmt.Fprintf(w, ": walk %d broke a property in %d steps (its path below is shortened, not necessarily shortest: -probe 0 for a shortest)", p.Hit, p.Length)
		}
		if rep.hungIn == "probe" {
			fmt.Fprint(w, " in the rounds of walks that ended; a walk of the next round hung")
		}
		fmt.Fprintln(w)
	}
	if rep.Complete {
		fmt.Fprintln(w, "  search             complete")
	} else {
		fmt.Fprintf(w, "  search             %s\n", incompleteLine(rep))
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
		case s.ReachedIn >= 0:
			fmt.Fprintf(w, "sometimes %s: reached in %d steps (its path was not rebuilt before the search's time ran out)\n", s.Property, s.ReachedIn)
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
	} else if rep.progressAsked {
		fmt.Fprintln(w, "progress: NOT CHECKED: -check-progress needs every state, and the search stopped before it saw them all")
	}
	if rep.Violation != nil {
		printPath("VIOLATION of "+rep.Violation.Property, rep.Violation)
		if rep.Violation.Message != "" {
			fmt.Fprintf(w, "%s violated: %s\n", rep.Violation.Property, rep.Violation.Message)
		}
		if rep.Violation.Capsule != "" {
			fmt.Fprintf(w, "capsule %s  (%s replay -v %s)\n", rep.Violation.Capsule, prog, rep.Violation.Capsule)
		} else if rep.Hung {
			fmt.Fprintln(w, "no capsule: its replay would loop as the step does")
		}
	} else if rep.Stuck != nil {
		fmt.Fprintln(w, "no invariant violated")
	} else {
		fmt.Fprintln(w, "no violation")
	}
}
