package simtest

import (
	"flag"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// spinning's node 2 loops without end in its third delivery (until the test lets go).
type spinning struct {
	Received int
	stop     *atomic.Bool
}

type spinPing struct{}

func (s *spinning) Start(env node.Env)             { env.SetTimer("tick", time.Millisecond, 2*time.Millisecond) }
func (s *spinning) Request(node.Env, node.Request) {}
func (s *spinning) Timer(env node.Env, name string) {
	env.Broadcast(spinPing{})
	env.SetTimer("tick", time.Millisecond, 2*time.Millisecond)
}
func (s *spinning) Receive(env node.Env, from node.ID, m node.Message) {
	if s.Received++; env.Self() == 2 && s.Received == 3 {
		for x := 0; x >= 0 && !s.stop.Load(); {
			x = (x + 1) % 7
		}
	}
}

func spinningScenario(t *testing.T) Scenario {
	stop := new(atomic.Bool)
	t.Cleanup(func() { stop.Store(true) }) // the stuck goroutines end with the test
	p := &node.Protocol{Name: "simtest-spins", DefaultN: 3, MinN: 3,
		New:    func(node.Config, node.ID) node.Node { return &spinning{stop: stop} },
		Quorum: func(n int) int { return n },
		Timing: node.Timing{Delay: time.Millisecond, Settle: 10 * time.Millisecond}}
	return Of(sim.Config{Protocol: p, Cluster: node.Config{N: 3}, Faults: 100 * time.Millisecond,
		Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 2 * time.Millisecond}}})
}

// errs is a TB that keeps its errors.
type errs struct {
	*testing.T
	errors []string
}

func (e *errs) Errorf(format string, args ...any) {
	e.errors = append(e.errors, fmt.Sprintf(format, args...))
}

// A seed whose step loops fails Run with the stuck step named, and Run returns at once,
// running no other seed; Find returns the hang as the run's violation.
func TestRunReportsAStepThatLoops(t *testing.T) {
	e := &errs{T: t}
	start := time.Now()
	Run(e, spinningScenario(t), Seeds(50), Twice(0), SeedTimeout(200*time.Millisecond))
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Run took %v", took)
	}
	if len(e.errors) != 1 || !strings.Contains(e.errors[0], "seed 0: no-hang violated") ||
		!strings.Contains(e.errors[0], "n2's step did not return within 200ms of wall time") ||
		!strings.Contains(e.errors[0], "> github.com/replica-io/replica/sim/simtest.(*spinning).Receive hang_test.go:") {
		t.Fatalf("errors %q", e.errors)
	}
	seed, r, found := Find(spinningScenario(t), Seeds(5), Twice(0), SeedTimeout(200*time.Millisecond))
	if !found || seed != 0 || r.Violation == nil || r.Violation.Property != sim.PropHang || r.Violation.Event == 0 {
		t.Fatalf("Find: seed %d, found %v, %+v", seed, found, r.Violation)
	}
	// The determinism check's runs are watched too.
	e = &errs{T: t}
	Run(e, spinningScenario(t), Seeds(5), SeedTimeout(200*time.Millisecond))
	if len(e.errors) != 1 || !strings.Contains(e.errors[0], "no-hang violated") {
		t.Fatalf("with the determinism check: errors %q", e.errors)
	}
}

// A rapid property whose run loops fails with the hang, and rapid's reproduction and
// shrinking do not wait for another hang each: the check ends soon after the first.
func TestCheckReportsAStepThatLoops(t *testing.T) {
	for name, value := range map[string]string{"rapid.shrinktime": "5s", "rapid.nofailfile": "true"} {
		old := flag.Lookup(name).Value.String()
		flag.Set(name, value)
		defer flag.Set(name, old)
	}
	f := &failing{T: t, dir: t.TempDir()}
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopped); !ok {
					panic(v)
				}
			}
		}()
		check(f, spinningScenario(t), newOptions([]Option{SeedTimeout(200 * time.Millisecond)}))
	}()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Check took %v after a hang", took)
	}
	if !f.failed {
		t.Fatalf("a run that loops passed:\n%s", f.log.String())
	}
}
