package sim

import (
	"sync"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// runMem is the memory a timed world is made of that no result refers to once the run is over:
// the world itself, its nodes' slots with their maps, the network's tables, the event queue,
// the tracer and its ring of recent entries. A campaign runs thousands of short runs one after
// another, and a run of a small scenario (Paxos's calm one is about 45 events) spent as much on
// allocating this as on its steps; Run hands it back when the run is over, and the next run
// takes it, cleared, from memPool.
//
// What a Result keeps (the choices, the reached properties, the full trace, the monitors) and
// what properties and monitors may keep (the outputs, the history, memos) is never in here:
// each run makes its own.
type runMem struct {
	world    World
	tracer   tracer
	recorder recorder
	queue    queue
	ring     []Entry

	n           int
	ids         []node.ID
	slots       []slot
	nodes       []*slot
	cut         [][]bool
	lastArrival [][]time.Duration
	inFlight    []int
	touched     []node.ID
	memo        map[string]any // the properties' memos (World.Memo), cleared
	pooled      bool           // taken from memPool, to be given back (see release)

	// choiceHint is how many choices the run before recorded (at most maxChoiceHint): the
	// next run's record starts with room for as many, instead of growing to it by doubling
	// (a calm Paxos run's sixty choices took nine allocations). The record itself is the
	// run's own (Result.Choices), never pooled.
	choiceHint int
	// outputHint is how many outputs the run before made (at most maxOutputHint), for the next
	// run's list to start with room for as many, as with choices: the list is the run's own.
	outputHint int
	// The clients of the run (World.clients, byID): what no result refers to.
	clients    []client
	clientPtrs []*client
	byID       []int
	replies    []*reply // the free list of replies (World.replyFree), each cleared
	// props is the room of the run's bound properties (World.props), bound anew each run.
	props node.Bound

	// chooseWorkload is the world's (World.chooseWorkload), made once for this memory: it
	// refers to the world only as &world.
	chooseWorkload func(n int) int
}

// maxChoiceHint bounds the room a run's choice record starts with; maxOutputHint its
// outputs'.
const (
	maxChoiceHint = 1 << 12
	maxOutputHint = 64
)

var memPool = sync.Pool{New: func() any { return new(runMem) }}

// maxPooledEvents bounds the event queue a runMem keeps for the next run: a long run's large
// queue is left to the garbage collector rather than kept alive between runs.
const maxPooledEvents = 4096

// newRunMem returns run memory for a cluster of n nodes and a ring of context entries, in the
// state a fresh allocation would have: slots and tables zero but for their ids, clock rates
// and empty maps, the queue empty. Pooled memory is taken from memPool, to go back with
// World.release; other memory is new, for a world that its caller keeps.
func newRunMem(n, context int, pooled bool) *runMem {
	var m *runMem
	if pooled {
		m = memPool.Get().(*runMem)
		m.pooled = true
	} else {
		m = new(runMem)
	}
	if m.n != n {
		m.build(n)
	} else {
		m.reset()
	}
	if m.memo == nil {
		m.memo = map[string]any{}
	}
	clear(m.memo)
	if len(m.ring) != context {
		m.ring = make([]Entry, context)
	}
	return m
}

// build makes the slots and tables of a cluster of n nodes, each in one allocation.
func (m *runMem) build(n int) {
	m.n = n
	m.ids = make([]node.ID, n)
	m.slots = make([]slot, n)
	m.nodes = make([]*slot, n)
	for i := range m.slots {
		m.ids[i] = node.ID(i + 1)
		m.slots[i] = slot{id: node.ID(i + 1), rate: 1, timers: map[string]uint64{},
			durable: map[string]any{}, pending: map[string]any{}}
		m.nodes[i] = &m.slots[i]
	}
	cut := make([]bool, (n+1)*(n+1))
	last := make([]time.Duration, (n+1)*(n+1))
	m.cut = make([][]bool, n+1)
	m.lastArrival = make([][]time.Duration, n+1)
	for i := range m.cut {
		m.cut[i] = cut[i*(n+1) : (i+1)*(n+1) : (i+1)*(n+1)]
		m.lastArrival[i] = last[i*(n+1) : (i+1)*(n+1) : (i+1)*(n+1)]
	}
	m.inFlight = make([]int, n+1)
	m.queue = queue{}
}

// reset clears memory a run used for the next one of the same cluster size.
func (m *runMem) reset() {
	for i := range m.slots {
		s := &m.slots[i]
		clear(s.timers)
		clear(s.durable)
		clear(s.pending)
		*s = slot{id: node.ID(i + 1), rate: 1, timers: s.timers, durable: s.durable, pending: s.pending}
		m.nodes[i] = s
	}
	for i := range m.cut {
		clear(m.cut[i])
		clear(m.lastArrival[i])
	}
	clear(m.inFlight)
}

// clientMem returns room for n clients, zero.
func (m *runMem) clientMem(n int) []client {
	if cap(m.clients) < n {
		m.clients = make([]client, n)
	}
	all := m.clients[:n]
	clear(all)
	return all
}

// release hands world w's memory back for another run. Nothing may use w afterwards.
func (w *World) release() {
	m := w.mem
	if m == nil || !m.pooled || len(w.nodes) != m.n || (m.n > 0 && w.nodes[0] != &m.slots[0]) {
		return // not a world of pooled memory, or one whose slots were replaced
	}
	q := w.queue
	clear(q.slab) // drop the messages still in flight
	if cap(q.slab) > maxPooledEvents {
		q = queue{}
	}
	m.queue = queue{keys: q.keys[:0], slab: q.slab[:0], free: q.free[:0]}
	m.touched = w.trace.touched[:0]
	m.choiceHint = min(len(w.choose.choices), maxChoiceHint)
	m.outputHint = min(len(w.outputs), maxOutputHint)
	clear(m.clients) // the requests and replies they hold are garbage now
	clear(w.clients)
	m.clientPtrs, m.byID = w.clients[:0], w.byID[:0]
	m.replies = w.replyFree
	m.props = w.props
	// The world, tracer, recorder and ring keep what the run left in them until the next run
	// overwrites them (newWorld sets every field; the tracer reads only the ring entries of its
	// own run), or the pool lets them go at a garbage collection.
	memPool.Put(m)
}
