package checker

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// PropMemory is the property of memory bounds.
const PropMemory = "memory-bound"

// Bounds are a run's memory bounds, each per node; zero leaves a measure unchecked. A
// scenario states them as functions of its parameters (node.Protocol.MaxSize, say "log
// entries <= snapshot threshold + window").
type Bounds struct {
	// State bounds the size of a node's state, in the protocol's own measure (node.Sizer).
	State int
	// InFlight bounds the messages on their way to a node.
	InFlight int
	// Timers bounds a node's armed timers.
	Timers int
}

// measure is one of the quantities Memory watches.
type measure int

const (
	stateSize measure = iota
	inFlight
	timers
	numMeasures
)

var measureNames = [numMeasures]string{"state size", "messages in flight to it", "armed timers"}

// sample is one point of a growth curve.
type sample struct {
	t time.Duration
	v int
}

// Memory samples every node's state size, messages in flight and armed timers after every
// step, and fails the run at the first value over its bound. It keeps each node's growth
// curve as the times at which a measure reached a new high, which is what the report shows:
// a leak climbs steadily, a healthy node levels off.
type Memory struct {
	bounds  Bounds
	nodes   []nodeMem // nodes[id-1]
	scanAll bool      // sample every node after every step (for a test)
}

// nodeMem is what Memory keeps of one node: its curves, one per measure, each curve's last
// value, for a step to compare with in place (a curve is looked at only for a new high;
// sampling nine values after every step of a three-node run through the curves was a tenth
// of a calm Paxos run's instructions), the node's World.Changes when it was last sampled, and
// the room its curves start in (see curveRoom).
//
// A node whose Changes count has not moved since it was last sampled is skipped: none of its
// measures can have grown. In a calm Paxos run most steps change one node or two of three.
// scanAll samples every node instead, for the test that holds the two ways to the same curves.
type nodeMem struct {
	curves [numMeasures][]sample
	top    [numMeasures]int // the last value of each curve, zero while it is empty (every recorded value is above zero)
	seen   uint64           // Changes+1 when last sampled; zero: never
	room   [numMeasures][curveRoom]sample
}

// NewMemory returns the factory of a memory monitor with bounds.
func NewMemory(b Bounds) func() sim.Monitor {
	return func() sim.Monitor { return &Memory{bounds: b} }
}

func (m *Memory) bound(k measure) int {
	switch k {
	case stateSize:
		return m.bounds.State
	case inFlight:
		return m.bounds.InFlight
	}
	return m.bounds.Timers
}

// Step samples every node.
func (m *Memory) Step(w *sim.World) *sim.Violation {
	if m.nodes == nil {
		m.makeCurves(w.Config().N)
	}
	for i := range m.nodes {
		nm, id := &m.nodes[i], node.ID(i+1)
		if c := w.Changes(id) + 1; !m.scanAll {
			if nm.seen == c {
				continue
			}
			nm.seen = c
		}
		if s, ok := w.State(id).(node.Sizer); ok {
			if v := s.Size(); v > nm.top[stateSize] {
				if viol := m.sample(w, stateSize, id, v); viol != nil {
					return viol
				}
			}
		}
		if v := w.InFlight(id); v > nm.top[inFlight] {
			if viol := m.sample(w, inFlight, id, v); viol != nil {
				return viol
			}
		}
		if v := w.ArmedTimers(id); v > nm.top[timers] {
			if viol := m.sample(w, timers, id, v); viol != nil {
				return viol
			}
		}
	}
	return nil
}

// curveRoom is how many new highs each curve has room for before it grows on its own: a short
// run's curves fit, in the nodes' own memory.
const curveRoom = 3

// makeCurves makes the empty curves of n nodes, in the room of their nodeMems.
func (m *Memory) makeCurves(n int) {
	m.nodes = make([]nodeMem, n)
	for i := range m.nodes {
		nm := &m.nodes[i]
		for k := range nm.curves {
			nm.curves[k] = nm.room[k][:0:curveRoom]
		}
	}
}

// End has nothing to add: bounds are checked at every step.
func (m *Memory) End(w *sim.World) *sim.Violation { return nil }

// sample records v, a new high of measure k at node id, and fails past the bound.
func (m *Memory) sample(w *sim.World, k measure, id node.ID, v int) *sim.Violation {
	nm := &m.nodes[id-1]
	curve := append(nm.curves[k], sample{t: w.Now(), v: v})
	nm.curves[k], nm.top[k] = curve, v
	b := m.bound(k)
	if b <= 0 || v <= b {
		return nil
	}
	viol := violation(w, PropMemory, fmt.Sprintf("n%d's %s reached %d, over its bound of %d, at %s",
		id, measureNames[k], v, b, seconds(w.Now())))
	viol.Details = growth(fmt.Sprintf("n%d's %s", id, measureNames[k]), curve, b)
	return viol
}

// growth draws a growth curve as lines of text: time, value and a bar, at most 20 points
// (the first, the last, and evenly spaced ones between).
func growth(what string, curve []sample, bound int) []string {
	const points, width = 20, 40
	pick := curve
	if len(curve) > points {
		pick = make([]sample, 0, points)
		for i := range points {
			pick = append(pick, curve[i*(len(curve)-1)/(points-1)])
		}
	}
	top := max(bound, pick[len(pick)-1].v)
	lines := []string{fmt.Sprintf("growth of %s (each new high; bound %d):", what, bound)}
	for _, s := range pick {
		bar := strings.Repeat("#", max(1, s.v*width/top))
		lines = append(lines, fmt.Sprintf("  %10s %6d %s", seconds(s.t), s.v, bar))
	}
	return lines
}
