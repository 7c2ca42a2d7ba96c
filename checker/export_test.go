package checker

import (
	"fmt"
	"strings"

	"github.com/replica-io/replica/sim"
)

// NewMemoryProbe is a memory monitor with no bounds, which samples every node after every
// step when scanAll is set, and otherwise only the nodes whose World.Changes moved.
func NewMemoryProbe(scanAll bool) func() sim.Monitor {
	return func() sim.Monitor { return &Memory{scanAll: scanAll} }
}

// CurvesOf formats the growth curves a memory monitor recorded.
func CurvesOf(m sim.Monitor) string {
	var s []string
	for _, nm := range m.(*Memory).nodes {
		s = append(s, fmt.Sprint(nm.curves))
	}
	return strings.Join(s, " ")
}
