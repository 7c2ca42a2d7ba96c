// Package quorum holds the quorum arithmetic that protocols share: majorities, Byzantine
// quorums, and a vote counter that counts each voter once.
package quorum

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// Majority is the smallest set of n nodes that any two such sets share a node: n/2+1.
func Majority(n int) int { return n/2 + 1 }

// Byzantine is the quorum of a cluster of n nodes that tolerates f Byzantine ones: the
// smallest size at which any two quorums share at least f+1 nodes, so at least one correct
// node. That is ceil((n+f+1)/2), which is the familiar 2f+1 when n = 3f+1.
func Byzantine(n, f int) int { return (n+f)/2 + 1 }

// MaxByzantine is the largest f with n >= 3f+1.
func MaxByzantine(n int) int { return (n - 1) / 3 }

// Votes counts distinct voters. A voter counted twice is the classic dup-vote bug, so Add
// reports whether the vote was new. The zero value is an empty count; it is a plain value
// (a bit set) that copies and hashes cheaply.
type Votes struct{ set uint64 }

// Add records id's vote; it returns false if id had already voted. IDs are 1..64.
func (v *Votes) Add(id node.ID) bool {
	bit := uint64(1) << (uint(id) - 1)
	if v.set&bit != 0 {
		return false
	}
	v.set |= bit
	return true
}

// RenameNodes renames the voters (id becomes rename(id)), for an explorer that reduces states
// by symmetry: the set is a bit per node, which it could not rename by itself.
func (v *Votes) RenameNodes(rename func(node.ID) node.ID) {
	var out uint64
	for id := node.ID(1); id <= 64; id++ {
		if v.set&(1<<(id-1)) != 0 {
			out |= 1 << (rename(id) - 1)
		}
	}
	v.set = out
}

// Has reports whether id has voted.
func (v Votes) Has(id node.ID) bool { return v.set&(uint64(1)<<(uint(id)-1)) != 0 }

// Count is the number of distinct voters.
func (v Votes) Count() int {
	c := 0
	for s := v.set; s != 0; s &= s - 1 {
		c++
	}
	return c
}

// String lists the voters, as in {n1 n3}: how a node's state reads in reports and traces.
func (v Votes) String() string {
	b := []byte("{")
	for id := node.ID(1); id <= 64; id++ {
		if v.Has(id) {
			if len(b) > 1 {
				b = append(b, ' ')
			}
			b = fmt.Appendf(b, "n%d", id)
		}
	}
	return string(append(b, '}'))
}
