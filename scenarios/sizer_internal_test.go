package scenarios

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

type unsizedNode struct{ node.Node }

// The explorer checks a protocol's MaxSize through node.Sizer as the timed runs do: a bound
// on a state without Size is refused there too. The protocol is registered for the test alone.
func TestAMaxSizeWithoutASizerIsAnErrorOfExplore(t *testing.T) {
	p, err := Protocol("raft")
	if err != nil {
		t.Fatal(err)
	}
	bad := *p
	bad.Name, bad.Bugs = "raft-unsized", nil
	bad.New = func(cfg node.Config, id node.ID) node.Node { return unsizedNode{p.New(cfg, id)} }
	registerForTest(t, &bad)
	_, err = ResolveExplore(bad.Name, "", 0, sim.UntimedOptions{Crashes: -1, Requests: -1}, nil)
	if err == nil || !strings.Contains(err.Error(), "declares MaxSize but its node state scenarios.unsizedNode has no Size method (node.Sizer)") {
		t.Errorf("error %v, want one saying the state has no Size", err)
	}
}

// A composed protocol's state is a node.Stack, whose Size sums its components' sizes: it
// counts as sized when one of its components is a Sizer, not otherwise.
func TestAStackSizesThroughItsComponents(t *testing.T) {
	type plain struct{ node.Node }
	sized := &node.Stack{Parts: []node.StackPart{{Path: ""}, {Path: "log", C: unsizedNode{}}}}
	if sizes(sized) {
		t.Error("a stack of components without Size counts as sized")
	}
	sized.Parts[0].C = sizer{}
	if !sizes(sized) {
		t.Error("a stack with a component that has Size counts as unsized")
	}
	if sizes(plain{}) || !sizes(sizer{}) {
		t.Error("sizes of plain nodes is wrong")
	}
}

type sizer struct{ node.Node }

func (sizer) Size() int { return 0 }
