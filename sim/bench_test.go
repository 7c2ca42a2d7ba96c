package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/paxos"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/explore"
)

// BenchmarkSimulator measures the simulator's throughput on Paxos: whole runs of the default
// scenario (every fault kind on), reported as protocol events per second.
func BenchmarkSimulator(b *testing.B) {
	for _, sc := range []string{"calm", "default"} {
		b.Run(sc, func(b *testing.B) {
			spec, _ := scenarios.Resolve("paxos", "", sc, 0, 0)
			events, seed := 0, uint64(0)
			for b.Loop() {
				events += spec.Run(seed).Events
				seed++
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
		})
	}
}

// BenchmarkDirect calls Paxos's step functions directly in a loop: the same nodes, the same
// client requests, messages handed over through a plain FIFO slice, no faults, no trace, no
// checks. It is the floor that the simulator's overhead is measured against.
func BenchmarkDirect(b *testing.B) {
	events := 0
	for b.Loop() {
		events += directPaxosRun(3, 5)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

type directMsg struct {
	from, to node.ID
	m        node.Message
}

// directEnv is the least an Env can do: queue sends, ignore timers, keep storage in a map.
type directEnv struct {
	self    node.ID
	ids     []node.ID
	queue   *[]directMsg
	storage map[string]any
	outputs int
}

func (e *directEnv) Self() node.ID    { return e.self }
func (e *directEnv) Nodes() []node.ID { return e.ids }
func (e *directEnv) Send(to node.ID, m node.Message) {
	*e.queue = append(*e.queue, directMsg{e.self, to, m})
}
func (e *directEnv) SetTimer(name string, min, max time.Duration) {}
func (e *directEnv) CancelTimer(name string)                      {}
func (e *directEnv) Store(key string, v any)                      { e.storage[key] = v }
func (e *directEnv) Sync()                                        {}
func (e *directEnv) Output(v any)                                 { e.outputs++ }
func (e *directEnv) Reply(req node.Request, result any)           {}
func (e *directEnv) Choose(n int) int                             { return 0 }
func (e *directEnv) Load(key string) (any, bool) {
	v, ok := e.storage[key]
	return v, ok
}
func (e *directEnv) Broadcast(m node.Message) {
	for _, id := range e.ids {
		if id != e.self {
			e.Send(id, m)
		}
	}
}

// directPaxosRun runs n Paxos nodes and the given number of client requests until no
// message is left, and returns the number of steps.
func directPaxosRun(n, requests int) int {
	var queue []directMsg
	cfg := node.Config{N: n}
	nodes := make([]node.Node, n)
	envs := make([]*directEnv, n)
	ids := make([]node.ID, n)
	for i := range ids {
		ids[i] = node.ID(i + 1)
	}
	for i := range nodes {
		nodes[i] = paxos.New(cfg, ids[i])
		envs[i] = &directEnv{self: ids[i], ids: ids, queue: &queue, storage: map[string]any{}}
		nodes[i].Start(envs[i])
	}
	steps := n
	for r := 0; r < requests; r++ {
		i := r % n
		nodes[i].Request(envs[i], node.Request{Client: node.ClientID(r + 1), Seq: 1, Op: paxos.Value(100 * (r + 1))})
		steps++
	}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		nodes[m.to-1].Receive(envs[m.to-1], m.from, m.m)
		steps++
	}
	return steps
}

// BenchmarkCampaign measures whole campaigns: seeds per second of the default Paxos scenario.
func BenchmarkCampaign(b *testing.B) {
	spec, _ := scenarios.Resolve("paxos", "", "default", 0, 0)
	seed := uint64(0)
	for b.Loop() {
		spec.Run(seed)
		seed++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seeds/s")
}

var _ = sim.Run

// BenchmarkUntimedPaxos explores Paxos exhaustively in the untimed world (two proposers, one
// client request, one crash): the explorer's throughput on simulator states, which are
// cloned and fingerprinted node by node.
func BenchmarkUntimedPaxos(b *testing.B) {
	cfg := node.Config{N: 3, Params: paxos.Protocol.Explore.Params}
	u := sim.NewUntimed(paxos.Protocol, cfg, sim.UntimedOptions{Crashes: 1, Requests: 1})
	var states int64
	for b.Loop() {
		r, err := explore.Run(context.Background(), explore.Model[*sim.UState](u), explore.Options{Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		states += r.Unique
	}
	b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
}

// BenchmarkWatched is BenchmarkSimulator's calm runs under the watchdog of campaigns
// (sim.Watched): what the beacon, the runner goroutine and the ticker cost. (By valgrind, a
// calm run took 143,500 instructions so, 130,800 unwatched; under the goroutine per run and
// timer that campaigns used before, 152,400.)
func BenchmarkWatched(b *testing.B) {
	spec, _ := scenarios.Resolve("paxos", "", "calm", 0, 0)
	cfg := spec.Config()
	cfg.NoChoices = true
	events, seed := 0, uint64(0)
	for b.Loop() {
		r, _ := sim.Watched(cfg, sim.NewSeeded(seed), time.Minute)
		events += r.Events
		seed++
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}
