package simtest

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/capsule"
)

// failing is a rapid.TB that keeps what rapid reports instead of failing the test, with an
// artifact directory of its own.
type failing struct {
	*testing.T
	dir    string
	failed bool
	log    strings.Builder
}

type stopped struct{}

func (f *failing) Name() string        { return "CheckWritesACapsule" }
func (f *failing) ArtifactDir() string { return f.dir }
func (f *failing) Logf(format string, args ...any) {
	f.log.WriteString(strings.TrimSpace(format) + "\n")
}
func (f *failing) Log(args ...any)                   {}
func (f *failing) Errorf(format string, args ...any) { f.failed = true }
func (f *failing) Error(args ...any)                 { f.failed = true }
func (f *failing) Fatalf(format string, args ...any) { f.failed = true; panic(stopped{}) }
func (f *failing) Fatal(args ...any)                 { f.failed = true; panic(stopped{}) }
func (f *failing) FailNow()                          { f.failed = true; panic(stopped{}) }
func (f *failing) Fail()                             { f.failed = true }
func (f *failing) Failed() bool                      { return f.failed }

// TestCheckWritesACapsule: a rapid failure of a scenario that records capsules leaves the
// shrunk failure's capsule in the artifact directory, and the capsule replays that run.
func TestCheckWritesACapsule(t *testing.T) {
	for name, value := range map[string]string{"rapid.shrinktime": "1s", "rapid.nofailfile": "true"} {
		old := flag.Lookup(name).Value.String()
		flag.Set(name, value)
		defer flag.Set(name, old)
	}
	spec, err := scenarios.Resolve("paxos", "", "calm", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := *spec.Protocol // paxos with an invariant every decision breaks: rapid fails at once
	p.Invariants = []node.Invariant{{Name: "no-decision", Check: func(w node.World) error {
		if len(w.Outputs()) > 0 {
			return errors.New("a node decided")
		}
		return nil
	}}}
	spec.Protocol = &p
	f := &failing{T: t, dir: t.TempDir()}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopped); !ok {
					panic(v)
				}
			}
		}()
		check(f, spec, newOptions(nil))
	}()
	path := filepath.Join(f.dir, "rapid.capsule")
	if !f.failed || !strings.Contains(f.log.String(), "capsule %s of the shrunk failure") {
		t.Fatalf("failed %v, log:\n%s", f.failed, f.log.String())
	}
	c, err := capsule.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	r, rec := spec.Replay(c.Choices)
	if c.Source != "simtest" || c.Property != "no-decision" || r.Violation == nil || r.Violation.Property != "no-decision" ||
		r.TraceHash != c.TraceHash || rec.Diverged() {
		t.Errorf("the capsule (%s, %s) replays to %v, trace %x (recorded %x), diverged %v", c.Source, c.Property, r.Violation, r.TraceHash, c.TraceHash, rec.Diverged())
	}
}
