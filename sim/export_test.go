package sim

import "github.com/replica-io/replica/protocols/node"

// LinFrontierForTest exposes the linearization frontier (histsum.go) to the external tests,
// which compare it with the checker: its hash, and how many pairs it holds.
func LinFrontierForTest(spec *node.Spec, ops []node.Op) (hash uint64, pairs int, ok bool) {
	return frontierOf(spec, ops, nil)
}
