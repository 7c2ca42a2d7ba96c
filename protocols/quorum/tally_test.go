package quorum

import (
	"math/rand/v2"
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

func TestTallyCountsEachVoterOncePerValue(t *testing.T) {
	type vote struct {
		id node.ID
		v  string
	}
	tests := []struct {
		name  string
		votes []vote
		want  map[string]int
		len   int
	}{
		{"empty", nil, map[string]int{"a": 0}, 0},
		{"distinct voters", []vote{{1, "a"}, {2, "a"}, {3, "a"}}, map[string]int{"a": 3}, 1},
		{"a repeated vote", []vote{{1, "a"}, {1, "a"}, {2, "a"}}, map[string]int{"a": 2}, 1},
		{"two values", []vote{{1, "a"}, {2, "b"}, {3, "a"}}, map[string]int{"a": 2, "b": 1}, 2},
		{"a voter contradicts itself", []vote{{1, "a"}, {1, "b"}}, map[string]int{"a": 1, "b": 1}, 2},
		{"a third value of one voter is dropped", []vote{{1, "a"}, {1, "b"}, {1, "c"}, {2, "c"}},
			map[string]int{"a": 1, "b": 1, "c": 1}, 3},
	}
	for _, tt := range tests {
		var tl Tally[string]
		for _, v := range tt.votes {
			tl.Add(v.id, v.v)
		}
		for v, want := range tt.want {
			if got := tl.Count(v); got != want {
				t.Errorf("%s: Count(%q) = %d, want %d", tt.name, v, got, want)
			}
		}
		if tl.Len() != tt.len {
			t.Errorf("%s: Len() = %d, want %d", tt.name, tl.Len(), tt.len)
		}
	}
}

// TestTallyMatchesNaive checks Tally against a direct implementation of its rule on random
// votes, and that its size stays within the bound that rule gives.
func TestTallyMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var tl Tally[int]
		naive := map[node.ID][]int{} // the values each voter was counted for, in order
		for i := 0; i < 60; i++ {
			id, v := node.ID(1+r.IntN(7)), r.IntN(5)
			counted := false
			for _, x := range naive[id] {
				counted = counted || x == v
			}
			want := !counted && len(naive[id]) < MaxValuesPerVoter
			if want {
				naive[id] = append(naive[id], v)
			}
			if got := tl.Add(id, v); got != want {
				t.Fatalf("round %d: Add(%d, %d) = %v, want %v", round, id, v, got, want)
			}
		}
		for v := 0; v < 5; v++ {
			want := 0
			for _, vals := range naive {
				for _, x := range vals {
					if x == v {
						want++
					}
				}
			}
			if got := tl.Count(v); got != want {
				t.Fatalf("round %d: Count(%d) = %d, want %d", round, v, got, want)
			}
		}
		if tl.Len() > 7*MaxValuesPerVoter {
			t.Fatalf("round %d: %d values tracked for 7 voters", round, tl.Len())
		}
	}
}
