package explore_test

import (
	"context"
	"fmt"

	"github.com/replica-io/replica/sim/explore"
)

// jugs is the water-jug puzzle from the film Die Hard 3: with a 3-gallon and a 5-gallon jug
// and a tap, measure exactly 4 gallons. The model declares "the big jug never holds 4" as
// an invariant, so the explorer's counterexample is the shortest solution.
type jugs struct{ small, big int }

// The six actions, numbered in the order Next yields them.
var jugActions = []string{"fill small", "fill big", "empty small", "empty big", "pour small into big", "pour big into small"}

type jugModel struct{}

func (jugModel) Init() []jugs { return []jugs{{0, 0}} }

func (jugModel) Next(s jugs, yield func(int, jugs) bool) {
	toBig := min(s.small, 5-s.big)
	toSmall := min(s.big, 3-s.small)
	next := []jugs{
		{3, s.big}, {s.small, 5}, {0, s.big}, {s.small, 0},
		{s.small - toBig, s.big + toBig}, {s.small + toSmall, s.big - toSmall},
	}
	for a, n := range next {
		if n != s && !yield(a, n) {
			return
		}
	}
}

func (jugModel) Fingerprint(s jugs) uint64 { return uint64(s.small)<<8 | uint64(s.big) }

func (jugModel) Violated(s jugs) string {
	if s.big == 4 {
		return "big jug never holds 4"
	}
	return ""
}

func (jugModel) Label(_ jugs, action int) string { return jugActions[action] }

func ExampleRun() {
	m := jugModel{}
	r, err := explore.Run(context.Background(), m, explore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("broken:", r.Violation.Property)
	steps, _ := explore.Labels(m, r.Violation.Path)
	states, _ := explore.Replay(m, r.Violation.Path)
	for i, step := range steps {
		fmt.Printf("%-20s -> %v\n", step, states[i+1])
	}
	// Output:
	// broken: big jug never holds 4
	// fill big             -> {0 5}
	// pour big into small  -> {3 2}
	// empty small          -> {0 2}
	// pour big into small  -> {2 0}
	// fill big             -> {2 5}
	// pour big into small  -> {3 4}
}
