package checker

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/sim"
)

// Outcome is a check's verdict on one run.
type Outcome uint8

const (
	// Unchecked: the run ended before the check could run (an earlier violation).
	Unchecked Outcome = iota
	Pass
	Fail
	// Unknown: the check ran out of time, and says neither pass nor fail.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Unknown:
		return "unknown"
	}
	return "unchecked"
}

// A Judge is a monitor that gives the whole run a verdict, beyond stopping it with a
// violation; campaigns count the verdicts of each check.
type Judge interface {
	Verdict() (check string, o Outcome)
}

// An Explainer is a monitor that can write files explaining the violation it found, beside
// the capsule of the run (base is the capsule's path). It returns the paths it wrote.
type Explainer interface {
	Explain(base string) ([]string, error)
}

// violation starts a violation of property at w's current step.
func violation(w *sim.World, property, msg string) *sim.Violation {
	return &sim.Violation{Property: property, Message: msg, Time: w.Now(), Event: w.Events()}
}

// seconds formats a virtual time for a report.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
