package sim

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Config is everything a run is made of besides its choices.
type Config struct {
	Protocol *node.Protocol
	Cluster  node.Config
	Profile  Profile
	// Swarm draws the profile from the run's own choices (see Swarm), with Profile as base,
	// and the protocol parameters of SwarmParams (see ParamDraw).
	Swarm       bool
	SwarmParams []ParamDraw

	// Clients and Ops override the protocol's workload size when positive.
	Clients, Ops int

	// Faults is the length of the fault phase. With a Liveness bound, the run then heals every
	// fault, keeps a core of at least a quorum of nodes up, and goes on for at most Liveness,
	// within which a checker (package checker) demands progress and ends the run once it
	// sees it; without one, the run ends with the fault phase.
	Faults   time.Duration
	Liveness time.Duration

	// MaxEvents bounds the steps of a run, StepBudget the effects (sends, timers, writes,
	// outputs, choices) of a single step. Exceeding either is a failure of the run.
	MaxEvents  int
	StepBudget int

	// Trace says whether to keep every trace entry (replays, timelines); Context is how many
	// of the last entries a violation report shows.
	Trace   TraceMode
	Context int

	// Monitors check the run beside the protocol's own invariants (see Monitor).
	Monitors []func() Monitor

	// Observer, if set, sees the world after every step (see Observer).
	Observer Observer

	// NoChoices runs without recording the choices (Result.Choices and Purposes are nil), so
	// that a long run's memory does not grow with them: a campaign's seeded run is replayed
	// from its seed, and recorded again only when it fails and needs a capsule (the same seed
	// makes the same choices).
	NoChoices bool
}

// Defaults for the limits a Config leaves at zero.
const (
	DefaultMaxEvents  = 200_000
	DefaultStepBudget = 100_000
	DefaultContext    = 50
)

// slot is one node of the world: its protocol state (nil while down) and everything the
// world keeps for it.
type slot struct {
	id        node.ID
	state     node.Node
	up        bool
	paused    bool
	resumeAt  time.Duration
	permanent bool   // crashed for good: outside the core once faults heal
	inc       uint64 // incarnation: bumped by every crash, so old timers are ignored
	timers    map[string]uint64
	durable   map[string]any
	pending   map[string]any
	// lastStored is the key of the latest write, which is the only pending one when pending
	// holds one key (a sync then needs no iteration over pending).
	lastStored string
	// one says that the only pending write is oneKey's, of oneVal, kept outside the pending
	// map, which is then empty (see store): only in a world that neither shares slots nor
	// fails storage, whose every other reader of pending it would have to know.
	one    bool
	oneKey string
	oneVal any
	rate   float64 // timer clock rate (skew)
	// changes counts what may have grown one of the node's measures that a memory monitor
	// watches (see World.Changes): its steps, its timers armed, the messages sent to it.
	changes   uint64
	restartAt time.Duration

	// For exploration: the maps may be shared with the same node in another state (copy on
	// write; shared has a bit per map still shared, see ownMaps), and the durable storage's
	// hash is kept until it changes.
	shared   uint8
	durHash  uint64
	durValid bool
}

// The maps of a slot, as bits of slot.shared.
const (
	mapTimers uint8 = 1 << iota
	mapDurable
	mapPending
	mapsAll = mapTimers | mapDurable | mapPending
)

// own gives the slot its own maps before they change, when they are shared.
func (s *slot) own() { s.ownMaps(mapsAll) }

// ownMaps gives the slot its own copy of each map in which that is still shared. A step
// copies only what it changes: a timer that fires leaves the storage shared, a write the
// timers; each copy is garbage to collect, or memory that a state in the frontier holds.
func (s *slot) ownMaps(which uint8) {
	if which&s.shared != 0 { // small enough to inline: the timed world never shares
		s.copyMaps(which & s.shared)
	}
}

func (s *slot) copyMaps(which uint8) {
	if which&mapTimers != 0 {
		s.timers = maps(s.timers)
	}
	if which&mapDurable != 0 {
		s.durable = maps(s.durable)
	}
	if which&mapPending != 0 {
		s.pending = maps(s.pending)
	}
	s.shared &^= which
}

// World is a simulated cluster in virtual time: nodes, durable storage, messages in flight,
// timers, partitions, clients and their history, driven by one chooser. It steps nodes through
// the step core it shares with the untimed world (stepCore), and decides what time means: when a
// message arrives, when a timer fires, when a client hears back.
type World struct {
	stepCore
	cfg     Config
	profile Profile
	choose  *recorder

	queue   queue
	seq     uint64
	gen     uint64
	live    bool // the liveness phase: no new faults, a healed network
	healAt  time.Duration
	core    []bool // core[id-1]: kept up during the liveness phase
	stopped bool

	cut          [][]bool // cut[from][to]: the link drops everything
	partitionInc uint64   // numbers partitions, so that a stale heal is ignored
	partitionOn  bool     // a drawn partition is in place
	lastArrival  [][]time.Duration
	inFlight     []int // inFlight[to]: messages scheduled for delivery to a node

	memo      map[string]any // what properties remember of the run (see Memo)
	memoCache [memoCacheSize]memoCached
	faults    Counts
	byz       []*traitor // byz[id-1]: the adversary's state for a Byzantine node, nil for a correct one
	violation *Violation
	reached   []bool // the protocol's Sometimes properties reached in this run
	// props is the protocol's invariants and sometimes-properties bound to this world, once
	// the first check binds them (see check).
	props      node.Bound
	propsBound bool
	mons       []Monitor
	budget     eventBudget // see budget.go
	script     *script     // a timed replay of an untimed path (see ReplayTimed), or nil
	// chooseWorkload draws the clients' workload choices (made once per run, not per operation).
	chooseWorkload func(n int) int
	mem            *runMem  // the memory the world is made of, reused by the next run (see Run)
	replyFree      []*reply // replies read, to carry the next ones (see newReply)

	// What a streamed run has forgotten (see keep.go).
	streamed      bool
	outBase       int            // outputs forgotten
	outForgot     map[string]int // of those, how many each component path made (OutputCountAt)
	forgotUnknown int            // forgotten operations of unknown outcome

	// beacon, when the run is watched (see Watched), is where the world says which event it
	// is in; nil otherwise.
	beacon *beacon
}

// newWorld builds the world of cfg driven by chooser; Run starts it. A world of pooled memory
// (Run's) takes memory a finished run gave back (see runMem); any other is made afresh, for a
// caller that keeps the world.
func newWorld(cfg Config, c Chooser, pooled bool) *World {
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.StepBudget <= 0 {
		cfg.StepBudget = DefaultStepBudget
	}
	if cfg.Context <= 0 {
		cfg.Context = DefaultContext
	}
	n := cfg.Cluster.N
	m := newRunMem(n, cfg.Context, pooled)
	m.tracer = newTracer(cfg.Trace, m.ring)
	m.tracer.touched = m.touched
	m.tracer.touching = cfg.Observer != nil // see observe.go
	m.world = World{
		stepCore: stepCore{
			proto:      cfg.Protocol,
			cluster:    cfg.Cluster,
			stepBudget: cfg.StepBudget,
			trace:      &m.tracer,
			ownCopies:  cfg.Trace == TraceFull || cfg.Observer != nil || cfg.Cluster.F > 0,
			ids:        m.ids,
			nodes:      m.nodes,
		},
		cfg:         cfg,
		choose:      &m.recorder,
		reached:     make([]bool, len(cfg.Protocol.Sometimes)),
		queue:       m.queue,
		cut:         m.cut,
		lastArrival: m.lastArrival,
		inFlight:    m.inFlight,
		memo:        m.memo,
		replyFree:   m.replies,
		props:       m.props,
		mem:         m,
		streamed:    streams(cfg),
	}
	w := &m.world
	if m.chooseWorkload == nil { // it reads the world through a pointer that stays the same
		m.chooseWorkload = func(n int) int { return w.choose.Choose(Workload, max(n, 1)) }
	}
	w.chooseWorkload = m.chooseWorkload
	if h := m.outputHint; h > 0 {
		w.outputs = make([]node.Output, 0, h)
	}
	m.recorder = newRecorder(c, cfg.NoChoices)
	if h := m.choiceHint; h > 0 && !cfg.NoChoices {
		m.recorder.choices, m.recorder.purposes = make([]int32, 0, h), make([]Purpose, 0, h)
	}
	w.env.k = &w.stepCore
	w.time = w
	return w
}

func (w *World) slot(id node.ID) *slot { return w.nodes[id-1] }

// schedule queues an event at time at.
func (w *World) schedule(e event) {
	w.seq++
	e.seq = w.seq
	w.queue.push(e)
}

// fault counts a fault of kind k.
func (w *World) fault(k Kind) { w.faults[k]++ }

// The node.World view that properties read.

func (w *World) Config() node.Config        { return w.cfg.Cluster }
func (w *World) Now() time.Duration         { return w.now }
func (w *World) Correct(id node.ID) bool    { return w.correct(id) }
func (w *World) Outputs() []node.Output     { return w.allOutputs() }
func (w *World) NewOutputs() []node.Output  { return w.outputs[w.newOut:] }
func (w *World) History() []node.Op         { return w.history }
func (w *World) Protocol() *node.Protocol   { return w.proto }
func (w *World) Profile() Profile           { return w.profile }
func (w *World) Events() int                { return w.events }
func (w *World) Faults() Counts             { return w.faults }
func (w *World) InFlight(id node.ID) int    { return w.inFlight[id] }
func (w *World) ArmedTimers(id node.ID) int { return len(w.slot(id).timers) }

// Changes counts the happenings that may have made node id's state (its Size), its armed
// timers or the messages in flight to it grow: every step of the node (boots and restarts
// included), every timer it arms, every message scheduled for delivery to it. A monitor that
// samples those measures after every step may skip a node whose count has not moved since it
// last looked: none of them can have grown. (A node's state changes only in its own steps:
// what it sends, outputs and stores is copied, and what it receives or loads is a copy.)
func (w *World) Changes(id node.ID) uint64 { return w.slot(id).changes }

// State returns node id's state, or nil while it is down.
func (w *World) State(id node.ID) node.Node {
	s := w.slot(id)
	if !s.up {
		return nil
	}
	return s.state
}

// Up reports whether node id is running (not crashed; it may be paused).
func (w *World) Up(id node.ID) bool { return w.slot(id).up }

// Healed reports whether the run is in its liveness phase, and since when.
func (w *World) Healed() (bool, time.Duration) { return w.live, w.healAt }

// InCore reports whether node id belongs to the core kept up once faults heal.
func (w *World) InCore(id node.ID) bool { return w.core != nil && w.core[id-1] }

// Durable returns what node id has synced under key (for checkers and tests).
func (w *World) Durable(id node.ID, key string) (any, bool) {
	v, ok := w.slot(id).durable[key]
	return v, ok
}

func (w *World) String() string {
	return fmt.Sprintf("world(%s n=%d t=%v events=%d)", w.proto.Name, len(w.ids), w.now, w.events)
}
