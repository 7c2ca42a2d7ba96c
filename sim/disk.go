package sim

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Storage faults and whole-cluster crashes.
//
// A node's storage is a key-value store whose writes are volatile until synced (slot.store,
// slot.sync). A run whose profile enables a storage fault gives the step core a disks, and the
// node's Env then answers through it: every Sync, every Load, every TrySync and LoadChecked
// (node.Disk). The faults are armed at fault ticks, like crashes, and bite when the node next
// syncs or reads:
//
//	disk_corrupt  the next read of one stored key comes back altered (one field of the value
//	              changed); LoadChecked says so (ErrCorrupt), Load does not. What is on the disk
//	              is intact: a second read is right.
//	disk_torn     the node's next sync with writes pending persists only the first of them,
//	              in the order they were stored, and the node crashes there (power lost in the
//	              middle of the write).
//	disk_lost     the node's next sync with writes pending reports success but persists
//	              nothing, and the node crashes after that step: it acted on writes it has
//	              lost. Unless the protocol survives that (node.DiskFaults.Lost) or the scenario
//	              means to break it, the node then stays down for good (its disk is replaced).
//	disk_full     for a while, the node's syncs are refused: TrySync returns ErrDiskFull, Sync
//	              silently leaves the writes volatile.
//	disk_slow     for a while, each of the node's syncs takes up to Profile.SlowSync: the node
//	              waits for it, doing nothing else (the messages of the step that synced leave
//	              when the step ends, as from a node that pipelines its writes).
//	cluster_crash every node crashes at once, losing what it had not synced, and all restart
//	              together after a downtime.
//
// A node a fault may take down (torn, lost, full, slow) counts against the down budget
// (DownBudget) while it is armed or in effect. Faults heal with the rest at the liveness phase.
type disks struct {
	w     *World
	nodes []diskState // nodes[id-1]
}

// diskState is what a node's disk does wrong.
type diskState struct {
	order     []string // the keys of the pending writes, in the order they were first stored
	corrupt   string   // the key whose next read comes back altered; "" for none
	tear, lie bool     // the next sync with writes pending tears, or lies
	fullUntil time.Duration
	slowUntil time.Duration
	halt      bool          // the node stopped in its step: crash it after the step
	lied      bool          // the node's sync lied in its step: crash it after the step
	stall     time.Duration // the step's slow syncs: pause the node this long after it
	retired   bool          // down for good: its disk was replaced
}

// halted is the panic value that unwinds a node's step when it stops (a torn sync, Halt).
type halted struct{}

// startDisks gives the step core a disks when the run's profile may fire a storage fault.
func (w *World) startDisks() {
	p := w.profile
	if p.FaultEvery <= 0 || p.Corrupt+p.Torn+p.Lost+p.Full+p.Slow+p.ClusterCrash == 0 {
		return
	}
	w.disk = &disks{w: w, nodes: make([]diskState, len(w.ids))}
}

// crashesFromDisk reports whether the profile's storage faults may crash a node: a torn sync,
// a lost one, a full disk the protocol halts on, a cluster crash.
func (p Profile) crashesFromDisk() bool {
	return p.FaultEvery > 0 && p.Torn+p.Lost+p.Full+p.ClusterCrash > 0
}

// WithinTolerance is profile p without the storage faults and cluster crashes that protocol
// proto does not declare it survives (unless p means to break it): the kinds its runs can fire.
func WithinTolerance(p Profile, proto *node.Protocol) Profile {
	if p.BreakDisk {
		return p
	}
	t := proto.Tolerates
	off := func(w *int, declared bool) {
		if !declared {
			*w = 0
		}
	}
	off(&p.Corrupt, t.Disk.Corrupt)
	off(&p.Torn, t.Disk.Torn)
	off(&p.Full, t.Disk.Full)
	off(&p.Slow, t.Disk.Slow)
	off(&p.ClusterCrash, t.ClusterCrash)
	return p
}

// tolerates reports whether the run may fire a storage fault the protocol declares (or not,
// when the scenario means to break it).
func (w *World) tolerates(declared bool) bool { return declared || w.profile.BreakDisk }

// The Env's side: env.Store, Load and Sync go through these when the core has a disks.

func (d *disks) stored(s *slot, key string) {
	ds := &d.nodes[s.id-1]
	if _, pending := s.pending[key]; !pending {
		ds.order = append(ds.order, key)
	}
}

func (d *disks) load(s *slot, key string) (v any, ok, corrupt bool) {
	ds := &d.nodes[s.id-1]
	if _, pending := s.pending[key]; pending || ds.corrupt != key {
		v, ok = s.load(key)
		return v, ok, false
	}
	ds.corrupt = ""
	v, ok = s.load(key)
	if !ok {
		return v, ok, false
	}
	w := d.w
	altered, what := corruptValue(v, func(n int) int { return w.choose.Choose(Faults, n) })
	if what == "" {
		return v, ok, false // nothing in the value to alter
	}
	w.fault(KindDiskCorrupt)
	w.record(Mutation, s.id, 0, 0, fmt.Sprintf("disk_corrupt: read of %q came back with %s", key, what))
	return altered, true, true
}

// sync is the node's sync; it returns node.ErrDiskFull when the disk refused it.
func (d *disks) sync(s *slot) error {
	ds := &d.nodes[s.id-1]
	w := d.w
	if len(s.pending) == 0 {
		return nil
	}
	switch {
	case ds.tear:
		ds.tear = false
		keep := w.choose.Choose(Faults, len(ds.order)) // fewer than all of them
		s.own()
		for _, k := range ds.order[:keep] {
			s.persist(k, s.pending[k])
		}
		clear(s.pending)
		s.durValid = false
		ds.order = ds.order[:0]
		w.fault(KindDiskTorn)
		w.record(Mutation, s.id, 0, 0, fmt.Sprintf("disk_torn: the sync persisted %d of its writes and the node lost power", keep))
		ds.halt = true
		panic(halted{})
	case w.now < ds.fullUntil:
		w.fault(KindDiskFull)
		w.record(Mutation, s.id, 0, 0, "disk_full: the sync was refused")
		return node.ErrDiskFull
	case ds.lie:
		ds.lie, ds.lied = false, true
		w.fault(KindDiskLost)
		w.record(Mutation, s.id, 0, 0, fmt.Sprintf("disk_lost: the sync of %d writes reported success and persisted none", len(s.pending)))
		return nil
	}
	s.sync()
	ds.order = ds.order[:0]
	if w.now < ds.slowUntil && w.profile.SlowSync > 0 {
		ds.stall += 1 + w.pick(Faults, w.profile.SlowSync)
	}
	return nil
}

// stepped runs after node s's step: a node that stopped, or whose sync lied, crashes; one whose
// syncs were slow waits for them. It reports whether the node went down.
func (d *disks) stepped(s *slot) bool {
	ds := &d.nodes[s.id-1]
	w := d.w
	switch {
	case ds.halt || ds.lied:
		lied := ds.lied
		ds.halt, ds.lied, ds.stall = false, false, 0
		if !s.up {
			return true
		}
		if lied && !w.tolerates(w.proto.Tolerates.Disk.Lost) {
			w.crash(s.id)
			s.permanent, ds.retired = true, true
			w.record(Phase, s.id, 0, 0, "the node's disk lied: it stays down for good (its disk is replaced)")
			return true
		}
		w.crashFor(s.id)
		return true
	case ds.stall > 0:
		stall := ds.stall
		ds.stall = 0
		if s.up && !s.paused && !w.live && w.down() < w.maxDown() {
			s.paused = true
			s.resumeAt = w.now + stall
			w.fault(KindDiskSlow)
			w.record(Pause, s.id, 0, 0, fmt.Sprintf("disk_slow: waiting %v for its sync", stall))
			w.schedule(event{at: s.resumeAt, kind: evResume, node: s.id, inc: s.inc})
		}
	}
	return false
}

// crashed forgets the order of writes a crash lost.
func (d *disks) crashed(s *slot) { d.nodes[s.id-1].order = d.nodes[s.id-1].order[:0] }

// impaired counts the nodes a storage fault may take down at any moment: armed to tear or lie,
// or with a full disk (the protocol may halt on it).
func (d *disks) impaired(s *slot) bool {
	ds := &d.nodes[s.id-1]
	return ds.tear || ds.lie || d.w.now < ds.fullUntil
}

// heal disarms every storage fault, at the liveness phase.
func (d *disks) heal() {
	for i := range d.nodes {
		ds := &d.nodes[i]
		ds.corrupt, ds.tear, ds.lie, ds.fullUntil, ds.slowUntil = "", false, false, 0, 0
	}
}

// The node.Disk methods of the Env.

func (e *env) TrySync() error {
	if e.k.disk == nil {
		e.s.sync()
		return nil
	}
	return e.k.disk.sync(e.s)
}

func (e *env) LoadChecked(key string) (any, bool, error) {
	if e.k.disk == nil {
		v, ok := e.s.load(key)
		return v, ok, nil
	}
	v, ok, corrupt := e.k.disk.load(e.s, key)
	if corrupt {
		return nil, true, node.ErrCorrupt
	}
	return v, ok, nil
}

func (e *env) Halt() {
	if e.k.disk == nil {
		panic("node.Halt: no storage fault was injected, yet the node halted")
	}
	e.k.disk.nodes[e.s.id-1].halt = true
	panic(halted{})
}

// stepDisk runs one step of node s with storage faults possible: a node that stops unwinds to
// here.
func (k *stepCore) stepDisk(s *slot, f func(n node.Node, env node.Env)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(halted); !ok {
				panic(r)
			}
		}
	}()
	f(s.state, &k.env)
}

// The fault ticks' side.

// diskFaults are the storage faults a fault tick may draw, with their weights.
func (w *World) diskFaults(canDown bool) []weighted {
	if w.disk == nil {
		return nil
	}
	p, t := w.profile, w.proto.Tolerates
	return []weighted{
		{gate(w.tolerates(t.Disk.Corrupt), p.Corrupt), w.armCorrupt},
		{gate(canDown && w.tolerates(t.Disk.Torn), p.Torn), func() { w.arm(func(ds *diskState) { ds.tear = true }, "disk_torn: its next sync will tear") }},
		{gate(canDown && !w.disk.replaced() && (w.tolerates(t.Disk.Lost) || canLoseOne(w.cfg, len(w.profile.Byzantine.Nodes))), p.Lost),
			func() { w.arm(func(ds *diskState) { ds.lie = true }, "disk_lost: its next sync will lie") }},
		{gate(canDown && w.tolerates(t.Disk.Full), p.Full), func() {
			until := w.now + 1 + w.pick(Faults, w.profile.Down)
			w.arm(func(ds *diskState) { ds.fullUntil = until }, "disk_full until "+until.String())
		}},
		{gate(canDown && w.tolerates(t.Disk.Slow) && p.SlowSync > 0, p.Slow), func() {
			until := w.now + 1 + w.pick(Faults, w.profile.Down)
			w.arm(func(ds *diskState) { ds.slowUntil = until }, "disk_slow until "+until.String())
		}},
		{gate(w.clusterCanCrash(), p.ClusterCrash), w.clusterCrash},
	}
}

// canLoseOne reports whether the cluster of cfg, with byzantine of its nodes Byzantine, still
// has a quorum of correct nodes for progress without one node for good: what a lost sync the
// protocol does not survive costs (its node stays down). A protocol that needs every node
// (Quorum n, two-phase commit) gets no such fault: it would fail for want of a node, not for a
// bug.
func canLoseOne(cfg Config, byzantine int) bool {
	n := cfg.Cluster.N
	return n-1 >= min(n, quorumOf(cfg)+byzantine)
}

// replaced reports whether a node's disk lied already in this run: one lost disk a run, so
// that the nodes left down for good stay few (two of five, and the leadership transfers of a
// swarm run, keep Raft from settling within the liveness window).
func (d *disks) replaced() bool {
	for _, ds := range d.nodes {
		if ds.retired || ds.lie {
			return true
		}
	}
	return false
}

type weighted struct {
	weight int
	do     func()
}

// arm sets a storage fault on an up node whose disk is sound, drawn.
func (w *World) arm(set func(ds *diskState), what string) {
	essential := w.essential()
	id := w.pickNode(func(s *slot) bool {
		return s.up && !s.paused && !w.disk.impaired(s) && !w.disk.nodes[s.id-1].retired && !essential[s.id]
	})
	if id == 0 {
		return
	}
	set(&w.disk.nodes[id-1])
	w.record(Phase, id, 0, 0, what)
}

// armCorrupt makes the next read of one of an up node's synced keys come back altered.
func (w *World) armCorrupt() {
	id := w.pickNode(func(s *slot) bool { return s.up && len(s.durable) > 0 && w.disk.nodes[s.id-1].corrupt == "" })
	if id == 0 {
		return
	}
	s := w.slot(id)
	keys := make([]string, 0, len(s.durable))
	for k, v := range s.durable {
		if v != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	k := keys[w.choose.Choose(Faults, len(keys))]
	w.disk.nodes[id-1].corrupt = k
	w.record(Phase, id, 0, 0, fmt.Sprintf("disk_corrupt: its next read of %q will come back altered", k))
}

// essential marks the nodes the protocol needs once faults heal: a fault that may keep a
// node down for good spares them.
func (w *World) essential() []bool {
	out := make([]bool, len(w.ids)+1)
	if w.proto.Essential != nil {
		for _, id := range w.proto.Essential(w.cfg.Cluster) {
			if id >= 1 && int(id) <= len(w.ids) {
				out[id] = true
			}
		}
	}
	return out
}

// clusterCanCrash reports whether a cluster crash may fire now: the protocol survives it (or
// the scenario means to break it), and every node is up, none with a disk fault armed.
func (w *World) clusterCanCrash() bool {
	if !w.tolerates(w.proto.Tolerates.ClusterCrash) {
		return false
	}
	for _, s := range w.nodes {
		if !s.up || s.paused || w.disk.impaired(s) {
			return false
		}
	}
	return true
}

// clusterCrash crashes every node at once; they restart together after a downtime.
func (w *World) clusterCrash() {
	w.fault(KindClusterCrash)
	w.record(Phase, 0, 0, 0, "cluster_crash: every node loses power")
	at := w.now + 1 + w.pick(Faults, w.profile.Down)
	for _, s := range w.nodes {
		w.crash(s.id)
		s.restartAt = at
		w.schedule(event{at: at, kind: evRestart, node: s.id, inc: s.inc})
	}
}

// corruptValue returns a copy of v with one field altered, and says which; "" when v holds
// nothing to alter. Only what a disk holds is reached: numbers, strings and booleans, in
// structs, slices, arrays, pointers and interfaces (not maps, whose order is not fixed).
func corruptValue(v any, choose func(n int) int) (any, string) {
	c := reflect.New(reflect.TypeOf(v)).Elem()
	c.Set(reflect.ValueOf(cloneAny(v)))
	count := (&corrupter{target: -1}).walk(c, "", 0)
	if count == 0 {
		return v, ""
	}
	m := &corrupter{target: choose(count), bit: choose(4)}
	m.walk(c, "", 0)
	return c.Interface(), "a changed field" + m.path
}

// corrupter walks a value's leaves in a fixed order, and alters leaf number target.
type corrupter struct {
	target, seen, bit int
	path              string
}

// walk visits x's leaves and returns how many it saw so far.
func (m *corrupter) walk(x reflect.Value, path string, depth int) int {
	if depth > 8 || m.seen > 256 || m.path != "" {
		return m.seen
	}
	switch x.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.String, reflect.Bool:
		if !x.CanSet() {
			return m.seen
		}
		if m.seen == m.target {
			m.alter(x)
			m.path = path
		}
		m.seen++
	case reflect.Struct:
		for i := 0; i < x.NumField(); i++ {
			if x.Type().Field(i).IsExported() {
				m.walk(x.Field(i), path+"."+x.Type().Field(i).Name, depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < x.Len(); i++ {
			m.walk(x.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
	case reflect.Pointer:
		if !x.IsNil() {
			m.walk(x.Elem(), path, depth+1)
		}
	case reflect.Interface:
		if !x.IsNil() && x.CanSet() {
			inner := reflect.New(x.Elem().Type()).Elem()
			inner.Set(x.Elem())
			m.walk(inner, path, depth+1)
			if m.path != "" {
				x.Set(inner) // the altered copy goes back in
			}
		}
	}
	return m.seen
}

func (m *corrupter) alter(x reflect.Value) {
	switch x.Kind() {
	case reflect.String:
		x.SetString(x.String() + "?")
	case reflect.Bool:
		x.SetBool(!x.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x.SetInt(x.Int() ^ 1<<m.bit)
	default:
		x.SetUint(x.Uint() ^ 1<<m.bit)
	}
}
