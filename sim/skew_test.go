package sim_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/sim"
)

// A protocol that declares the clock skew it is designed for (node.Tolerance.Skew) gets no
// more in a swarm, which draws up to 0.5: every timer rate of every run stays within the
// bound, and skew still fires. Without the declaration the same seeds draw more.
func TestSkewStaysWithinTolerance(t *testing.T) {
	bounded := *paxos.Protocol
	bounded.Tolerates.Skew = 0.05
	widest := func(p *node.Protocol) (float64, int) {
		var most float64
		fired := 0
		for seed := uint64(0); seed < 60; seed++ {
			cfg := sim.Config{Protocol: p, Cluster: node.Config{N: 3}, Swarm: true, Trace: sim.TraceFull,
				Profile: sim.Profile{Delay: sim.Delay{Min: time.Millisecond, Typical: 5 * time.Millisecond}, FaultEvery: 20 * time.Millisecond},
				Faults:  200 * time.Millisecond}
			r := sim.Run(cfg, sim.NewSeeded(seed))
			for _, e := range r.Trace {
				if e.What != sim.Skew {
					continue
				}
				rate, err := strconv.ParseFloat(strings.TrimPrefix(fmt.Sprint(e.Data), "timer rate "), 64)
				if err != nil {
					t.Fatalf("seed %d: %v: %v", seed, e.Data, err)
				}
				most = max(most, rate-1, 1-rate)
				fired++
			}
		}
		return most, fired
	}
	most, fired := widest(&bounded)
	if fired == 0 || most > 0.05+1e-9 {
		t.Errorf("declared 0.05: %d rates drawn, widest skew %.3f", fired, most)
	}
	if free, _ := widest(paxos.Protocol); free <= 0.05 {
		t.Errorf("undeclared: widest skew %.3f, so the test shows nothing", free)
	}
}

// A skew bound outside [0, 1) is refused, with what it must be: a timer rate of 1-Skew must
// stay positive.
func TestSkewToleranceValidated(t *testing.T) {
	for _, k := range []float64{-0.1, 1, 2} {
		p := *paxos.Protocol
		p.Tolerates.Skew = k
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "Tolerates.Skew") {
			t.Errorf("Skew %g: Validate() = %v, want an error naming Tolerates.Skew", k, err)
		}
	}
	p := *paxos.Protocol
	p.Tolerates.Skew = 0.05
	if err := p.Validate(); err != nil {
		t.Errorf("Skew 0.05: %v", err)
	}
}
