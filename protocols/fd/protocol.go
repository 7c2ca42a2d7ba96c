package fd

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Stable is how long the detector's properties must keep holding once they hold.
const Stable = 500 * time.Millisecond

// Module describes the detector to the tools.
var Module = &node.Module{
	Name:    "eventually-perfect-fd",
	Summary: "eventually perfect failure detector: heartbeats, a timeout that grows after a false suspicion",
	New:     New,
	Bugs: []node.Bug{
		{Name: BugShortTimeout, Scenario: "brief",
			Summary: "the detector waits one heartbeat period instead of the timeout: it suspects live peers between heartbeats, forever"},
	},
	Liveness: []node.Liveness{
		{Name: "strong-completeness", Pending: completeness, Stable: Stable},
		{Name: "eventual-strong-accuracy", Pending: accuracy, Stable: Stable},
	},
	Sometimes: []node.Sometimes{
		{Name: "false-suspicion-corrected", Reached: func(w node.World) bool {
			for _, d := range node.States[*Detector](w) {
				if d.restored > 0 {
					return true
				}
			}
			return false
		}},
	},
}

// completeness: every node that is down is suspected by every correct node that is up.
func completeness(w node.World) []string {
	var pending []string
	for q, d := range node.States[*Detector](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if w.Correct(q) && !w.Up(p) && !d.Suspects(p) {
				pending = append(pending, fmt.Sprintf("n%d does not suspect n%d, which is down", q, p))
			}
		}
	}
	return pending
}

// accuracy: no correct node that is up suspects a node that is up.
func accuracy(w node.World) []string {
	var pending []string
	for q, d := range node.States[*Detector](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if w.Correct(q) && w.Up(p) && p != q && d.Suspects(p) {
				pending = append(pending, fmt.Sprintf("n%d suspects n%d, which is up", q, p))
			}
		}
	}
	return pending
}
