package scenarios

import "testing"

func benchScenario(b *testing.B, bug, scenario string) {
	spec, err := Resolve("raft", bug, scenario, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	events := 0
	for i := 0; i < b.N; i++ {
		r := spec.Run(uint64(i))
		events += r.Events
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/seed")
}

func BenchmarkRaftSwarmSeed(b *testing.B) { benchScenario(b, "", "swarm") }
func BenchmarkRaftStormSeed(b *testing.B) { benchScenario(b, "", "crash-restart-storm") }

func BenchmarkRaftNoCompactionSeed(b *testing.B) { benchScenario(b, "no-compaction", "long-haul") }
