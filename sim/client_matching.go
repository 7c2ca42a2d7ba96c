package sim

import (
	"math/bits"

	"github.com/replica-io/replica/protocols/node"
)

// matching is how many nodes must agree on a result before a client accepts it.
func (k *stepCore) matching() int {
	if m := k.proto.Workload.Matching; m != nil {
		return max(1, m(k.cluster))
	}
	return 1
}

// requestTargets is where a client sends its request: its target, or every node once it has
// timed out waiting for enough matching replies (a Byzantine target may never forward it).
func (w *World) requestTargets(c *client) []node.ID {
	if c.attempts > 1 && w.matching() > 1 {
		return w.ids
	}
	i := int(c.target) - 1 // ids[i] is node i+1: its target alone, without making a slice
	return w.ids[i : i+1 : i+1]
}

// matched records that node from answered client c's current operation with res, and
// reports whether enough distinct nodes have now sent that same result.
func (k *stepCore) matched(c *client, from node.ID, res any) bool {
	need := k.matching()
	if need <= 1 {
		return true
	}
	if c.replies == nil {
		c.replies = map[uint64]nodeSet{}
	}
	key := HashOf(res)
	c.replies[key] |= 1 << (uint(from) - 1)
	return bits.OnesCount64(uint64(c.replies[key])) >= need
}

// nodeSet is a set of nodes, a bit each (node id is bit id-1).
type nodeSet uint64
