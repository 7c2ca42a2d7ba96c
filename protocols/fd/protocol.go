package fd

import (
	"fmt"
	"strconv"
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
// watch armed before healing is left to run out). It is judged after every step of the
// liveness phase, twice (here and by Omega), so it looks up its memo once and builds its
// lines without fmt.
func Accuracy(w node.World) []string {
	var pending []string
	heard := heardAtHealing(w)
	for q, d := range node.States[*Detector](w) {
		for p := node.ID(1); int(p) <= w.Config().N; p++ {
			if !w.Correct(q) || !w.Up(p) || p == q {
				continue
			}
			if d.Suspects(p) {
				pending = append(pending, pair(q, " suspects ", p, ", which is up"))
			} else if !heard.since(d, q, p) {
				pending = append(pending, pair(q, " has not heard from ", p, " since faults healed"))
			}
		}
	}
	return pending
}

// pair is "nQ<what>nP<tail>".
func pair(q node.ID, what string, p node.ID, tail string) string {
	return "n" + strconv.Itoa(int(q)) + what + "n" + strconv.Itoa(int(p)) + tail
}

// healedHeard is what every detector had heard from each peer when a property first looked
// after healing: heard[q][p]. Nil means everything counts as heard (before healing, and where
// the world keeps no memos).
type healedHeard struct{ heard [][]int }

// heardAtHealing returns the world's healedHeard, made at the first look after healing.
func heardAtHealing(w node.World) *healedHeard {
	if healed, _ := w.Healed(); !healed {
		return nil
	}
	b, ok := node.Memo(w, "heard at healing", func() *healedHeard {
		b := &healedHeard{heard: make([][]int, w.Config().N+1)}
		for q, d := range node.States[*Detector](w) {
			b.heard[q] = append([]int(nil), d.heard...)
		}
		return b
	})
	if !ok {
		return nil
	}
	return b
}

// since reports whether detector d of node q has received a heartbeat from p since healing.
func (b *healedHeard) since(d *Detector, q, p node.ID) bool {
	if b == nil || int(q) >= len(b.heard) {
		return true
	}
	at := b.heard[q]
	return at == nil || int(p) >= len(at) || d.Heard(p) != at[p]
}

// HeardSinceHealing reports whether node q's detector has received a heartbeat from p since
// faults healed (true before healing, and where the world keeps no memos).
func HeardSinceHealing(w node.World, q, p node.ID) bool {
	d, up := node.StateOf[*Detector](w, q)
	if !up {
		return true
	}
	return heardAtHealing(w).since(d, q, p)
}
