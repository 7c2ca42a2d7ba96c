package scenarios

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// MaxNodes is the largest cluster the tools run.
const MaxNodes = node.MaxNodes

// Validate checks a protocol before a tool runs it: its own description (Protocol.Validate),
// and that the scenario each of its bugs names is registered and applies to it. The error
// names the protocol and the field at fault, on one line.
func Validate(p *node.Protocol) error {
	if err := p.Validate(); err != nil {
		return err
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
