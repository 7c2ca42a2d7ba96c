package scenarios

import (
	"testing"
	"time"
)

// BenchmarkEtcdraftBesideRaft runs etcd raft (through protocols/etcdraft) and our own Raft side
// by side in one run, on one core each in turn: a virtual minute of a calm cluster under
// steady load (events per second), and seeds of the swarm scenario (seeds per second).
func BenchmarkEtcdraftBesideRaft(b *testing.B) {
	for _, p := range []string{"raft", "etcdraft"} {
		b.Run(p+"/calm-minute", func(b *testing.B) {
			s, err := Resolve(p, "", "calm", 3, 0)
			if err != nil {
				b.Fatal(err)
			}
			s.Faults = time.Minute
			events := 0
			for i := 0; i < b.N; i++ {
				r := s.Run(uint64(i))
				if r.Violation != nil {
					b.Fatal(r.Violation)
				}
				events += r.Events
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
		b.Run(p+"/swarm", func(b *testing.B) {
			s, err := Resolve(p, "", "swarm", 3, 0)
			if err != nil {
				b.Fatal(err)
			}
			events := 0
			for i := 0; i < b.N; i++ {
				events += s.Run(uint64(i)).Events
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
			b.ReportMetric(float64(events)/float64(b.N), "events/seed")
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
