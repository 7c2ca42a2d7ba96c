package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/twophase"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/explore"
)

// TwoPhase's state counts, as TLC counts distinct states of TwoPhase.tla, and its orbits
// under renaming of the resource managers.
func TestExploreTwoPhaseCounts(t *testing.T) {
	tests := []struct {
		n        int
		symmetry bool
		unique   int64
	}{
		{3, false, 288},
		{5, false, 8832},
		{3, true, 80},
		{5, true, 314},
		{7, true, 920},
	}
	for _, tt := range tests {
		m, err := twophase.New(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		var first *explore.Result
		for _, opts := range []explore.Options{
			{Workers: 1}, {Workers: 2}, {Workers: 5}, {Strategy: explore.DepthFirst},
		} {
			opts.Symmetry = tt.symmetry
			r, err := explore.Run(context.Background(), m, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Unique != tt.unique || !r.Complete || r.Violation != nil {
				t.Errorf("n=%d symmetry=%t %v workers=%d: %d states, complete %t, violation %v; want %d",
					tt.n, tt.symmetry, opts.Strategy, opts.Workers, r.Unique, r.Complete, r.Violation, tt.unique)
			}
			if first == nil {
				first = r
			} else if r.Transitions != first.Transitions {
				t.Errorf("n=%d %v workers=%d: %d transitions, want %d as with one worker",
					tt.n, opts.Strategy, opts.Workers, r.Transitions, first.Transitions)
			}
		}
	}
}

func TestExploreJSON(t *testing.T) {
	tests := []struct {
		args   []string
		unique int64
	}{
		{[]string{"-protocol", "twophase", "-n", "3", "-json"}, 288},
		{[]string{"-json"}, 288}, // twophase with 3 RMs is the default
		{[]string{"-n", "5", "-json", "-workers", "1"}, 8832},
		{[]string{"-n", "5", "-symmetry", "-json", "-strategy", "dfs"}, 314},
	}
	for _, tt := range tests {
		code, out, errOut := replica(t, append([]string{"explore"}, tt.args...)...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, errOut)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v in %q", tt.args, err, out)
		}
		for _, key := range []string{"unique_states", "transitions", "max_depth", "wall_seconds", "states_per_second", "peak_memory_bytes", "violation"} {
			if _, ok := got[key]; !ok {
				t.Errorf("%v: no %q in the JSON", tt.args, key)
			}
		}
		if got["unique_states"] != float64(tt.unique) || got["violation"] != nil {
			t.Errorf("%v: unique_states %v, violation %v; want %d and null", tt.args, got["unique_states"], got["violation"], tt.unique)
		}
	}
}

func TestExploreText(t *testing.T) {
	code, out, errOut := replica(t, "explore", "-n", "3")
	if code != 0 || errOut != "" { // no progress line: stderr is not a terminal
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"unique states      288", "transitions", "maximum depth      10", "wall time", "states per second", "peak memory", "no violation"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = replica(t, "explore", "-n", "5", "-max-depth", "4")
	if code != 3 || !strings.Contains(out, "INCOMPLETE: stopped early (max-depth)") {
		t.Errorf("-max-depth 4: exit %d\n%s", code, out)
	}
}

func TestExploreUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the one-line error
	}{
		{[]string{"-protocol", "paxos2"}, `unknown protocol "paxos2"`},
		{[]string{"-n", "0"}, "0 resource managers"},
		{[]string{"-n", "16"}, "16 resource managers"},
		{[]string{"-strategy", "random"}, `-strategy "random"`},
		{[]string{"-bug", "no-persist"}, `no bug "no-persist"`},
		{[]string{"-workers", "-1"}, "-workers -1"},
		{[]string{"-max-depth", "-1"}, "must not be negative"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-no-such-flag"}, "-no-such-flag"},
		{[]string{"-check-progress", "-n", "2", "-symmetry", "-timeout", "x"}, "invalid value"},
	}
	for _, tt := range tests {
		code, out, errOut := replica(t, append([]string{"explore"}, tt.args...)...)
		if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and an error naming %q", tt.args, code, out, errOut, tt.want)
		}
		if first, _, _ := strings.Cut(errOut, "\n"); !strings.Contains(first, tt.want) {
			t.Errorf("%v: the first line %q does not name the problem", tt.args, first)
		}
	}
}

// rm1NeverCommits is TwoPhase with an always-property that the protocol is meant to break:
// a stand-in for a seeded bug, to see a violation come out of the command.
type rm1NeverCommits struct{ *twophase.Model }

func (m rm1NeverCommits) Violated(s twophase.State) string {
	if m.RMState(s, 0) == "committed" {
		return "rm1 never commits"
	}
	return ""
}

func TestExploreViolation(t *testing.T) {
	tp, _ := twophase.New(3)
	m := rm1NeverCommits{tp}
	target := modelTarget("twophase-rm1", m, tp.Format)
	// The lexicographically smallest of the shortest paths: each RM prepares and the TM
	// hears of it in turn, then the TM commits and rm1 hears of it.
	wantPath := []int{3, 2, 8, 7, 13, 12, 0, 5}
	for _, workers := range []int{1, 2} {
		var out, errOut bytes.Buffer
		code := target.explore(context.Background(), explore.Options{Workers: workers}, true, &out, &errOut)
		if code != 1 {
			t.Fatalf("exit %d, want 1; stderr %q", code, errOut.String())
		}
		var rep exploreReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		v := rep.Violation
		if v == nil || v.Property != "rm1 never commits" || !reflect.DeepEqual(v.Path, wantPath) || v.Capsule != "" {
			t.Fatalf("workers %d: violation %+v, want path %v", workers, v, wantPath)
		}
		if last := v.Steps[len(v.Steps)-1]; !strings.HasPrefix(last, "RMRcvCommitMsg(rm1): ") || !strings.Contains(last, "rm1=committed") {
			t.Errorf("last step %q", last)
		}
	}
	var out bytes.Buffer
	if code := target.explore(context.Background(), explore.Options{}, false, &out, &out); code != 1 || !strings.Contains(out.String(), "VIOLATION of rm1 never commits (8 steps)") {
		t.Errorf("text: exit %d\n%s", code, out.String())
	}
}

func TestExploreProgress(t *testing.T) {
	code, out, _ := replica(t, "explore", "-n", "3", "-check-progress", "-json")
	if code != 0 || !strings.Contains(out, `"progress_checked": true`) || strings.Contains(out, `"stuck"`) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// BenchmarkTwoPhase explores TwoPhase exhaustively and reports unique states per second and
// the bytes held per state (visited set and frontiers). Compare with SPIN on the same model:
// /work/shared/peers/spin/run.sh and docs/BENCHMARKS.md.
func BenchmarkTwoPhase(b *testing.B) {
	for _, bc := range []struct {
		name       string
		n, workers int
	}{
		{"n=7/workers=1", 7, 1},
		{"n=7/workers=2", 7, 2},
		{"n=9/workers=2", 9, 2},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, _ := twophase.New(bc.n)
			var states, bytes int64
			for b.Loop() {
				r, err := explore.Run(context.Background(), m, explore.Options{Workers: bc.workers})
				if err != nil {
					b.Fatal(err)
				}
				states, bytes = states+r.Unique, r.StoreBytes/r.Unique
			}
			b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
			b.ReportMetric(float64(bytes), "B/state")
		})
	}
}

// TestExplorePaxosInTheUntimedWorld: the same Paxos code that campaigns simulate, explored
// exhaustively in a small configuration (one proposer, one client request, one crash):
// agreement holds in every reachable state, and the search is complete.
func TestExplorePaxosInTheUntimedWorld(t *testing.T) {
	small := []string{"explore", "-protocol", "paxos", "-crashes", "1", "-requests", "1", "-param", "proposers=1", "-json"}
	code, out, errOut := replica(t, small...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var rep exploreReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Complete || rep.UniqueStates < 10 || rep.Violation != nil {
		t.Errorf("explore paxos: %+v", rep)
	}
	again, out2, _ := replica(t, append(small, "-workers", "1")...)
	var rep2 exploreReport
	json.Unmarshal([]byte(out2), &rep2)
	if again != 0 || rep2.UniqueStates != rep.UniqueStates || rep2.Transitions != rep.Transitions {
		t.Errorf("one worker: %d states, %d transitions; two: %d, %d", rep2.UniqueStates, rep2.Transitions, rep.UniqueStates, rep.Transitions)
	}
}

func TestExploreRefusesBadProtocolInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-protocol", "paxos", "-symmetry"}, "does not declare interchangeable nodes"},
		{[]string{"-protocol", "paxos", "-network", "sideways"}, "-network"},
		{[]string{"-protocol", "paxos", "-param", "max-round"}, "want name=integer"},
		{[]string{"-protocol", "paxos", "-crashes", "-5"}, "must not be negative"},
		{[]string{"-protocol", "paxos", "-bug", "nope"}, `unknown bug "nope"`},
		{[]string{"-protocol", "nope"}, `unknown protocol "nope" (explorable: paxos, abd, bracha, pbft, raft, etcdraft, multipaxos, crdt, explore-panics, explore-sleeps, explore-hoards, hang-loops, twophase)`}, // explore-panics: this package's test protocol
		{[]string{"-protocol", "paxos", "-param", "bogus=1"}, `no exploration parameter "bogus"`},
		{[]string{"-protocol", "twophase", "-crashes", "3"}, "plain model"},
		{[]string{"-protocol", "raft"}, "declares no exploration bounds"},
		{[]string{"-protocol", "bracha", "-requests", "2"}, "protocol bracha has no clients"}, // not a budget that silently does nothing
	}
	for _, tt := range tests {
		code, _, errOut := replica(t, append([]string{"explore"}, tt.args...)...)
		if code != 2 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("explore %v: exit %d, stderr %q; want 2 and one line with %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestExploreExitCodes: an exploration stopped by a budget or -timeout before it was complete
// says so and exits 3; -timeout bounds the whole command; -workers 0 means the CPUs, as in run.
func TestExploreExitCodes(t *testing.T) {
	code, out, errOut := replica(t, "explore", "-protocol", "paxos", "-max-states", "1000", "-json", "-workers", "0", "-out", t.TempDir())
	var rep exploreReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 3 || rep.Complete || rep.Stopped != "max-states" {
		t.Errorf("-max-states 1000: exit %d (want 3), complete %v, stopped %q, %v %s", code, rep.Complete, rep.Stopped, err, errOut)
	}
	start := time.Now()
	code, out, _ = replica(t, "explore", "-protocol", "raft", "-timeout", "300ms", "-out", t.TempDir())
	if took := time.Since(start); code != 3 || !strings.Contains(out, "INCOMPLETE: stopped early (timeout)") || took > 8*time.Second {
		t.Errorf("-timeout 300ms: exit %d after %v (want 3 within 8s):\n%s", code, took, out)
	}
}

// TestHelpTexts: every command's -h prints its flags legibly: no flag's help taken for its
// argument name, no default printed twice.
// TestExploreMaxMemory: a search that outgrows -max-memory stops cleanly, says what it
// explored and why it stopped, and exits with the incomplete status; a bad size is a usage
// error.
func TestExploreMaxMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("explores until a few hundred megabytes are held")
	}
	// The command runs inside this test process: the budget is what it holds now and a
	// little more, some tens of thousands of Paxos states.
	debug.FreeOSMemory()
	budget := residentBytes(t) + 24<<20
	size := strconv.FormatInt(budget, 10)
	code, out, errOut := replica(t, "explore", "-protocol", "paxos", "-max-memory", size, "-json", "-workers", "1", "-probe", "0", "-out", t.TempDir())
	var rep exploreReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 3 || rep.Complete || rep.Stopped != "max-memory" {
		t.Fatalf("-max-memory %s: exit %d (want 3), complete %v, stopped %q, %v %s", size, code, rep.Complete, rep.Stopped, err, errOut)
	}
	if rep.UniqueStates == 0 || rep.MaxMemoryBytes != budget {
		t.Errorf("report: %d states, budget %d; want the states explored and the budget %d", rep.UniqueStates, rep.MaxMemoryBytes, budget)
	}
	code, out, _ = replica(t, "explore", "-protocol", "paxos", "-max-memory", size, "-workers", "1", "-probe", "0", "-out", t.TempDir())
	if code != 3 || !strings.Contains(out, "INCOMPLETE: stopped early (max-memory)") {
		t.Errorf("text report: exit %d, %s", code, out)
	}
	for _, bad := range []string{"lots", "4XB", "-1GiB"} {
		if code, _, errOut := replica(t, "explore", "-max-memory", bad); code != 2 || !strings.Contains(errOut, "max-memory") {
			t.Errorf("-max-memory %s: exit %d, %q; want a usage error naming the flag", bad, code, errOut)
		}
	}
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2G": 2 << 30, "1.5GiB": 3 << 29, "4096": 4096, "0": 0} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// residentBytes is this process's resident memory, from /proc/self/statm; the test is
// skipped where there is none.
func residentBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 2 {
		t.Skip("no /proc/self/statm here")
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func TestHelpTexts(t *testing.T) {
	for _, c := range commands {
		code, out, errOut := replica(t, c.name, "-h")
		if code != 0 || out != "" || !strings.HasPrefix(errOut, "usage: replica "+c.name) {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q", c.name, code, out, errOut)
		}
		for _, bad := range []string{"(default -1)", "(default )", "protocol's) (default", "-json replica", "`"} {
			if strings.Contains(errOut, bad) {
				t.Errorf("%s -h holds %q:\n%s", c.name, bad, errOut)
			}
		}
	}
}

// panicker is a protocol whose second node panics on the first message it gets: explore must
// report it as a no-panic violation with its path, exit 1, and write a capsule that replays.
type panicker struct{}

func (panicker) Start(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, "boom")
	}
}
func (panicker) Receive(env node.Env, from node.ID, m node.Message) {
	var none map[string]int
	none["x"]++ // assignment to a nil map
}
func (panicker) Timer(node.Env, string)         {}
func (panicker) Request(node.Env, node.Request) {}

func init() { registerTwoNodes("explore-panics", "a test protocol that panics", panicker{}) }

func TestExplorePanicIsAViolation(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := replica(t, "explore", "-protocol", "explore-panics", "-json", "-out", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %q", code, errOut)
	}
	var rep struct {
		Violation struct {
			Property string   `json:"property"`
			Steps    []string `json:"steps"`
			Capsule  string   `json:"capsule"`
		} `json:"violation"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	v := rep.Violation
	if v.Property != "no-panic" || len(v.Steps) != 1 || !strings.Contains(v.Steps[0], "deliver n2 <- n1") {
		t.Errorf("violation %+v", v)
	}
	code, out, _ = replica(t, "replay", v.Capsule)
	if code != 1 || !strings.Contains(out, "assignment to entry in nil map") || !strings.Contains(out, "explore_test.go") {
		t.Errorf("replay of the capsule: exit %d\n%s", code, out)
	}
}

// An explored violation says what the property found wrong, as a campaign's FAIL line does,
// not only which property broke: a path of no steps (a node state that is not a plain value)
// says nothing by itself.
func TestExploreSaysWhatTheViolationIs(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := replica(t, "explore", "-protocol", "explore-panics", "-out", dir)
	if code != 1 || !strings.Contains(out, "no-panic violated: panic: assignment to entry in nil map") {
		t.Errorf("exit %d, want 1 and the panic\n%s%s", code, out, errOut)
	}
	code, out, _ = replica(t, "explore", "-protocol", "explore-panics", "-json", "-out", dir)
	var rep struct {
		Violation struct{ Message string } `json:"violation"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 ||
		!strings.Contains(rep.Violation.Message, "assignment to entry in nil map") {
		t.Errorf("exit %d, %v: message %q\n%s", code, err, rep.Violation.Message, out)
	}
}

// A protocol that declares no property of its own passes every campaign whatever its nodes
// compute (a newcomer who has not written its invariants yet): run and explore say so on
// stderr, instead of a bare green campaign and its findability bound.
func TestAProtocolWithoutPropertiesIsSaidToCheckNothing(t *testing.T) {
	const note = "note: protocol explore-panics declares no property of its own"
	_, _, errOut := replica(t, "run", "-protocol", "explore-panics", "-seeds", "2", "-out", t.TempDir())
	if !strings.Contains(errOut, note) {
		t.Errorf("run: stderr %q", errOut)
	}
	_, _, errOut = replica(t, "explore", "-protocol", "explore-panics", "-out", t.TempDir())
	if !strings.Contains(errOut, note) {
		t.Errorf("explore: stderr %q", errOut)
	}
	_, _, errOut = replica(t, "run", "-protocol", "paxos", "-seeds", "2")
	if strings.Contains(errOut, "declares no property") {
		t.Errorf("paxos: stderr %q", errOut)
	}
}

// sleeper is a protocol whose second node never returns from its first message (it sleeps
// far longer than any test): explore must stop at -step-timeout and report the state as a
// violation of no-hang, with the path to it, rather than wait with nothing said.
type sleeper struct{}

func (sleeper) Start(env node.Env) {
	if env.Self() == 1 {
		env.Send(2, "wake")
	}
}
func (sleeper) Receive(node.Env, node.ID, node.Message) { time.Sleep(24 * time.Hour) }
func (sleeper) Timer(node.Env, string)                  {}
func (sleeper) Request(node.Env, node.Request)          {}

func init() {
	registerTwoNodes("explore-sleeps", "a test protocol whose step does not return", sleeper{})
}

func TestExploreReportsAStepThatDoesNotReturn(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	code, out, errOut := replica(t, "explore", "-protocol", "explore-sleeps", "-step-timeout", "200ms", "-probe", "0", "-json", "-out", dir)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("explore took %v to report the hang", took)
	}
	var rep struct {
		Complete  bool
		Stopped   string
		Hung      bool
		Violation struct {
			Property string
			Steps    []string
			Message  string
			Capsule  string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d (want 1), %v\n%s%s", code, err, out, errOut)
	}
	v := rep.Violation
	if rep.Complete || rep.Stopped != "hung" || !rep.Hung || v.Property != "no-hang" || len(v.Steps) != 0 || v.Capsule != "" ||
		!strings.Contains(v.Message, "a step from the last state did not return within 200ms") ||
		!strings.Contains(v.Message, "deliver n2 <- n1 wake") {
		t.Errorf("report %+v", rep)
	}
	code, out, _ = replica(t, "explore", "-protocol", "explore-sleeps", "-step-timeout", "200ms", "-probe", "0", "-out", dir)
	if code != 1 || !strings.Contains(out, "VIOLATION of no-hang") || !strings.Contains(out, "no capsule") ||
		!strings.Contains(out, "stopped by a step that did not return") {
		t.Errorf("text report: exit %d\n%s", code, out)
	}
	// The probe's walks meet the step first: the report says so and names the state's steps.
	// Walking there again takes the step that loops, so a breadth-first search finds the
	// state that hangs closest to the initial one, the initial state itself, and its path.
	code, out, _ = replica(t, "explore", "-protocol", "explore-sleeps", "-step-timeout", "200ms", "-out", dir)
	if code != 1 || !strings.Contains(out, "VIOLATION of no-hang (0 steps)") || !strings.Contains(out, "taken by a random walk before the search") ||
		!strings.Contains(out, "deliver n2 <- n1 wake") || !strings.Contains(out, "closer to the initial one") {
		t.Errorf("text report with the probe: exit %d\n%s", code, out)
	}
	if code, _, errOut := replica(t, "explore", "-protocol", "explore-sleeps", "-step-timeout", "0s"); code != 2 ||
		!strings.Contains(errOut, "-step-timeout 0s: must be positive") {
		t.Errorf("-step-timeout 0s: exit %d, %q", code, errOut)
	}
}

// A search that overruns its deadline and never hands over a result (a level still being
// expanded, a collection under a tight memory budget) is reported with the counts of its last
// progress report and the real wall time, not with zeros as if it had explored nothing.
func TestExploreOverrunReportsLastCounts(t *testing.T) {
	defer func(g time.Duration) { timeoutGrace = g }(timeoutGrace)
	timeoutGrace = 20 * time.Millisecond
	release := make(chan struct{})
	defer close(release)
	target := &exploreTarget{name: "stuck", run: func(ctx context.Context, opts explore.Options) (*explore.Result, error) {
		opts.Report(explore.Status{Unique: 541133, Transitions: 1937945, Depth: 8, Elapsed: 29 * time.Second, StatesPerSecond: 18000})
		<-release // deaf to ctx, as a search in the middle of a long block is
		return nil, errors.New("released")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var out, errOut bytes.Buffer
	code := target.explore(ctx, explore.Options{MaxMemory: 2 << 30}, true, &out, &errOut)
	var rep exploreReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, out.String(), errOut.String())
	}
	if code != exitIncomplete || rep.Complete {
		t.Errorf("exit %d, complete %v: want %d, incomplete", code, rep.Complete, exitIncomplete)
	}
	if rep.UniqueStates != 541133 || rep.Transitions != 1937945 || rep.MaxDepth != 8 {
		t.Errorf("counts %d states, %d transitions, depth %d: want the last report's", rep.UniqueStates, rep.Transitions, rep.MaxDepth)
	}
	if rep.WallSeconds < 0.05 || rep.MaxMemoryBytes != 2<<30 {
		t.Errorf("wall %.3fs, budget %d: want the time it took and the budget it had", rep.WallSeconds, rep.MaxMemoryBytes)
	}
	if !strings.Contains(rep.Stopped, "last progress report") {
		t.Errorf("stopped %q: want it to say where the counts come from", rep.Stopped)
	}
}

// hoarder's second node, on its first message, appends to a queue it goes over, without
// end: a step that takes memory as fast as it can. Explore must stop it at its memory budget
// and say so, long before the timeout, and before the kernel would kill the process.
type hoarder struct{ sleeper }

// hoardersGo lets the step left behind go, when the test ends.
var hoardersGo atomic.Bool

func (hoarder) Receive(node.Env, node.ID, node.Message) {
	queue := []int{0}
	for i := 0; i < len(queue) && !hoardersGo.Load(); i++ {
		queue = append(queue, i)
		if len(queue) > 1<<27 { // 1 GiB: only if the watchdog missed it; the test then fails
			return
		}
	}
}

func init() {
	registerTwoNodes("explore-hoards", "a test protocol whose step allocates without end", hoarder{})
}

func TestExploreStopsAStepThatTakesMemoryWithoutEnd(t *testing.T) {
	t.Cleanup(func() { hoardersGo.Store(true) })
	start := time.Now()
	code, out, errOut := replica(t, "explore", "-protocol", "explore-hoards", "-max-memory", "600MiB", "-probe", "0", "-out", t.TempDir())
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("explore took %v to report the step", took)
	}
	if code != 1 || !strings.Contains(out, "VIOLATION of no-hang") || !strings.Contains(out, "allocates without end") ||
		!strings.Contains(out, "deliver n2 <- n1 wake") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// A search cannot meet a bug that only storage faults reveal: it says so, rather than pass
// for a search that looked.
func TestExploreSaysWhatTheUntimedWorldLeavesOut(t *testing.T) {
	_, _, errOut := replica(t, "explore", "-protocol", "raft", "-bug", "no-checksum", "-max-states", "100", "-probe", "0", "-out", t.TempDir())
	if !strings.Contains(errOut, "note: bug no-checksum is found by scenario disk-corruption, whose storage faults") {
		t.Errorf("stderr %q", errOut)
	}
	_, _, errOut = replica(t, "explore", "-protocol", "raft", "-max-states", "100", "-probe", "0", "-out", t.TempDir())
	if !strings.Contains(errOut, "the untimed world injects neither") {
		t.Errorf("stderr %q", errOut)
	}
}

// -check-progress on a search cut short says it did not check, in text as in -json.
func TestExploreSaysProgressWasNotChecked(t *testing.T) {
	code, out, _ := replica(t, "explore", "-protocol", "paxos", "-max-states", "2000", "-probe", "0", "-check-progress", "-out", t.TempDir())
	if code != 3 || !strings.Contains(out, "progress: NOT CHECKED") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// registerTwoNodes registers a test protocol of two nodes of n, each needed, explored with one
// crash: the shape of the protocols above, which differ only in what their steps do.
func registerTwoNodes(name, summary string, n node.Node) {
	scenarios.Register(&node.Protocol{Name: name, Summary: summary, DefaultN: 2, MinN: 2,
		New:     func(node.Config, node.ID) node.Node { return n },
		Quorum:  func(n int) int { return n },
		Timing:  node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		Explore: node.Explore{Crashes: 1}})
}
