package simtest_test

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

type unsized struct{ node.Node }

// A spec whose protocol bounds its state (MaxSize) but whose state has no Size method fails
// the test that runs it, with the reason, rather than pass runs whose memory nobody checked.
func TestRunFailsAMaxSizeWithoutASizer(t *testing.T) {
	s, err := scenarios.Resolve("raft", "", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := *s.Protocol
	p.Name, p.Bugs = "raft-nosize", nil
	p.New = func(cfg node.Config, id node.ID) node.Node { return unsized{s.Protocol.New(cfg, id)} }
	bad := *s
	bad.Protocol = &p
	f := &fakeT{dir: t.TempDir()}
	simtest.Run(f, &bad, simtest.Seeds(2))
	if len(f.errors) != 1 || !strings.Contains(f.errors[0], "declares MaxSize but its node state simtest_test.unsized has no Size method (node.Sizer)") {
		t.Errorf("errors %q, want one saying the state has no Size", f.errors)
	}
}
