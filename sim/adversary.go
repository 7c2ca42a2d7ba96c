package sim

import (
	"fmt"
	"strings"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// Byzantine is the adversary's part of a fault profile: what the run's Byzantine nodes do.
//
// A Byzantine node runs the protocol's correct code; the adversary stands between that code
// and the network (ByzzFuzz's approach) and bends what it sends:
//
//	silent      it sends nothing at all
//	equivocate  peers on one side of a drawn split get a different, individually valid
//	            version of a message (made by the protocol's mutators) than the others
//	mutate      a message is altered by one of the protocol's mutators (a ballot, view or
//	            sequence number bumped, a digest or value changed)
//	replay      an old message of the node is sent again
//	selective   messages to a few chosen victims are dropped or held back
//	twins       two instances of the correct code share the node's identity, each reaching
//	            a different part of the network (Bano et al., "Twins", 2020)
//
// Channels are authenticated: the simulator stamps every delivery with its true sender, so a
// Byzantine node can speak only as itself, and mutators change only what the node itself
// signs (they never fabricate content signed by another node).
//
// Rates are per message; a zero rate turns a strategy off. Every decision is a choice of the
// run's chooser with purpose Adversary, zero meaning "behave correctly", so that Byzantine
// runs replay and shrink like any other.
type Byzantine struct {
	// Nodes lists the Byzantine nodes. A profile may pin some (the first primary, say); the
	// run draws the rest of the cluster's F and records them here.
	Nodes []node.ID
	// Swarm draws the strategies and their rates per seed, in place of the fields below.
	Swarm bool

	Silent                                bool
	Equivocate, Mutate, Replay, Selective float64
	Twins                                 bool
	// TwinsEvery is how often the split between two twins may be drawn again (zero: never).
	TwinsEvery time.Duration
	// Mutators restricts mutate and equivocate to the protocol's mutators of these names;
	// empty means all of them.
	Mutators []string
}

// Byzantine reports whether k is one of the adversary's strategies: kinds that fire only in
// runs with Byzantine nodes.
func (k Kind) Byzantine() bool { return k >= KindSilent && k <= KindTwins }

// on reports whether any strategy is on.
func (b Byzantine) on() bool {
	return b.Silent || b.Twins || b.Equivocate > 0 || b.Mutate > 0 || b.Replay > 0 || b.Selective > 0
}

// Drawn reports whether a run's Byzantine nodes draw their strategies per seed (the swarm
// mode, which is also what a profile that sets none gets).
func (b Byzantine) Drawn() bool { return b.Swarm || !b.on() }

// kinds lists the counted kinds of the strategies that are on (all of them when drawn).
func (b Byzantine) kinds() []Kind {
	if b.Swarm {
		return []Kind{KindSilent, KindEquivocate, KindMutate, KindReplay, KindSelective, KindTwins}
	}
	var ks []Kind
	for _, s := range []struct {
		on bool
		k  Kind
	}{{b.Silent, KindSilent}, {b.Equivocate > 0, KindEquivocate}, {b.Mutate > 0, KindMutate},
		{b.Replay > 0, KindReplay}, {b.Selective > 0, KindSelective}, {b.Twins, KindTwins}} {
		if s.on {
			ks = append(ks, s.k)
		}
	}
	return ks
}

// String describes the adversary on one line: its nodes and their strategies.
func (b Byzantine) String() string {
	var parts []string
	if len(b.Nodes) > 0 {
		ids := make([]string, len(b.Nodes))
		for i, id := range b.Nodes {
			ids[i] = fmt.Sprintf("n%d", id)
		}
		parts = append(parts, strings.Join(ids, ","))
	}
	if b.Swarm {
		parts = append(parts, "swarm")
	}
	if b.Silent {
		parts = append(parts, "silent")
	}
	for _, r := range []struct {
		name string
		rate float64
	}{{"equivocate", b.Equivocate}, {"mutate", b.Mutate}, {"replay", b.Replay}, {"selective", b.Selective}} {
		if r.rate > 0 {
			parts = append(parts, fmt.Sprintf("%s:%.3g", r.name, r.rate))
		}
	}
	if b.Twins {
		parts = append(parts, "twins")
		if b.TwinsEvery > 0 {
			parts[len(parts)-1] += "/" + b.TwinsEvery.String()
		}
	}
	if len(b.Mutators) > 0 {
		parts = append(parts, "mutators:"+strings.Join(b.Mutators, "+"))
	}
	return strings.Join(parts, " ")
}

// traitor is the adversary's state for one Byzantine node.
type traitor struct {
	id node.ID
	// victims[to]: selective drops or delays messages to peer to.
	victims []bool
	// other[to]: equivocate sends peer to the other version of a message.
	other []bool
	// variants remembers, per message (by hash), the other version equivocation sends, or
	// nil for a message sent the same to everyone, so that each peer always gets the same
	// version of a message, retransmissions included.
	variants map[uint64]node.Message
	// sides[to]: which twin reaches peer to (nil without twins), until sidesUntil.
	sides      []int
	sidesUntil time.Duration
	// sent holds the node's last messages, for replay.
	sent     []node.Message
	sentNext int
	// unreached counts, per kind of message, those no mutator could change (adversary_depth.go).
	unreached map[string]int
}

// Limits on what the adversary remembers, so that its memory stays bounded too.
const (
	maxVariants = 512
	maxReplay   = 32
)

// traitor returns the adversary's state for node id, or nil for a correct node.
func (w *World) traitor(id node.ID) *traitor {
	if w.byz == nil {
		return nil
	}
	return w.byz[id-1]
}

// startAdversary picks the run's Byzantine nodes and, when the profile asks, their
// strategies; it runs once, before the nodes boot.
func (w *World) startAdversary() {
	b := &w.profile.Byzantine
	f := w.cfg.Cluster.F
	if f <= 0 {
		b.Nodes = nil
		return
	}
	if b.Swarm || !b.on() {
		w.drawStrategies(b)
	}
	b.Nodes = w.drawByzantine(b.Nodes, f)
	w.byz = make([]*traitor, len(w.ids))
	w.faulty = make([]bool, len(w.ids))
	for _, id := range b.Nodes {
		w.faulty[id-1] = true
		t := w.newTraitor(id, b)
		w.byz[id-1] = t
		w.record(Mutation, id, 0, 0, "Byzantine: "+b.String())
	}
}

// drawStrategies draws which strategies are on, and their rates: the adversary's swarm mode.
// Some bugs need a strategy alone, others a mix; drawing them per seed finds both.
func (w *World) drawStrategies(b *Byzantine) {
	pick := func(n int) int { return w.choose.Choose(Adversary, n) }
	rate := func() float64 {
		if pick(2) == 0 {
			return 0
		}
		return []float64{0.05, 0.2, 0.5}[pick(3)]
	}
	b.Swarm = true
	b.Silent = pick(8) == 1
	b.Equivocate, b.Mutate, b.Replay, b.Selective = rate(), rate(), rate(), rate()
	b.Twins = pick(4) == 1
	if b.Twins && b.TwinsEvery == 0 {
		b.TwinsEvery = 50 * w.proto.Timing.Delay
	}
}

// drawByzantine returns the f Byzantine nodes: those pinned, then others drawn.
func (w *World) drawByzantine(pinned []node.ID, f int) []node.ID {
	byz := make([]bool, len(w.ids)+1)
	var out []node.ID
	for _, id := range pinned {
		if len(out) < f && id >= 1 && int(id) <= len(w.ids) && !byz[id] {
			byz[id] = true
			out = append(out, id)
		}
	}
	for len(out) < f {
		var cands []node.ID
		for _, id := range w.ids {
			if !byz[id] {
				cands = append(cands, id)
			}
		}
		id := cands[w.choose.Choose(Adversary, len(cands))]
		byz[id] = true
		out = append(out, id)
	}
	return out
}

// newTraitor draws the per-node parts of the strategies: whom selective picks on, which
// peers equivocation deceives, how the twins split the network.
func (w *World) newTraitor(id node.ID, b *Byzantine) *traitor {
	t := &traitor{id: id}
	peers := func() []bool {
		set := make([]bool, len(w.ids)+1)
		for _, p := range w.ids {
			set[p] = p != id && w.choose.Choose(Adversary, 2) == 1
		}
		return set
	}
	if b.Selective > 0 {
		t.victims = peers()
	}
	if b.Equivocate > 0 {
		t.other = peers()
		t.variants = map[uint64]node.Message{}
	}
	if b.Twins {
		t.sides = make([]int, len(w.ids)+1)
		w.splitTwins(t)
	}
	return t
}

// splitTwins draws the two parts of the network that node t's twins reach: each peer goes
// to one twin, and each twin gets at least one peer.
func (w *World) splitTwins(t *traitor) {
	count := 0
	for _, p := range w.ids {
		if p != t.id {
			t.sides[p] = w.choose.Choose(Adversary, 2)
			count += t.sides[p]
		}
	}
	peers := len(w.ids) - 1
	if peers >= 2 && (count == 0 || count == peers) {
		for _, p := range w.ids { // move the first peer to the other twin
			if p != t.id {
				t.sides[p] = 1 - t.sides[p]
				break
			}
		}
	}
	w.fault(KindTwins)
	var a, b []string
	for _, p := range w.ids {
		switch {
		case p == t.id:
		case t.sides[p] == 0:
			a = append(a, fmt.Sprint(p))
		default:
			b = append(b, fmt.Sprint(p))
		}
	}
	w.record(Mutation, t.id, 0, 0, fmt.Sprintf("twins: n%d reaches {%s}, its twin {%s}", t.id,
		strings.Join(a, ","), strings.Join(b, ",")))
	if every := w.profile.Byzantine.TwinsEvery; every > 0 {
		t.sidesUntil = w.now + every
	}
}

// side returns which twin of node t reaches peer p now, drawing the split again once its
// time is up (choice zero keeps it).
func (w *World) side(t *traitor, p node.ID) int {
	if t.sidesUntil > 0 && w.now >= t.sidesUntil {
		if w.choose.Choose(Adversary, 2) == 1 {
			w.splitTwins(t)
		} else {
			t.sidesUntil = w.now + w.profile.Byzantine.TwinsEvery
		}
	}
	return t.sides[p]
}

// act is a trace entry's data for something the adversary did.
type act struct {
	What string
	Msg  node.Message
}

func (a act) String() string { return a.What + " " + Summary(a.Msg) }

// betray sends m from Byzantine node t to peer to, bent by the profile's strategies.
func (w *World) betray(t *traitor, to node.ID, m node.Message) {
	b := &w.profile.Byzantine
	if b.Silent {
		w.fault(KindSilent)
		w.record(Mutation, t.id, to, 0, act{"silent: withholds", m})
		return
	}
	var late time.Duration
	if t.victims != nil && t.victims[to] && w.choose.Flip(Adversary, b.Selective) {
		w.fault(KindSelective)
		if w.choose.Choose(Adversary, 2) == 0 {
			w.record(Mutation, t.id, to, 0, act{"selective: drops", m})
			return
		}
		late = 1 + w.pick(Adversary, w.proto.Timing.Settle)
		w.record(Mutation, t.id, to, 0, act{fmt.Sprintf("selective: holds back by %v", late), m})
	}
	if t.other != nil && t.other[to] {
		if v := w.variant(t, m); v != nil {
			w.fault(KindEquivocate)
			w.record(Mutation, t.id, to, 0, act{"equivocate: " + Summary(m) + " ->", v})
			m = v
		}
	}
	if b.Mutate > 0 && w.choose.Flip(Adversary, b.Mutate) {
		if v, name, ok := w.bend(t, m); ok {
			w.fault(KindMutate)
			w.record(Mutation, t.id, to, 0, act{"mutate (" + name + "): " + Summary(m) + " ->", v})
			m = v
		}
	}
	w.sendLate(t.id, to, m, late)
	if b.Replay > 0 && len(t.sent) > 0 && w.choose.Flip(Adversary, b.Replay) {
		old := t.sent[w.choose.Choose(Adversary, len(t.sent))]
		w.fault(KindReplay)
		w.record(Mutation, t.id, to, 0, act{"replay:", old})
		w.sendLate(t.id, to, old, 0)
	}
	t.remember(m)
}

// sendLate is send, with an extra delay when the adversary holds a message back.
func (w *World) sendLate(from, to node.ID, m node.Message, late time.Duration) {
	if late == 0 {
		w.send(from, to, m)
		return
	}
	m = cloneAny(m)
	mid := w.trace.newMsg()
	w.recordMsg(Send, from, to, mid, m)
	w.enqueue(from, to, mid, m, w.delay()+late)
}

func (t *traitor) remember(m node.Message) {
	if len(t.sent) < maxReplay {
		t.sent = append(t.sent, m)
		return
	}
	t.sent[t.sentNext] = m
	t.sentNext = (t.sentNext + 1) % maxReplay
}

// variant returns the other version of m that equivocation sends, or nil if m goes out the
// same to everyone. The decision is made once per message.
func (w *World) variant(t *traitor, m node.Message) node.Message {
	key := HashOf(m)
	if v, ok := t.variants[key]; ok {
		return v
	}
	var v node.Message
	if w.choose.Flip(Adversary, w.profile.Byzantine.Equivocate) {
		v, _, _ = w.bend(t, m)
	}
	if len(t.variants) >= maxVariants {
		clear(t.variants)
	}
	t.variants[key] = v
	return v
}

// mutate alters m with one of the protocol's mutators that applies to it, trying them from
// a drawn one on; ok is false when none applies.
func (w *World) mutate(m node.Message) (node.Message, string, bool) {
	return mutateWith(w.mutators(), m, func(n int) int { return w.choose.Choose(Adversary, max(n, 1)) })
}

// mutateWith alters m with one of muts that applies to it, trying them from one that choose
// draws on: the adversary's mutations in both worlds.
func mutateWith(muts []node.Mutator, m node.Message, choose func(n int) int) (node.Message, string, bool) {
	if len(muts) == 0 {
		return nil, "", false
	}
	start := choose(len(muts))
	for i := range muts {
		mu := muts[(start+i)%len(muts)]
		if v, ok := mu.Mutate(cloneAny(m), choose); ok {
			return v, mu.Name, true
		}
	}
	return nil, "", false
}

// mutators are the protocol's mutators the profile allows.
func (w *World) mutators() []node.Mutator {
	names := w.profile.Byzantine.Mutators
	if len(names) == 0 {
		return w.proto.Mutators
	}
	var out []node.Mutator
	for _, m := range w.proto.Mutators {
		for _, n := range names {
			if m.Name == n {
				out = append(out, m)
			}
		}
	}
	return out
}
