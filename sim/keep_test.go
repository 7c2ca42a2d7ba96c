package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

var keepFaults = Profile{Delay: Delay{Min: time.Millisecond, Typical: 3 * time.Millisecond, Tail: 20 * time.Millisecond, TailProb: 0.1},
	Drop: 0.1, Duplicate: 0.1, Reorder: true, FaultEvery: 10 * time.Millisecond, Down: 10 * time.Millisecond,
	Crash: 1, Pause: 1, Isolate: 1, MaxDown: -1}

// A run without a record of its choices is the same run: the seed replays it, and the
// recorded run of the seed replays from its choices.
func TestNoChoicesIsTheSameRun(t *testing.T) {
	cfg := toyConfig(keepFaults)
	cfg.Trace = TraceHash
	for seed := uint64(0); seed < 20; seed++ {
		rec := Run(cfg, NewSeeded(seed))
		bare := cfg
		bare.NoChoices = true
		got := Run(bare, NewSeeded(seed))
		if got.TraceHash != rec.TraceHash || got.Choices != nil || got.Purposes != nil || len(rec.Choices) == 0 {
			t.Fatalf("seed %d: unrecorded trace %x with %d choices kept, recorded %x with %d", seed, got.TraceHash,
				len(got.Choices), rec.TraceHash, len(rec.Choices))
		}
	}
}

// streamedToy is the toy protocol declared Streamed, with an invariant that counts the
// outputs as they come, and one that asks for all of them when told to.
func streamedToy(readAll *bool, seen *int) *node.Protocol {
	p := *toyProtocol
	p.Name, p.Streamed = "streamed-toy", true
	p.Invariants = []node.Invariant{{Name: "counts", Check: func(w node.World) error {
		*seen += len(w.NewOutputs())
		if *readAll {
			_ = w.Outputs()
		}
		return nil
	}}}
	return &p
}

// A streamed run keeps only the latest step's outputs, while counting them all; a property
// that asks for every output fails the run, naming what it did, rather than get part of them;
// a run with a full trace keeps them all.
func TestStreamedRunForgetsOutputs(t *testing.T) {
	readAll, seen := false, 0
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: time.Millisecond, Tail: time.Millisecond}})
	cfg.Protocol, cfg.Trace = streamedToy(&readAll, &seen), TraceHash
	w, r := Simulate(cfg, NewSeeded(1))
	if r.Violation != nil || !w.Streaming() || w.OutputCount() != seen || seen < 20 || len(w.outputs) > 3 {
		t.Fatalf("violation %v, streaming %v: %d outputs counted, %d seen by the property, %d kept",
			r.Violation, w.Streaming(), w.OutputCount(), seen, len(w.outputs))
	}
	readAll = true
	if _, r := Simulate(cfg, NewSeeded(1)); r.Violation == nil || r.Violation.Property != PropPanic ||
		!strings.Contains(r.Violation.Message, "Streamed") {
		t.Fatalf("a property read every output of a streamed run: %v", r.Violation)
	}
	cfg.Trace = TraceFull
	if w, r := Simulate(cfg, NewSeeded(1)); r.Violation != nil || w.Streaming() || len(w.Outputs()) != w.OutputCount() {
		t.Fatalf("with a full trace: violation %v, streaming %v", r.Violation, w.Streaming())
	}
}

// Storing nil deletes a key: a load finds nothing, before the sync and after it, and the
// durable map holds no key for it; with the one pending write kept in the slot and without.
func TestStoringNilDeletes(t *testing.T) {
	for _, one := range []bool{false, true} {
		s := &slot{durable: map[string]any{}, pending: map[string]any{}, timers: map[string]uint64{}}
		s.store("k", 7, one)
		s.sync()
		if v, ok := s.load("k"); !ok || v != 7 {
			t.Fatalf("one %v: load after sync: %v %v", one, v, ok)
		}
		s.store("k", nil, one)
		if v, ok := s.load("k"); ok || v != nil {
			t.Fatalf("one %v: load of a key stored nil, before the sync: %v %v", one, v, ok)
		}
		s.sync()
		if _, ok := s.durable["k"]; ok {
			t.Fatalf("one %v: the durable map keeps a key stored nil", one)
		}
		if v, ok := s.load("k"); ok || v != nil {
			t.Fatalf("one %v: load of a key stored nil, after the sync: %v %v", one, v, ok)
		}
	}
}

// A slot that keeps its one pending write outside the pending map (slot.store's one) stores,
// loads, syncs and crashes as one that keeps every write in the map: random sequences of the
// four over three keys, nil values among them, give the same loads and the same durable maps.
func TestOnePendingWriteIsThePendingMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var k stepCore
	for run := 0; run < 2000; run++ {
		var slots [2]*slot
		for i := range slots {
			slots[i] = &slot{durable: map[string]any{}, pending: map[string]any{}, timers: map[string]uint64{}}
		}
		for step := 0; step < 20; step++ {
			key := []string{"a", "b", "c"}[rng.IntN(3)]
			var v any
			if x := rng.IntN(4); x > 0 {
				v = x
			}
			op := rng.IntN(4)
			var got [2]string
			for i, s := range slots {
				switch op {
				case 0:
					s.store(key, v, i == 1)
				case 1:
					x, ok := s.load(key)
					got[i] = fmt.Sprint(x, ok)
				case 2:
					s.sync()
				case 3:
					s.up = true
					k.crash(s)
				}
			}
			if got[0] != got[1] || fmt.Sprint(slots[0].durable) != fmt.Sprint(slots[1].durable) {
				t.Fatalf("run %d step %d (op %d, %s=%v): map %s %v, one %s %v", run, step, op, key, v,
					got[0], slots[0].durable, got[1], slots[1].durable)
			}
		}
	}
}

// Inside a streamed stack, a component's properties count their own outputs and the
// clients' operations as they would in a run that keeps everything: node.OutputCount and
// node.OpCount of a scoped world ask the world, which counts what it forgot by path.
func TestStreamedStackCountsEachComponentsOutputs(t *testing.T) {
	counts := map[string]int{} // the last count each component's invariant saw
	counted := func(path string) *node.Module {
		return &node.Module{Name: "pinger", New: pingerModule.New, Invariants: []node.Invariant{{Name: "count",
			Check: func(w node.World) error {
				counts[path] = node.OutputCount(w)
				if node.OpCount(w) != len(w.History()) { // no clients: both are zero
					return fmt.Errorf("op count %d, history %d", node.OpCount(w), len(w.History()))
				}
				return nil
			}}}}
	}
	proto := node.Compose(&node.Protocol{Name: "pair", DefaultN: 2, MinN: 2, Streamed: true,
		Timing: node.Timing{Delay: time.Millisecond, Settle: time.Millisecond}},
		node.Part{Module: &node.Module{Name: "pair", New: func(node.Config, node.ID) node.Node { return &pair{} }}},
		node.Part{Path: "a", Module: counted("a")},
		node.Part{Path: "b", Module: counted("b")},
		node.Part{Path: "b/inner", Module: counted("b/inner")},
	)
	cfg := Config{Protocol: proto, Cluster: node.Config{N: 2}, Profile: Profile{Delay: Delay{Min: time.Millisecond}},
		Faults: 20 * time.Millisecond}
	for _, trace := range []TraceMode{TraceHash, TraceFull} {
		clear(counts)
		cfg.Trace = trace
		w, r := Simulate(cfg, NewSeeded(1))
		if r.Violation != nil {
			t.Fatalf("%v: %v", trace, r.Violation)
		}
		if w.Streaming() != (trace == TraceHash) {
			t.Fatalf("%v: streaming %v", trace, w.Streaming())
		}
		n2 := w.State(2).(*node.Stack)
		for _, path := range []string{"a", "b", "b/inner"} {
			if got := n2.Component(path).(*pinger).Got; got == 0 || counts[path] != got {
				t.Errorf("%v: component %s output %d times, its property counted %d", trace, path, got, counts[path])
			}
		}
	}
}

// A protocol whose New returns nil fails its run, blamed on the protocol by name rather than
// reported as a simulator bug.
func TestNewReturningNilIsTheProtocolsFault(t *testing.T) {
	p := *toyProtocol
	p.New = func(node.Config, node.ID) node.Node { return nil }
	cfg := toyConfig(Profile{Delay: Delay{Min: time.Millisecond, Typical: time.Millisecond, Tail: time.Millisecond}})
	cfg.Protocol = &p
	r := Run(cfg, NewSeeded(1))
	if r.Violation == nil || r.Violation.Property != PropPanic || !strings.Contains(r.Violation.Message, "New returned nil") ||
		strings.Contains(r.Violation.Message, "simulator bug") {
		t.Fatalf("violation %v", r.Violation)
	}
}
