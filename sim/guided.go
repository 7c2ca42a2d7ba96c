package sim

import (
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Guided is the chooser of a guided campaign's runs (package scenarios/campaign, `replica run
// -guided`). It answers each event's choices from a Plan: an earlier run's choices, edited by
// Mutate, and filed under the event that made them, as the shrinker files them (see Keyed), so
// that an edit to one event's choices leaves every other event's alone even when it changes how
// many events come before them. Whatever the plan does not hold (an event the earlier run did
// not have, or more choices than it made there) comes from a seeded stream per purpose, as in
// a campaign's own runs: past the edit, the run explores afresh.
//
// A Guided chooser with no plan answers exactly as NewSeeded(seed) does, so the first runs of a
// guided campaign are the random campaign's runs of the same seeds.
//
// It records what it drives as a Trail: every event, with its choices, their ranges and the
// signature the coverage observer gave its step, which is what the next mutation edits.
type Guided struct {
	src   Chooser // answers instead of plan and tail (NewGuidedFrom)
	plan  *Plan
	tail  *Seeded
	seen  map[uint64]int32
	cur   *[numPurposes][]int32 // the plan's choices for the current event, nil if none
	next  [numPurposes]int      // how many of them the event has used
	msg   int32                 // the message being sent, which network choices are for
	trail Trail
}

// Occurrence names one event of a run: its key (the event's cause, see Keyed) and how many
// events with the same key came before it. Choices made before the first event have key 0.
type Occurrence struct {
	Key uint64
	N   int32
}

// Plan is the choices a guided run starts from, per event and purpose.
type Plan struct {
	events map[Occurrence]*[numPurposes][]int32
}

// Trail is a guided run as its chooser saw it: its events in order, each with its choices.
type Trail struct {
	Events []TrailEvent
}

// TrailEvent is one event of a trail: which event, what kind, at which node and when, the
// signature of the node's step if it was one (see Coverage), and the choices it made.
type TrailEvent struct {
	Occ     Occurrence
	Kind    EventKind
	Node    node.ID
	At      time.Duration
	Sig     uint64
	Msg     int32  // the message a delivery delivers (its number in the trace, see Entry.Msg)
	Abs     uint64 // the protocol's abstract state after the event, as a feature, if the event changed it
	Choices []TrailChoice
}

// TrailChoice is one choice: its purpose, whether it was a Flip, its range and its value.
type TrailChoice struct {
	P    Purpose
	Flip bool
	N    int32
	V    int32
	Msg  int32 // for a network choice, the message it is for
}

// EventKind is what an event of a trail did, as far as mutations care.
type EventKind uint8

const (
	EvStart    EventKind = iota // choices before the first event: the swarm profile, skew, boots
	EvDeliver                   // a message reached a node
	EvTimer                     // a timer fired
	EvRequest                   // a client's request reached a node
	EvTick                      // the fault scheduler drew a fault
	EvRestart                   // a crashed node came back
	EvOther                     // client bookkeeping, heals, resumes, the liveness phase
	EvLiveness                  // the fault phase ended
)

// IsStep reports whether an event of this kind steps a node's protocol logic.
func (k EventKind) IsStep() bool {
	return k == EvDeliver || k == EvTimer || k == EvRequest || k == EvRestart
}

func kindOf(k evKind) EventKind {
	switch k {
	case evDeliver:
		return EvDeliver
	case evTimer:
		return EvTimer
	case evRequest:
		return EvRequest
	case evFaultTick:
		return EvTick
	case evRestart:
		return EvRestart
	case evLiveness:
		return EvLiveness
	}
	return EvOther
}

// NewGuided returns the chooser of a guided run of seed that starts from plan (nil: a plain
// seeded run).
func NewGuided(seed uint64, plan *Plan) *Guided {
	g := &Guided{plan: plan, tail: NewSeeded(seed), seen: map[uint64]int32{}}
	g.trail.Events = append(g.trail.Events, TrailEvent{Kind: EvStart})
	g.cur = plan.lookup(Occurrence{})
	return g
}

// NewGuidedFrom returns a chooser that answers as src does and records the trail of the run,
// to make a recorded run (a capsule's) a parent of mutations.
func NewGuidedFrom(src Chooser) *Guided {
	g := NewGuided(0, nil)
	g.src = src
	return g
}

// Trail is what the chooser recorded of its run.
func (g *Guided) Trail() *Trail { return &g.trail }

// event starts the choices of event e (see recorder.announce).
func (g *Guided) event(e event) {
	key := eventKey(e)
	n := g.seen[key]
	g.seen[key] = n + 1
	occ := Occurrence{Key: key, N: n}
	g.cur, g.next, g.msg = g.plan.lookup(occ), [numPurposes]int{}, 0
	te := TrailEvent{Occ: occ, Kind: kindOf(e.kind), Node: e.node, At: e.at}
	if e.kind == evDeliver {
		te.Msg = int32(e.mid)
	}
	g.trail.Events = append(g.trail.Events, te)
}

// planned returns the plan's next choice of purpose p for the current event.
func (g *Guided) planned(p Purpose) (int32, bool) {
	if g.cur == nil {
		return 0, false
	}
	seq := g.cur[p]
	i := g.next[p]
	g.next[p]++
	if i >= len(seq) {
		return 0, false
	}
	return seq[i], true
}

func (g *Guided) Choose(p Purpose, n int) int {
	v, ok := g.planned(p)
	var out int
	switch {
	case g.src != nil:
		out = g.src.Choose(p, n)
	case n <= 1:
		out = 0
	case ok:
		out = ((int(v) % n) + n) % n
	default:
		out = g.tail.Choose(p, n)
	}
	g.note(TrailChoice{P: p, N: int32(min(n, 1<<30)), V: int32(out)})
	return out
}

func (g *Guided) Flip(p Purpose, prob float64) bool {
	v, ok := g.planned(p)
	out := v != 0
	switch {
	case g.src != nil:
		out = g.src.Flip(p, prob)
	case !ok:
		out = g.tail.Flip(p, prob)
	}
	b := int32(0)
	if out {
		b = 1
	}
	g.note(TrailChoice{P: p, Flip: true, N: 2, V: b})
	return out
}

func (g *Guided) note(c TrailChoice) {
	if c.P == Network {
		c.Msg = g.msg
	}
	e := &g.trail.Events[len(g.trail.Events)-1]
	e.Choices = append(e.Choices, c)
}

// sign gives the current event the signature of the step it made (see Coverage).
func (g *Guided) sign(sig uint64) {
	g.trail.Events[len(g.trail.Events)-1].Sig = sig
}

func (p *Plan) lookup(o Occurrence) *[numPurposes][]int32 {
	if p == nil {
		return nil
	}
	return p.events[o]
}

// PlanOf is the plan that replays trail t as it was: every event's choices under the event.
func PlanOf(t *Trail) *Plan {
	p := &Plan{events: make(map[Occurrence]*[numPurposes][]int32, len(t.Events))}
	for i := range t.Events {
		p.add(&t.Events[i])
	}
	return p
}

func (p *Plan) add(e *TrailEvent) {
	var per [numPurposes][]int32
	for _, c := range e.Choices {
		per[c.P] = append(per[c.P], c.V)
	}
	p.events[e.Occ] = &per
}

// Choices counts the choices the trail's run made.
func (t *Trail) Choices() int {
	n := 0
	for i := range t.Events {
		n += len(t.Events[i].Choices)
	}
	return n
}
