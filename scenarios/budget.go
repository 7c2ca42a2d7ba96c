package scenarios

import (
	"github.com/replica-io/replica/sim"
)

// MaxBudgetScale bounds how far a longer fault phase raises a run's event budget: ten times
// the scenario's own. Past it, a run stops at its budget and says so (sim.Result.Exhausted)
// rather than run for hours.
const MaxBudgetScale = 10

// eventBudget is the event budget of a run of cfg: the scenario's (or the simulator's
// default), scaled with the length of the run when a spec asks for a longer fault phase than
// the scenario's, up to MaxBudgetScale times. A protocol that takes events steadily for
// longer than that is not failed for it; one that runs away (events without virtual time
// advancing) is, whatever the budget (see sim's budget.go).
func (s *Spec) eventBudget(cfg sim.Config) int {
	base := s.Scenario.MaxEvents
	if base <= 0 {
		base = sim.DefaultMaxEvents
	}
	t := s.Protocol.Timing
	own := scale(t, s.Scenario.Faults) + scale(t, s.Scenario.Liveness)
	asked := cfg.Faults + cfg.Liveness
	if own <= 0 || asked <= own {
		return base
	}
	ratio := min(float64(asked)/float64(own), MaxBudgetScale)
	return int(float64(base) * ratio)
}
