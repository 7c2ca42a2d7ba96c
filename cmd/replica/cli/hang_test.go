package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/simtest"
)

// looper's nodes ping each other on a timer; with the bug "spin", node 2 loops without end in
// the step that delivers its fifth message (until the test lets go: release).
type looper struct {
	Spin     bool
	Received int
}

type loopPing struct{ N int }

var release atomic.Bool

func (l *looper) Start(env node.Env) { env.SetTimer("tick", time.Millisecond, 2*time.Millisecond) }
func (l *looper) Timer(env node.Env, name string) {
	env.Broadcast(loopPing{l.Received})
	env.SetTimer("tick", time.Millisecond, 2*time.Millisecond)
}
func (l *looper) Request(node.Env, node.Request) {}
func (l *looper) Receive(env node.Env, from node.ID, m node.Message) {
	l.Received++
	if l.Spin && env.Self() == 2 && l.Received == 5 {
		loopForever()
	}
}

func loopForever() {
	for x := 0; x >= 0 && !release.Load(); {
		x = (x + 1) % 7
	}
}

func init() {
	scenarios.Register(&node.Protocol{Name: "hang-loops", Summary: "a test protocol whose step loops", DefaultN: 3, MinN: 3,
		New:    func(cfg node.Config, _ node.ID) node.Node { return &looper{Spin: cfg.Bug == "spin"} },
		Quorum: func(n int) int { return n },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond},
		Bugs:   []node.Bug{{Name: "spin", Summary: "node 2 loops in its fifth delivery", Scenario: "default"}}})
}

// stuckAt is what a report says of a hang: the node, the event and the protocol's frame.
var stuckAt = regexp.MustCompile(`^(n\d+)'s step did not return within 200ms of wall time, in (event \d+ at [^,]+, n\d+: deliver \S+ from n\d+): it loops in (\S+) `)

func stuckWhere(t *testing.T, driver, msg string) string {
	t.Helper()
	m := stuckAt.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("%s: %q does not name the stuck step", driver, msg)
	}
	if !strings.HasSuffix(m[3], "cli.loopForever") {
		t.Errorf("%s: loops in %s, want cli.loopForever", driver, m[3])
	}
	return strings.Join(m[1:], " | ")
}

// The campaign (the run command), replay -seed and simtest reach the same verdict on the same
// looping seed: the same property, event, time, node and frame; the campaign stops after it,
// and replay exits 1 at once.
func TestEveryDriverNamesTheSameStuckStep(t *testing.T) {
	t.Cleanup(func() { release.Store(true) })
	const seed = 3
	spec, err := scenarios.Resolve("hang-loops", "spin", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}

	// The campaign, through the command line: it stops after the first seed hangs.
	code, out, errOut := replica(t, "run", "-protocol", "hang-loops", "-bug", "spin", "-seed-start", "3", "-seeds", "50",
		"-workers", "1", "-seed-timeout", "200ms", "-json")
	var rep campaign.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("run: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if rep.SeedsRun != 1 || rep.Hung != 1 || rep.StoppedByHang == nil || rep.StoppedByHang.Seed != seed ||
		rep.StoppedByHang.NotRun != 49 || !rep.CoverageNotJudged || len(rep.CoverageFailures) != 0 || len(rep.Violations) != 1 {
		t.Fatalf("run: %+v", rep.Summary)
	}
	cv := rep.Violations[0]
	if cv.Property != sim.PropHang || len(cv.Details) < 2 {
		t.Fatalf("run: violation %+v", cv)
	}
	campaignAt := stuckWhere(t, "run", cv.Message)

	// replay -seed, as the campaign's hint says.
	start := time.Now()
	code, out, errOut = replica(t, "replay", "-protocol", "hang-loops", "-bug", "spin", "-seed", "3", "-seed-timeout", "200ms", "-json")
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("replay took %v for a timeout of 200ms", took)
	}
	var rp replayReport
	if err := json.Unmarshal([]byte(out), &rp); err != nil || code != 1 || !rp.Hung || rp.Violation == nil {
		t.Fatalf("replay: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if rp.Violation.Property != cv.Property || rp.Violation.Event != cv.Event || rp.Violation.Time != cv.Time {
		t.Errorf("replay: %s at event %d, %vs; the campaign said %s at event %d, %vs",
			rp.Violation.Property, rp.Violation.Event, rp.Violation.Time, cv.Property, cv.Event, cv.Time)
	}
	if at := stuckWhere(t, "replay", rp.Violation.Message); at != campaignAt {
		t.Errorf("replay: %s; the campaign: %s", at, campaignAt)
	}

	// simtest.
	got, r, found := simtest.Find(spec, simtest.FirstSeed(seed), simtest.Seeds(5), simtest.Twice(0), simtest.SeedTimeout(200*time.Millisecond))
	if !found || got != seed || r.Violation == nil || r.Violation.Property != sim.PropHang || r.Violation.Event != cv.Event ||
		r.Violation.Time.Seconds() != cv.Time {
		t.Fatalf("simtest: seed %d, found %v, violation %+v", got, found, r.Violation)
	}
	if at := stuckWhere(t, "simtest", r.Violation.Message); at != campaignAt {
		t.Errorf("simtest: %s; the campaign: %s", at, campaignAt)
	}

	// The text of the campaign: the hint to run the seed again, no counts of hung runs, the
	// first failure once.
	_, out, _ = replica(t, "run", "-protocol", "hang-loops", "-bug", "spin", "-seed-start", "3", "-seeds", "50",
		"-workers", "1", "-seed-timeout", "200ms")
	for _, want := range []string{"INCOMPLETE: stopped after seed 3 hung: 49 of 50 seeds not run", "1 run hung: their counts are not included",
		"coverage: not judged", prog + " replay -protocol hang-loops -bug spin -seed 3", "> github.com/replica-io/replica/cmd/replica/cli.loopForever hang_test.go:"} {
		if !strings.Contains(out, want) {
			t.Errorf("run's summary lacks %q:\n%s", want, out)
		}
	}
	for _, noise := range []string{"faults: none fired", "never fired", "FAIL coverage", "findability"} {
		if strings.Contains(out, noise) {
			t.Errorf("run's summary says %q of runs that hung:\n%s", noise, out)
		}
	}
	if n := strings.Count(out, "no-hang violated"); n != 1 {
		t.Errorf("the failure is printed %d times:\n%s", n, out)
	}
}
