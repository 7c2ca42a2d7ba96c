package scenarios

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// MaxNodes is the largest cluster the tools run.
const MaxNodes = node.MaxNodes

// Validate checks a protocol before a tool runs it: its own description (Protocol.Validate),
// and that the scenario each of its bugs names is registered and applies to it. The error
// names the protocol and the field at fault, on one line. A protocol that bounds its state
// (MaxSize) must have a state the memory checker can measure (node.Sizer; see checkSizer),
// which it checks on a node of the default cluster; specs check it again on their own.
func Validate(p *node.Protocol) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.MaxSize != nil {
		if err := checkSizer(p, node.Config{N: p.DefaultN}, "declares MaxSize"); err != nil {
			return err
		}
	}
	for _, b := range p.Bugs {
		s, err := Lookup(b.Scenario)
		if err != nil {
			return fmt.Errorf("protocol %s: bug %s: %w", p.Name, b.Name, err)
		}
		if err := s.Fits(p); err != nil {
			return fmt.Errorf("protocol %s: bug %s: its scenario %s does not apply to the protocol: %v", p.Name, b.Name, s.Name, err)
		}
	}
	return nil
}

// DeclaresChecks reports whether p declares a property of its own: an invariant, a
// sometimes-property, progress or liveness, a workload (whose history is checked against its
// Spec) or a convergent object. Without one, its runs check only what every run checks (no
// panics, memory bounds, determinism when asked), and pass whatever its nodes compute: the
// tools say so rather than report a green campaign as if it meant something.
func DeclaresChecks(p *node.Protocol) bool {
	return len(p.Invariants) > 0 || len(p.Sometimes) > 0 || p.Progress != nil || len(p.Liveness) > 0 ||
		p.Workload != nil || len(p.Convergence) > 0
}

// NoChecksNote is the note the tools print for a protocol that declares no property.
func NoChecksNote(p *node.Protocol) string {
	return fmt.Sprintf("protocol %s declares no property of its own (Invariants, Sometimes, Progress, Liveness, Workload, Convergence): its runs check only that its nodes do not panic or outgrow the memory bounds, whatever they compute", p.Name)
}
