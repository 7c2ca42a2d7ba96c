package scenarios

import "testing"

// The cost of a seed of the component stacks: the swarm scenario (the acceptance campaigns)
// and each seeded bug's own scenario, one seed after another on one core. A failing seed
// stops at its violation.
func BenchmarkStackSeed(b *testing.B) {
	for _, p := range []string{"multipaxos", "crdt"} {
		proto, err := Protocol(p)
		if err != nil {
			b.Fatal(err)
		}
		cases := []struct{ bug, scenario string }{{"", "swarm"}}
		for _, bug := range proto.Bugs {
			cases = append(cases, struct{ bug, scenario string }{bug.Name, bug.Scenario})
		}
		for _, c := range cases {
			name := p + "/" + c.scenario
			if c.bug != "" {
				name = p + "/" + c.bug + "@" + c.scenario
			}
			b.Run(name, func(b *testing.B) {
				s, err := Resolve(p, c.bug, c.scenario, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				events, failed := 0, 0
				for i := 0; i < b.N; i++ {
					r := s.Run(uint64(i))
					events += r.Events
					if r.Violation != nil {
						failed++
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
				b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
				b.ReportMetric(float64(events)/float64(b.N), "events/seed")
				b.ReportMetric(float64(failed)/float64(b.N), "failing")
			})
		}
	}
}
