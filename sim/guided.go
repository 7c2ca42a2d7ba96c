package sim

import (
	"math/rand/v2"
	"slices"
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
// Where the plan is silent, a Guided chooser also aims some faults at the moments they matter
// (see aim): a crash right after a step in which a node answered a message with a change it
// did not make durable, and, at some fault ticks, a crash of the node whose step last changed
// the protocol's abstract state. Every other choice it answers as NewSeeded(seed) does, from
// the same streams, so a guided run where no fault was aimed is the random campaign's run of
// its seed.
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
	aim   aim
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
	g.aim.rng = rand.New(rand.NewPCG(seed, aimStream))
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
		if p == Faults {
			out = g.aim.choose(g, n, out)
		}
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
		if p == Faults {
			out = g.aim.stepCrash(g, out)
		}
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

// aim is where a guided run aims faults of its own, at the moments they matter rather than
// anywhere (CrashTuner's crash points, simply), for any protocol, from what the framework
// sees of each step. It acts only on choices that the run's plan leaves to the tail, and
// answers them from a stream of its own, after the tail drew its answer, so that the tail's
// streams stay where they would be.
//
//   - At a step-crash draw (Profile.StepCrash), when the node just handled a message, changed
//     its state, answered only the message's sender and made nothing new durable, it crashes
//     with probability AimStep, for the first AimSteps such crashes of a run: an
//     acknowledgement of a change that a restart forgets is the shape of every "acknowledge
//     before sync" bug (a promise kept only in memory, a vote not written), and the crash
//     comes in the one moment that shows it, before the answer is acted on; a restart soon
//     after lets the node act on what it forgot. Steps of a node that makes what it answers
//     durable never qualify. More than a few such crashes a run only disturb (etcd raft's
//     followers answer every heartbeat so).
//   - At a step-crash draw right after a node replied to a client, it crashes, for the first
//     AimReplies such crashes of a run: a leader that answered a write and is gone before the
//     others learn it is committed, a reply that a new leader must honour.
//   - Where the profile crashes nodes only at fault ticks, at a tick that may crash a node
//     now: a crash of the node that gave the latest rare answer since the previous tick (it
//     handled a message, changed its state and answered only the sender, durable or not, and
//     messages of that kind made at most 1/AimRare of the run's such answers so far: a vote
//     among heartbeat acknowledgements), else, with probability AimTick, of the node whose
//     step last changed the protocol's abstract state (node.Protocol.Abstract: a leader
//     elected, an entry exposed), the node whose failure changes most now. A crash aimed at a
//     tick comes back after 1/AimDown of the downtime drawn, in time to act on what it lost
//     while the exchange it answered is still going on (a second candidate of the same term
//     retrying its request). Where step crashes are on, the first kind does better alone.
//   - Before those, at such a tick, when a node made something durable and sent it to two
//     peers or more at most AimSent message delays ago (a leader's new entry, its first
//     entry as leader, a candidate's new term), the tick cuts that node off one way, so that
//     it cannot send, if the profile draws one-way cuts and no partition is on: the copies
//     still on their way are stopped, and what it broadcast stays on the few peers that got
//     it, while the node goes on as if it had sent it. When a partition is already on, the
//     tick crashes the sender with probability AimSenderCrash, with the downtime drawn. A
//     crash alone strands nothing: the copies already sent still arrive. Stranded entries of
//     successive terms, on different minorities, are what an unsafe commit rule needs (Raft's
//     Figure 8: an old-term entry counted as committed while another server's newer entry at
//     its index can still win).
//   - Where the profile crashes no node, a tick that cuts one node off (an isolation, a
//     one-way cut) cuts off the node that last proposed: whose step on a timer or a client's
//     request made something durable and sent it to two peers or more (a leader appending a
//     configuration change or a write, a candidate starting an election), which leaves what
//     it proposed on a minority. Where crashes are aimed, aimed cuts only dilute them.
//
// Measured on plain runs of seeds apart from the acceptance campaigns' (from 1,000,000 and
// 2,000,000, 2,000 to 3,000 runs each; docs/BUGS.md): raft no-persist-vote failed in 1.4% of
// them against 0.16% before, membership-no-fix in 0.73% against 0.24%, etcdraft
// read-leader-change in 0.50% against 0.16% of random runs, paxos no-persist in 1.4% against
// 0.45% of random runs; figure8 in 0.35%, against 0.25% to 0.30% (within noise). With muted
// senders, figure8's plain runs fail in 3.0% (8,000 from 2,000,000) and 3.8% (8,000 from
// 3,000,000) against 0.17% of random runs, and no-persist-vote's in 0.67% against 1.25% before
// (6,000 from 3,000,000): a cost, which crashing the sender less often lowers and figure8 pays.
type aim struct {
	rng      *rand.Rand
	cov      *Coverage // the run's coverage observer, which sees the world (nil: no aim)
	states   []uint64  // each node's state after its last step, hashed
	disks    []uint64  // and its durable storage then
	looked   int       // the last event look looked at
	answered bool      // whether it qualified for an aimed step crash
	aimed    int       // the step crashes aimed after answers so far
	replies  int       // and after replies to clients
	victim   node.ID   // the node an aimed tick crashes, between its draws
	cut      node.ID   // the node an aimed tick cuts off, between its draws
	short    bool      // whether the next fault draw is an aimed crash's downtime
	answer   node.ID   // the node of the latest rare answer since the last tick, or 0
	kinds    map[uint64]int
	answers  int     // the run's answers so far (see look), and kinds per message kind
	proposer node.ID // the node that last proposed (see look), or 0
	// sender is the node of the latest step that made something durable and sent to two
	// peers or more (see look), and when; 0 once a tick has aimed at it.
	sender   node.ID
	sentAt   time.Duration
	mute     bool // whether the next draw of a tick's cut is the direction of an aimed mute
	drawnOut bool // whether the next aimed crash's downtime is the one drawn, not shortened
}

// aimStream names the aim's random stream, beside the tail's per purpose.
const aimStream = 0x61696d

// AimStep and AimTick are how often a guided run crashes a node at a moment that qualifies
// (see aim): at a step-crash draw after an answer it did not make durable, at most AimSteps
// times a run (and after replies to clients, at most AimReplies times), and at a fault tick,
// after the abstract state changed. AimRare says which
// answers are rare, and AimDown how much sooner a crash aimed at a tick comes back.
const (
	AimStep    = 0.5
	AimTick    = 0.1
	AimSteps   = 2
	AimReplies = 8
	AimRare    = 4
	AimDown    = 4
)

// AimSent is how recent, in message delays (node.Timing.Delay), a broadcast of something
// durable must be for a fault tick to aim at its sender (see aim), and AimSenderCrash how
// often the tick crashes the sender when no one-way cut can be drawn (a partition is on).
const (
	AimSent        = 3
	AimSenderCrash = 0.3
)

// world is the world the aim sees, or nil before the coverage observer has seen it.
func (a *aim) world() *World {
	if a.cov == nil {
		return nil
	}
	return a.cov.w
}

// stepCrash answers a step-crash draw: the world's only fault flip, made right after a step.
func (a *aim) stepCrash(g *Guided, out bool) bool {
	if out {
		return out
	}
	if a.replies < AimReplies && a.replied(g) {
		a.replies++
		return true
	}
	if a.aimed >= AimSteps || !a.look(g) {
		return false
	}
	if a.rng.Float64() < AimStep {
		a.aimed++
		return true
	}
	return false
}

// replied reports whether the step that just ended was a node's reply to a client.
func (a *aim) replied(g *Guided) bool {
	w := a.world()
	e := &g.trail.Events[len(g.trail.Events)-1]
	if w == nil || !e.Kind.IsStep() || e.Node < 1 {
		return false
	}
	for _, en := range w.trace.stepEntries(w.trace.lastEvent()) {
		if en.What == Reply && en.Node == e.Node {
			return true
		}
	}
	return false
}

// look looks at the step that just ended (the current event), once per step: at the
// step-crash draw or, without one (a node down, another crash), when the coverage observer
// sees the step, so that what a node's step changed is always against its previous step. It
// notes a rare answer (see aim) and a proposal, and reports whether the step was a node's
// answer to a message's sender, and to nobody else, with a change of its state and nothing
// new made durable: a step after which a step crash is aimed.
func (a *aim) look(g *Guided) bool {
	w := a.world()
	ev := len(g.trail.Events) - 1
	e := &g.trail.Events[ev]
	if w == nil || !e.Kind.IsStep() || e.Node < 1 || int(e.Node) > len(w.nodes) {
		return false
	}
	if a.looked == ev {
		return a.answered
	}
	a.looked, a.answered = ev, false
	if a.states == nil {
		a.states, a.disks, a.kinds = make([]uint64, len(w.nodes)), make([]uint64, len(w.nodes)), map[uint64]int{}
	}
	s := w.slot(e.Node)
	if !s.up || !w.correct(e.Node) { // a Byzantine node's state is the adversary's wrapper
		return false
	}
	state := HashOf(s.state)
	if !s.durValid { // the durable storage's hash, kept until a sync changes it
		d := NewHasher()
		d.Value(s.durable)
		s.durHash, s.durValid = d.Sum(), true
	}
	i := e.Node - 1
	changed, synced := state != a.states[i], s.durHash != a.disks[i]
	a.states[i], a.disks[i] = state, s.durHash
	entries := w.trace.stepEntries(w.trace.lastEvent())
	if synced && sentToMany(entries, e.Node) {
		if e.Kind == EvTimer || e.Kind == EvRequest {
			a.proposer = e.Node
		}
		a.sender, a.sentAt = e.Node, e.At
	}
	if e.Kind != EvDeliver || !changed {
		return false
	}
	kind, ok := answeredOnly(entries, e.Node)
	if !ok {
		return false
	}
	a.kinds[kind]++
	a.answers++
	if a.kinds[kind]*AimRare <= a.answers {
		a.answer = e.Node
	}
	a.answered = !synced && w.profile.StepCrash > 0
	return a.answered
}

// answeredOnly reports whether node id, in a step of these entries, handled a message and
// sent something back to its sender, and nothing to anyone else, and the message's kind.
func answeredOnly(entries []Entry, id node.ID) (uint64, bool) {
	var from node.ID
	var kind uint64
	answered := false
	for _, en := range entries {
		switch {
		case en.What == Deliver && en.Node == id:
			from, kind = en.Peer, msgKind(en.Data)
		case en.What == Send && en.Node == id:
			if en.Peer != from || from == 0 {
				return 0, false
			}
			answered = true
		}
	}
	return kind, answered
}

// sentToMany reports whether node id, in a step of these entries, sent to two peers or more.
func sentToMany(entries []Entry, id node.ID) bool {
	var to node.ID
	for _, en := range entries {
		if en.What == Send && en.Node == id {
			if to != 0 && en.Peer != to {
				return true
			}
			to = en.Peer
		}
	}
	return false
}

// choose answers a fault choice: at a tick, the kind of fault (crashes come first, see
// World.faultTick) and then the node, among those up in order (World.pickNode) for a crash,
// among all (World.isolate, World.oneWay) for a cut; then an aimed crash's downtime.
func (a *aim) choose(g *Guided, n, out int) int {
	w := a.world()
	if w == nil {
		return out
	}
	e := &g.trail.Events[len(g.trail.Events)-1]
	if a.short { // an aimed crash's downtime, drawn right after its node (World.crashFor)
		a.short = false
		if a.drawnOut {
			a.drawnOut = false
			return out
		}
		return out / AimDown
	}
	if e.Kind != EvTick {
		return out
	}
	if a.mute && len(e.Choices) == 2 { // an aimed one-way cut's direction (World.oneWay)
		a.mute = false
		return 0 // the node cannot send
	}
	switch len(e.Choices) {
	case 0: // the kind
		return a.kind(g, w, out)
	case 1: // the node
		if c := a.cut; c != 0 {
			a.cut = 0
			return max(slices.Index(w.ids, c), 0)
		}
		v := a.victim
		a.victim = 0
		if v == 0 {
			a.drawnOut = false
			return out
		}
		i := 0
		for _, s := range w.nodes {
			if s.up && !s.paused {
				if s.id == v {
					a.short = w.profile.Down >= 100*time.Microsecond // else no downtime is drawn (World.pick)
					return i
				}
				i++
			}
		}
	}
	return out
}

// kind answers a tick's first draw, the kind of fault, given the tail's answer out: a crash
// aimed at a rare answerer or at the changer, or the tail's kind, aimed at the proposer if it
// is a cut.
func (a *aim) kind(g *Guided, w *World, out int) int {
	answer := a.answer
	a.answer = 0
	p := w.profile
	if w.live {
		return out
	}
	if p.Crash <= 0 && p.StepCrash <= 0 {
		if k := tickKind(w, out); (k == kindIsolate || k == kindOneWay) && a.proposer != 0 {
			a.cut = a.proposer
		}
		return out
	}
	if p.Crash <= 0 || p.StepCrash > 0 || w.down() >= w.maxDown() {
		return out
	}
	if v := a.recentSender(w); v != 0 {
		a.sender = 0
		if k := kindValue(w, kindOneWay); k > 0 {
			a.cut, a.mute = v, true
			return k
		}
		if a.rng.Float64() < AimSenderCrash {
			a.victim, a.drawnOut = v, true
			return 1
		}
	}
	if answer != 0 {
		if s := w.slot(answer); s.up && !s.paused {
			a.victim = answer
			return 1
		}
	}
	if a.rng.Float64() >= AimTick {
		return out
	}
	if v := a.changer(g); v != 0 {
		a.victim = v
		return 1
	}
	return out
}

// recentSender is the node of the latest step that made something durable and sent it to two
// peers or more, if that step came at most AimSent message delays ago and the node is up and
// not paused; else 0.
func (a *aim) recentSender(w *World) node.ID {
	if a.sender == 0 || w.now-a.sentAt > AimSent*w.cfg.Protocol.Timing.Delay {
		return 0
	}
	if s := w.slot(a.sender); !s.up || s.paused {
		return 0
	}
	return a.sender
}

// kindValue is the first value of a tick's first draw that chooses fault kind k (see
// World.faultTick), or 0 if the tick cannot draw that kind now.
func kindValue(w *World, k int) int {
	p := w.profile
	canDown := w.down() < w.maxDown()
	canCut := len(w.ids) >= 2 && !w.partitioned()
	v := 1
	for i, weight := range []int{gate(canDown, p.Crash), gate(canDown, p.Pause), gate(canCut, p.Split),
		gate(canCut, p.Isolate), gate(canCut, p.OneWay), gate(canCut, p.Partial)} {
		if i == k {
			if weight == 0 {
				return 0
			}
			return v
		}
		v += weight
	}
	return 0
}

// The kinds of fault a tick draws, in World.faultTick's order.
const (
	kindCrash = iota
	kindPause
	kindSplit
	kindIsolate
	kindOneWay
	kindPartial
)

// tickKind is the kind of fault a tick's first draw v chose (World.faultTick), or -1 for
// none or a storage fault.
func tickKind(w *World, v int) int {
	p := w.profile
	canDown := w.down() < w.maxDown()
	canCut := len(w.ids) >= 2 && !w.partitioned()
	for k, weight := range []int{gate(canDown, p.Crash), gate(canDown, p.Pause), gate(canCut, p.Split),
		gate(canCut, p.Isolate), gate(canCut, p.OneWay), gate(canCut, p.Partial)} {
		if v > 0 && v <= weight {
			return k
		}
		v -= weight
	}
	return -1
}

// changer is the node, up and not paused, whose step last changed the protocol's abstract
// state, within the last changerLookback events; 0 if none.
func (a *aim) changer(g *Guided) node.ID {
	w := a.world()
	evs := g.trail.Events
	for i := len(evs) - 2; i >= 0 && i >= len(evs)-changerLookback; i-- {
		if e := &evs[i]; e.Abs != 0 && e.Kind.IsStep() {
			if s := w.slot(e.Node); s.up && !s.paused {
				return e.Node
			}
			return 0
		}
	}
	return 0
}

const changerLookback = 200
