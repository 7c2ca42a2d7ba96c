package campaign

import (
	"fmt"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// CorpusResult is the outcome of one regression capsule re-run against a campaign.
type CorpusResult struct {
	Capsule   string        `json:"capsule"`
	Recorded  string        `json:"recorded_property,omitempty"`
	Variant   string        `json:"variant"`
	Events    int           `json:"events"`
	Violation *RunViolation `json:"violation,omitempty"`
}

// RunViolation is a run's violation as reports show it, times in seconds.
type RunViolation struct {
	Property string   `json:"property"`
	Message  string   `json:"message"`
	Time     float64  `json:"time"`
	Event    int      `json:"event"`
	Pending  []string `json:"pending,omitempty"`
	Details  []string `json:"details,omitempty"`
}

// NewRunViolation is v as reports show it; nil for no violation.
func NewRunViolation(v *sim.Violation) *RunViolation {
	if v == nil {
		return nil
	}
	return &RunViolation{Property: v.Property, Message: v.Message, Time: v.Time.Seconds(), Event: v.Event,
		Pending: v.Pending, Details: v.Details}
}

// RunCorpus re-runs every capsule of the spec's protocol under dir against the spec's variant
// (its bug, or the correct protocol): the schedules that once found a bug are the first thing
// every campaign tries. Capsules of other protocols are skipped.
func RunCorpus(dir string, spec *scenarios.Spec) ([]CorpusResult, error) {
	paths, err := scenarios.Corpus(dir)
	if err != nil {
		return nil, fmt.Errorf("-corpus %s: %v", dir, err)
	}
	var out []CorpusResult
	for _, path := range paths {
		c, err := capsule.Read(path)
		if err != nil {
			return nil, err
		}
		if c.Protocol != spec.Protocol.Name {
			continue
		}
		r, err := scenarios.ReplayAs(c, spec.Bug)
		if err != nil {
			return nil, fmt.Errorf("capsule %s: %v", path, err)
		}
		variant := spec.Protocol.Name
		if spec.Bug != "" {
			variant += "/" + spec.Bug
		}
		out = append(out, CorpusResult{Capsule: path, Recorded: c.Property, Variant: variant, Events: r.Events,
			Violation: NewRunViolation(r.Violation)})
	}
	return out, nil
}
