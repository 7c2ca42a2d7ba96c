package sim

import "github.com/replica-io/replica/protocols/node"

// outputHash identifies an output's value in the untimed world's set of outputs, with the
// path of the component that produced it, so that equal values output by two components of
// a stack stay two outputs. A root's (or a plain protocol's) output hashes as its value.
func outputHash(o node.Output) uint64 {
	if o.Path == "" {
		return HashOf(o.Value)
	}
	return HashOf(node.AtPath{Path: o.Path, Value: o.Value})
}
