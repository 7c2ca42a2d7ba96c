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
	bounds Bounds
	highs  [numMeasures][][]sample // highs[m][id-1]
	// top[m*n+id-1] is the last value of highs[m][id-1] (zero while it is empty, as every
	// recorded value is above zero): a step compares with it, in place, and looks at a curve
	// only for a new high. Sampling nine values after every step of a three-node run was a
	// tenth of a calm Paxos run's instructions when each went through the curves.
	top []sample // only v is used: carved out of the curves' array, for one allocation less
	n   int
	// seen[id-1] is World.Changes(id)+1 when the node was last sampled (zero: never): a node
	// whose count has not moved since has no measure that can have grown, and is skipped. In
	// a calm Paxos run most steps change one node or two of three. scanAll samples every node
	// after every step instead (for the test that holds the two ways to the same curves), as
	// does a cluster larger than seen.
	seen    [node.MaxNodes]uint64
	scanAll bool
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
	if m.top == nil {
		m.makeCurves(w.Config().N)
	}
	n := m.n
	top := m.top[: int(numMeasures)*n : int(numMeasures)*n]
	skip := !m.scanAll && n <= len(m.seen)
	for i := 0; i < n; i++ {
		id := node.ID(i + 1)
		if skip {
			c := w.Changes(id) + 1
			if m.seen[i] == c {
				continue
			}
			m.seen[i] = c
		}
		if s, ok := w.State(id).(node.Sizer); ok {
			if v := s.Size(); v > top[int(stateSize)*n+i].v {
				if viol := m.sample(w, stateSize, id, v); viol != nil {
					return viol
				}
			}
		}
		if v := w.InFlight(id); v > top[int(inFlight)*n+i].v {
			if viol := m.sample(w, inFlight, id, v); viol != nil {
				return viol
			}
		}
		if v := w.ArmedTimers(id); v > top[int(timers)*n+i].v {
			if viol := m.sample(w, timers, id, v); viol != nil {
				return viol
			}
		}
	}
	return nil
}

// curveRoom is how many new highs each curve has room for before it grows on its own: a short
// run's curves fit, and take two allocations in all rather than one or more per curve.
const curveRoom = 4

// makeCurves makes the empty curves of n nodes, carved out of one array, and their tops.
func (m *Memory) makeCurves(n int) {
	m.n = n
	curves := make([][]sample, int(numMeasures)*n)
	room := make([]sample, len(curves)*(curveRoom+1))
	for i := range curves {
		curves[i] = room[i*curveRoom : i*curveRoom : (i+1)*curveRoom]
	}
	for k := range m.highs {
		m.highs[k] = curves[k*n : (k+1)*n : (k+1)*n]
	}
	m.top = room[len(curves)*curveRoom:]
}

// End has nothing to add: bounds are checked at every step.
func (m *Memory) End(w *sim.World) *sim.Violation { return nil }

// sample records v, a new high of measure k at node id, and fails past the bound.
func (m *Memory) sample(w *sim.World, k measure, id node.ID, v int) *sim.Violation {
	curve := append(m.highs[k][id-1], sample{t: w.Now(), v: v})
	m.highs[k][id-1] = curve
	m.top[int(k)*m.n+int(id)-1].v = v
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
