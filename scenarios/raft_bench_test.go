package scenarios

import (
	"testing"
	"time"
)

func raftSpec(b *testing.B, bug, scenario string) *Spec {
	s, err := Resolve("raft", bug, scenario, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkRaftVirtualTime simulates a five-node Raft cluster under steady client load (four
// closed-loop clients, every check on) for a minute of virtual time per iteration, and reports
// virtual seconds simulated per wall second.
func BenchmarkRaftVirtualTime(b *testing.B) {
	s := raftSpec(b, "", "calm")
	s.Faults = time.Minute
	var virtual time.Duration
	events := 0
	for i := 0; i < b.N; i++ {
		r := s.Run(uint64(i))
		if r.Violation != nil {
			b.Fatal(r.Violation)
		}
		virtual += r.Virtual
		events += r.Events
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "virtual-s/s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// The cost of a seed of the swarm scenario (the acceptance campaign) and of the bug scenarios,
// one after another on one core.
func BenchmarkRaftSeed(b *testing.B) {
	for _, c := range []struct{ bug, scenario string }{
		{"", "swarm"}, {"figure8", "crash-restart-storm"}, {"stale-read", "leader-isolation"},
		{"membership-no-fix", "membership-churn"}, {"plain", "partial-connectivity"}, {"no-compaction", "long-haul"},
	} {
		name := c.scenario
		if c.bug != "" {
			name = c.bug + "@" + c.scenario
		}
		b.Run(name, func(b *testing.B) {
			s := raftSpec(b, c.bug, c.scenario)
			events := 0
			for i := 0; i < b.N; i++ {
				events += s.Run(uint64(i)).Events
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/seed")
		})
	}
}
