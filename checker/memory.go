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
	n := w.Config().N
	if m.highs[0] == nil {
		m.makeCurves(n)
	}
	for id := node.ID(1); int(id) <= n; id++ {
		if s, ok := w.State(id).(node.Sizer); ok {
			if v := m.sample(w, stateSize, id, s.Size()); v != nil {
				return v
			}
		}
		if v := m.sample(w, inFlight, id, w.InFlight(id)); v != nil {
			return v
		}
		if v := m.sample(w, timers, id, w.ArmedTimers(id)); v != nil {
			return v
		}
	}
	return nil
}

// curveRoom is how many new highs each curve has room for before it grows on its own: a short
// run's curves fit, and take two allocations in all rather than one or more per curve.
const curveRoom = 2

// makeCurves makes the empty curves of n nodes, carved out of one array.
func (m *Memory) makeCurves(n int) {
	curves := make([][]sample, int(numMeasures)*n)
	room := make([]sample, len(curves)*curveRoom)
	for i := range curves {
		curves[i] = room[i*curveRoom : i*curveRoom : (i+1)*curveRoom]
	}
	for k := range m.highs {
		m.highs[k] = curves[k*n : (k+1)*n : (k+1)*n]
	}
}

// End has nothing to add: bounds are checked at every step.
func (m *Memory) End(w *sim.World) *sim.Violation { return nil }

// sample records a new high of measure k at node id, and fails past the bound.
func (m *Memory) sample(w *sim.World, k measure, id node.ID, v int) *sim.Violation {
	curve := m.highs[k][id-1]
	if len(curve) > 0 && v <= curve[len(curve)-1].v || len(curve) == 0 && v == 0 {
		return nil
	}
	curve = append(curve, sample{t: w.Now(), v: v})
	m.highs[k][id-1] = curve
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
