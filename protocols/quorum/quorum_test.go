package quorum

import (
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

func TestMajorityIntersects(t *testing.T) {
	for n := 1; n <= 12; n++ {
		q := Majority(n)
		if 2*q <= n || q > n {
			t.Errorf("Majority(%d) = %d: two majorities must intersect and fit", n, q)
		}
		if q > 1 && 2*(q-1) > n {
			t.Errorf("Majority(%d) = %d is not the smallest", n, q)
		}
	}
}

func TestByzantineQuorumsIntersectInACorrectNode(t *testing.T) {
	for n := 4; n <= 13; n++ {
		f := MaxByzantine(n)
		if n < 3*f+1 || n >= 3*(f+1)+1 {
			t.Fatalf("MaxByzantine(%d) = %d", n, f)
		}
		q := Byzantine(n, f)
		if n == 3*f+1 && q != 2*f+1 {
			t.Errorf("Byzantine(%d, %d) = %d, want 2f+1", n, f, q)
		}
		if q > n-f {
			t.Errorf("n=%d f=%d: a quorum of %d cannot be formed without the faulty nodes", n, f, q)
		}
		// Two quorums of q among n share at least 2q-n nodes; one more than f is correct.
		if 2*q-n < f+1 {
			t.Errorf("n=%d f=%d: quorums of %d share only %d nodes", n, f, q, 2*q-n)
		}
	}
}

func TestVotesCountEachVoterOnce(t *testing.T) {
	tests := []struct {
		votes []node.ID
		want  int
	}{
		{nil, 0},
		{[]node.ID{1}, 1},
		{[]node.ID{1, 1, 1}, 1},
		{[]node.ID{3, 1, 3, 2}, 3},
		{[]node.ID{64, 1}, 2},
	}
	for _, tt := range tests {
		var v Votes
		for _, id := range tt.votes {
			v.Add(id)
		}
		if got := v.Count(); got != tt.want {
			t.Errorf("votes %v: Count() = %d, want %d", tt.votes, got, tt.want)
		}
		for _, id := range tt.votes {
			if !v.Has(id) {
				t.Errorf("votes %v: Has(%d) = false", tt.votes, id)
			}
		}
	}
}
