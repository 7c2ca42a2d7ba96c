package scenarios

import (
	"testing"
	"time"

	"github.com/replica-io/replica/sim"
)

func TestTheEventBudgetScalesWithTheDuration(t *testing.T) {
	s, err := Resolve("paxos", "", "default", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	own := s.Config()
	if own.MaxEvents != sim.DefaultMaxEvents {
		t.Errorf("the scenario's own length: budget %d", own.MaxEvents)
	}
	s.Faults = 2*own.Faults + own.Liveness // twice the whole run
	if got := s.Config().MaxEvents; got != 2*sim.DefaultMaxEvents {
		t.Errorf("twice as long: budget %d, want %d", got, 2*sim.DefaultMaxEvents)
	}
	s.Faults = 100_000 * time.Hour
	if got := s.Config().MaxEvents; got != MaxBudgetScale*sim.DefaultMaxEvents {
		t.Errorf("100000h: budget %d, want the cap %d", got, MaxBudgetScale*sim.DefaultMaxEvents)
	}
}
