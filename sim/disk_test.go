package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// writer writes a counter and a trail of records on every tick, syncs with TrySync, reads
// everything back checked at start, and halts on a failed sync or a corrupt read: a protocol
// that survives every storage fault.
type writer struct {
	count   int
	corrupt int // corrupt reads it noticed
}

type record struct {
	N    int
	Note string
}

func (w *writer) Start(env node.Env) {
	for _, key := range []string{"a", "b", "c"} {
		for {
			_, _, err := node.LoadChecked[record](env, key)
			if !errors.Is(err, node.ErrCorrupt) {
				break
			}
			w.corrupt++
		}
	}
	w.count, _ = node.Load[int](env, "count")
	env.SetTimer("tick", time.Millisecond, 5*time.Millisecond)
}

func (w *writer) Timer(env node.Env, name string) {
	w.count++
	for _, key := range []string{"a", "b", "c"} {
		env.Store(key, record{N: w.count, Note: key})
	}
	env.Store("count", w.count)
	if node.TrySync(env) != nil {
		node.Halt(env)
	}
	env.Output(w.count)
	env.SetTimer("tick", time.Millisecond, 5*time.Millisecond)
}

func (w *writer) Receive(env node.Env, from node.ID, m node.Message) {}
func (w *writer) Request(env node.Env, req node.Request)             {}

func writerProtocol(t node.DiskFaults) *node.Protocol {
	return &node.Protocol{Name: "writer", New: func(node.Config, node.ID) node.Node { return &writer{} },
		DefaultN: 3, MinN: 1, Quorum: func(n int) int { return n/2 + 1 },
		Tolerates: node.Tolerance{Disk: t, ClusterCrash: true},
		Timing:    node.Timing{Delay: time.Millisecond, Settle: 100 * time.Millisecond}}
}

// Each storage fault kind fires when the protocol survives it, replays byte for byte, and does
// what it says; none fires when the protocol does not declare it, unless the profile means to
// break it.
func TestStorageFaultsFireWithinWhatTheProtocolSurvives(t *testing.T) {
	all := node.DiskFaults{Corrupt: true, Torn: true, Full: true, Slow: true}
	base := Profile{FaultEvery: 20 * time.Millisecond, Down: 30 * time.Millisecond, MaxDown: -1, SlowSync: 5 * time.Millisecond}
	for _, c := range []struct {
		kind Kind
		set  func(p *Profile)
	}{
		{KindDiskCorrupt, func(p *Profile) { p.Corrupt, p.Crash = 1, 1 }},
		{KindDiskTorn, func(p *Profile) { p.Torn = 1 }},
		{KindDiskLost, func(p *Profile) { p.Lost = 1 }},
		{KindDiskFull, func(p *Profile) { p.Full = 1 }},
		{KindDiskSlow, func(p *Profile) { p.Slow = 1 }},
		{KindClusterCrash, func(p *Profile) { p.ClusterCrash = 1 }},
	} {
		t.Run(c.kind.String(), func(t *testing.T) {
			p := base
			c.set(&p)
			cfg := Config{Protocol: writerProtocol(all), Cluster: node.Config{N: 3}, Profile: p, Faults: time.Second}
			r := Run(cfg, NewSeeded(1))
			if r.Violation != nil {
				t.Fatal(r.Violation)
			}
			if r.Faults[c.kind] == 0 {
				t.Fatalf("%s never fired: %v", c.kind, r.Faults)
			}
			if again := Run(cfg, NewSeeded(1)); again.TraceHash != r.TraceHash {
				t.Errorf("the same seed ran another trace")
			}
			if c.kind == KindDiskLost || c.kind == KindClusterCrash {
				return // not declared in DiskFaults: lost retires the node, cluster crash is declared above
			}
			cfg.Protocol = writerProtocol(node.DiskFaults{})
			if r := Run(cfg, NewSeeded(1)); r.Faults[c.kind] != 0 {
				t.Errorf("%s fired %d times for a protocol that does not survive it", c.kind, r.Faults[c.kind])
			}
			if !strings.Contains(strings.Join(Unfireable(cfg), "; "), c.kind.String()) {
				t.Errorf("Unfireable does not say %s cannot fire: %q", c.kind, Unfireable(cfg))
			}
			cfg.Profile.BreakDisk = true
			if r := Run(cfg, NewSeeded(1)); r.Faults[c.kind] == 0 {
				t.Errorf("%s never fired with BreakDisk", c.kind)
			}
		})
	}
}

// A lost sync the protocol does not survive leaves its node down for good, so it is drawn only
// where the others are still a quorum: never for a protocol that needs every node (two-phase
// commit's Quorum n), which would fail for want of a node rather than for a bug. Unfireable
// says so up front, and says so when every node is essential.
func TestLostSyncsSpareAProtocolThatNeedsEveryNode(t *testing.T) {
	p := Profile{FaultEvery: 20 * time.Millisecond, Down: 30 * time.Millisecond, MaxDown: -1, Lost: 1}
	all := writerProtocol(node.DiskFaults{})
	all.Quorum = func(n int) int { return n }
	cfg := Config{Protocol: all, Cluster: node.Config{N: 3}, Profile: p, Faults: time.Second}
	for seed := uint64(0); seed < 10; seed++ {
		if r := Run(cfg, NewSeeded(seed)); r.Faults[KindDiskLost] != 0 || r.Violation != nil {
			t.Fatalf("seed %d: %d lost syncs for a Quorum-n protocol (violation %v)", seed, r.Faults[KindDiskLost], r.Violation)
		}
	}
	if u := strings.Join(Unfireable(cfg), "; "); !strings.Contains(u, "disk_lost") || !strings.Contains(u, "cannot lose one") {
		t.Errorf("Unfireable does not say why disk_lost cannot fire: %q", u)
	}
	cfg.Protocol = writerProtocol(node.DiskFaults{}) // a majority: one node may stay down
	if r := Run(cfg, NewSeeded(1)); r.Faults[KindDiskLost] == 0 {
		t.Errorf("no lost sync for a majority protocol: %v", r.Faults)
	}
	essential := writerProtocol(node.DiskFaults{Torn: true})
	essential.Essential = func(c node.Config) []node.ID { return []node.ID{1, 2, 3} }
	cfg = Config{Protocol: essential, Cluster: node.Config{N: 3}, Profile: Profile{FaultEvery: 20 * time.Millisecond,
		Down: 30 * time.Millisecond, MaxDown: -1, Torn: 1}, Faults: time.Second}
	if u := strings.Join(Unfireable(cfg), "; "); !strings.Contains(u, "disk_torn") || !strings.Contains(u, "essential") {
		t.Errorf("Unfireable does not say that no node may be taken down when every node is essential: %q", u)
	}
	if r := Run(cfg, NewSeeded(1)); r.Faults[KindDiskTorn] != 0 {
		t.Errorf("a torn sync took down an essential node")
	}
}

// A torn sync persists a prefix of the writes in the order they were stored; a full disk keeps
// them volatile; a corrupt read alters one field and is caught by LoadChecked only.
func TestStorageFaultSemantics(t *testing.T) {
	w := newWorld(Config{Protocol: writerProtocol(node.DiskFaults{}), Cluster: node.Config{N: 1}}, NewSeeded(3), false)
	w.profile = Profile{FaultEvery: time.Second, Torn: 1}
	w.startDisks()
	s := w.slot(1)
	e := &w.env
	e.s = s
	for i, k := range []string{"z", "a", "m"} {
		e.Store(k, i)
	}
	w.disk.nodes[0].tear = true
	func() {
		defer func() {
			if _, ok := recover().(halted); !ok {
				t.Fatal("a torn sync did not stop the node")
			}
		}()
		e.Sync()
	}()
	order := []string{"z", "a", "m"}
	kept := len(s.durable)
	if kept >= 3 {
		t.Fatalf("a torn sync persisted all %d writes", kept)
	}
	for i, k := range order {
		if _, ok := s.durable[k]; ok != (i < kept) {
			t.Errorf("torn sync: %q durable %v, want the first %d writes in store order", k, ok, kept)
		}
	}
	w.disk.nodes[0].fullUntil = time.Hour
	e.Store("x", 1)
	if err := e.TrySync(); !errors.Is(err, node.ErrDiskFull) {
		t.Errorf("full disk: TrySync %v", err)
	}
	if _, ok := s.durable["x"]; ok {
		t.Error("full disk: a refused write became durable")
	}
	w.disk.nodes[0].fullUntil = 0
	e.Store("r", record{N: 7, Note: "seven"})
	e.Sync()
	w.disk.nodes[0].corrupt = "r"
	if _, _, err := e.LoadChecked("r"); !errors.Is(err, node.ErrCorrupt) {
		t.Errorf("corrupt read: LoadChecked %v", err)
	}
	if v, _, err := e.LoadChecked("r"); err != nil || v != (record{N: 7, Note: "seven"}) {
		t.Errorf("the second read: %v %v, want the value written", v, err)
	}
	w.disk.nodes[0].corrupt = "r"
	if v, _ := e.Load("r"); v == (record{N: 7, Note: "seven"}) {
		t.Error("a corrupt read through Load came back unaltered")
	}
}
