package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// TestALongRunIsNotARunaway: a protocol that keeps a message bouncing with a real delay,
// asked for an hour, uses up its event budget while virtual time advances: the run stops
// there, exhausted, with no violation. The same bouncing without delay is a runaway.
func TestALongRunIsNotARunaway(t *testing.T) {
	p := *toyProtocol
	p.New = func(node.Config, node.ID) node.Node { return &echo{} }
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: 2 * time.Millisecond}})
	cfg.Protocol = &p
	cfg.Faults = time.Hour
	cfg.MaxEvents = 5000
	r := Run(cfg, NewSeeded(7))
	if r.Violation != nil || !r.Exhausted || r.Events != 5000 || r.Virtual <= time.Second {
		t.Errorf("a long steady run: violation %v, exhausted %v, %d events, %v virtual", r.Violation, r.Exhausted, r.Events, r.Virtual)
	}
	cfg.Profile = Profile{} // no delay at all: every event at time zero
	r = Run(cfg, NewSeeded(7))
	if r.Violation == nil || r.Violation.Property != PropEventBudget || r.Exhausted ||
		!strings.Contains(r.Violation.Message, "2500 events in a row at 0.000ms without virtual time advancing") {
		t.Errorf("a runaway: violation %v, exhausted %v", r.Violation, r.Exhausted)
	}
}
