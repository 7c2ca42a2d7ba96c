package checker

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// NeverFired lists the fault kinds of enabled that fired no time in a campaign, given how
// often each kind fired (by name). A green campaign proves little about a fault that never
// happened: a profile can enable a kind that its other settings keep from firing (pauses
// with no node allowed down, faults drawn less often than the fault phase lasts).
func NeverFired(enabled []sim.Kind, fired map[string]int) []string {
	var out []string
	for _, k := range enabled {
		if fired[k.String()] == 0 {
			out = append(out, k.String())
		}
	}
	return out
}

// Required names the sometimes-properties of props that a campaign must reach.
func Required(props []node.Sometimes) []string {
	var out []string
	for _, p := range props {
		if p.Required {
			out = append(out, p.Name)
		}
	}
	return out
}

// Unreached lists the required sometimes-properties that no run of a campaign reached,
// given how many runs reached each (by name).
func Unreached(required []string, reached map[string]int) []string {
	var out []string
	for _, name := range required {
		if reached[name] == 0 {
			out = append(out, name)
		}
	}
	return out
}

// CoverageFailures explains, one line each, why a campaign's coverage fails it: required
// sometimes-properties never reached, and (with requireFaults) enabled fault kinds that never
// fired.
func CoverageFailures(runs int, unreached, neverFired []string, requireFaults bool) []string {
	var out []string
	for _, name := range unreached {
		out = append(out, fmt.Sprintf("required sometimes-property %q was reached in none of %d runs: "+
			"the invariants may hold only because nothing happened", name, runs))
	}
	if requireFaults {
		for _, k := range neverFired {
			out = append(out, fmt.Sprintf("fault kind %s is enabled by the profile but fired in none of %d runs (-require-faults)", k, runs))
		}
	}
	return out
}
