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
		{Name: "eventual-strong-accuracy", Pending: Accuracy, Stable: Stable},
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

// Accuracy is eventual strong accuracy's pending list: correct nodes that are up suspecting
// nodes that are up, and pairs that have not heard a heartbeat since faults healed (so that no
// watch armed before healing is left to run out).
func Accuracy(w node.World) []string {
	var pending []string
	for q, d := range node.States[*Detector](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if !w.Correct(q) || !w.Up(p) || p == q {
				continue
			}
			if d.Suspects(p) {
				pending = append(pending, fmt.Sprintf("n%d suspects n%d, which is up", q, p))
			} else if !HeardSinceHealing(w, q, p) {
				pending = append(pending, fmt.Sprintf("n%d has not heard from n%d since faults healed", q, p))
			}
		}
	}
	return pending
}

// HeardSinceHealing reports whether node q's detector has received a heartbeat from p since
// faults healed (true before healing, and where the world keeps no memos).
func HeardSinceHealing(w node.World, q, p node.ID) bool {
	if healed, _ := w.Healed(); !healed {
		return true
	}
	type base struct{ heard [][]int } // heard[q][p] when the property first looked after healing
	b, ok := node.Memo(w, "heard at healing", func() *base {
		b := &base{heard: make([][]int, w.Config().N+1)}
		for q, d := range node.States[*Detector](w) {
			b.heard[q] = append([]int(nil), d.heard...)
		}
		return b
	})
	d, up := node.StateOf[*Detector](w, q)
	if !ok || !up {
		return true
	}
	at := b.heard[q]
	return at == nil || int(p) >= len(at) || d.Heard(p) != at[p]
}
