package checker

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// Sometimes watches the sometimes-properties a scenario declares (the protocol's own are
// the simulator's business): after every step it evaluates those not reached yet. A
// campaign counts, per property, the runs that reached it, as it does the protocol's.
type Sometimes struct {
	props   []node.Sometimes
	reached []bool
}

// NewSometimes returns the factory of a monitor of props.
func NewSometimes(props []node.Sometimes) func() sim.Monitor {
	return func() sim.Monitor { return &Sometimes{props: props, reached: make([]bool, len(props))} }
}

// Step evaluates the properties not reached yet.
func (s *Sometimes) Step(w *sim.World) *sim.Violation {
	for i, p := range s.props {
		if !s.reached[i] && p.Reached(w) {
			s.reached[i] = true
		}
	}
	return nil
}

// End has nothing to add.
func (s *Sometimes) End(w *sim.World) *sim.Violation { return nil }

// Reached names the properties this run reached.
func (s *Sometimes) Reached() []string {
	var out []string
	for i, p := range s.props {
		if s.reached[i] {
			out = append(out, p.Name)
		}
	}
	return out
}
