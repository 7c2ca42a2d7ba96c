package sim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// MutateOptions say what Mutate may do to a run, and what it should prefer.
type MutateOptions struct {
	// Profile is the run's fault profile (a swarm run's drawn one): whether crashes come
	// right after steps (StepCrash) or only at fault ticks (FaultEvery), and how far apart.
	Profile Profile
	// Reached says how many runs of a guided campaign's corpus reached a feature (see
	// Coverage.Reached). Mutate places crashes by it: after a step that brought the protocol's
	// abstract state to a summary few runs reached, or a step of a kind no run crashed after
	// yet. nil: nothing is known.
	Reached func(feature uint64) int
	// Before and After, when positive, focus most mutations on a window of the run around
	// a moment it reached a rare abstract state (see Coverage): edits from Before ahead of
	// it to After past it. Far from what made a run interesting, an edit changes nothing that
	// matters; long before it, it undoes it.
	Before, After time.Duration
}

// Edits are the names of Mutate's edits, in the order of Mutate's weights.
var Edits = []string{"crash-after", "drop-fault", "add-fault", "flip-message", "delay-message",
	"swap-deliveries", "protocol-choice", "workload-choice", "truncate", "splice"}

var editWeights = []int{6, 1, 2, 2, 2, 2, 1, 1, 1, 1}

// Mutate returns the plan of a run like base with a few random edits, drawn from r, and says
// which. other, when not nil, is a second run that a splice may take the second part from.
// The edits act on choices, never on the world: a crash is moved by answering a fault draw
// differently, so every mutated run is one the scenario's own profile can produce, within
// its fault budgets (a node is not crashed when as many are down as the profile allows).
//
//	crash-after      crash a node right after one of its steps: a step of a kind never crashed
//	                 after first (see Coverage); with Profile.StepCrash, right after it, else
//	                 at the next fault tick, moved to come just after the step
//	drop-fault       answer a fault draw that injected a fault with "no fault"
//	add-fault        answer a fault draw that injected nothing with some fault
//	flip-message     drop, duplicate or delay a message that was not, or the reverse
//	delay-message    give a message another delay
//	swap-deliveries  two messages that reached a node one after the other arrive the other way
//	                 round
//	protocol-choice  another answer to the protocol's own choice (an election timeout)
//	workload-choice  another client operation, or another node to send it to
//	truncate         keep the run up to some event; the rest is drawn afresh
//	splice           the run up to some time, then other's choices from then on
func Mutate(r *rand.Rand, base, other *Trail, m MutateOptions) (*Plan, []string) {
	mu := &mutator{r: r, m: m, events: slices.Clone(base.Events), other: other}
	mu.live = len(mu.events)
	for i, e := range mu.events {
		if e.Kind == EvLiveness {
			mu.live = i
			break
		}
	}
	mu.lo, mu.hi = 0, mu.live
	mu.focus()
	n := 1
	for n < 8 && r.IntN(2) == 0 {
		n++
	}
	var did []string
	for tries := 0; len(did) < n && tries < 4*n; tries++ {
		k := pickWeighted(r, editWeights)
		if mu.apply(k) {
			did = append(did, Edits[k])
		}
	}
	return PlanOf(&Trail{Events: mu.events}), did
}

type mutator struct {
	r      *rand.Rand
	m      MutateOptions
	events []TrailEvent
	other  *Trail
	live   int // events from here on are in the liveness phase, where nothing is injected
	lo, hi int // the window edits act in
}

// focus narrows the window to a moment drawn among those at which the abstract state changed,
// the rarer the state the likelier, three times in four.
func (mu *mutator) focus() {
	m := mu.m
	if m.Reached == nil || m.After <= 0 || mu.r.IntN(4) == 0 {
		return
	}
	var at []int
	var ws []int
	for i := range mu.events[:mu.live] {
		if f := mu.events[i].Abs; f != 0 {
			at = append(at, i)
			ws = append(ws, 1+64/(1+m.Reached(f)))
		}
	}
	if len(at) == 0 {
		return
	}
	c := mu.events[at[pickWeighted(mu.r, ws)]].At
	for mu.lo < mu.live && mu.events[mu.lo].At < c-m.Before {
		mu.lo++
	}
	mu.hi = mu.lo
	for mu.hi < mu.live && mu.events[mu.hi].At <= c+m.After {
		mu.hi++
	}
}

func pickWeighted(r *rand.Rand, ws []int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	v := r.IntN(total)
	for i, w := range ws {
		if v < w {
			return i
		}
		v -= w
	}
	return len(ws) - 1
}

// edit returns event i with its own copy of its choices, ready to change.
func (mu *mutator) edit(i int) *TrailEvent {
	e := &mu.events[i]
	e.Choices = slices.Clone(e.Choices)
	return e
}

func (mu *mutator) apply(k int) bool {
	switch Edits[k] {
	case "crash-after":
		return mu.crashAfter()
	case "drop-fault":
		return mu.dropFault()
	case "add-fault":
		return mu.addFault()
	case "flip-message":
		return mu.pickChoice(Network, true, func(c *TrailChoice) { c.V ^= 1 })
	case "delay-message":
		return mu.pickChoice(Network, false, func(c *TrailChoice) { c.V = mu.r.Int32N(max(c.N, 1)) })
	case "swap-deliveries":
		return mu.swap()
	case "protocol-choice":
		return mu.pickChoice(Protocol, false, func(c *TrailChoice) { c.V = mu.r.Int32N(max(c.N, 1)) })
	case "workload-choice":
		return mu.pickChoice(Workload, false, func(c *TrailChoice) { c.V = mu.r.Int32N(max(c.N, 1)) })
	case "truncate":
		if mu.hi-mu.lo < 1 || mu.hi < 2 {
			return false
		}
		cut := max(1, mu.lo+mu.r.IntN(mu.hi-mu.lo))
		mu.events = mu.events[:cut]
		mu.live, mu.hi = cut, min(mu.hi, cut)
		mu.lo = min(mu.lo, mu.hi)
		return true
	case "splice":
		return mu.splice()
	}
	return false
}

// crashAfter crashes a node right after one of its steps in the fault phase. Steps that
// matter more are likelier: one that brought the protocol's abstract state to a rare summary
// (a proposer overtaken, logs that disagree), and one of a kind no run has crashed after.
func (mu *mutator) crashAfter() bool {
	var steps []int
	var weights []int
	for i := mu.lo; i < mu.hi; i++ {
		e := &mu.events[i]
		if !e.Kind.IsStep() || e.Sig == 0 {
			continue
		}
		w := 1
		if mu.m.Reached != nil {
			if e.Abs != 0 {
				w += 32 / (1 + mu.m.Reached(e.Abs))
			}
			if mu.m.Reached(feature(ftCrash, e.Sig)) == 0 {
				w += 4
			}
		}
		steps = append(steps, i)
		weights = append(weights, w)
	}
	if len(steps) == 0 {
		return false
	}
	i := steps[pickWeighted(mu.r, weights)]
	// The node that stepped, or half the time another: a step that put the cluster in a
	// rare state may have done so because of what another node holds (an acceptor that
	// promised a proposer a quorum is about to betray).
	victim := mu.events[i].Node
	if mu.r.IntN(2) == 0 {
		victim = 0
	}
	if victim != 0 && mu.m.Profile.StepCrash > 0 && mu.crashRightAfter(i) {
		return true
	}
	return mu.crashAtTick(i, victim)
}

// crashRightAfter answers step i's crash draw (Profile.StepCrash) with a crash.
func (mu *mutator) crashRightAfter(i int) bool {
	for j, c := range mu.events[i].Choices {
		if c.P == Faults && c.Flip {
			e := mu.edit(i)
			e.Choices[j].V = 1
			// The downtime comes next: drawn afresh, as the tail draws what a plan lacks.
			e.Choices = e.Choices[:j+1]
			return true
		}
	}
	return false
}

// crashAtTick answers the first fault draw after step i with a crash of its node, and moves
// that draw to come right after the step when the tick before it can be made to.
func (mu *mutator) crashAtTick(i int, victim node.ID) bool {
	t := -1
	for j := i + 1; j < mu.live; j++ {
		if mu.events[j].Kind == EvTick {
			t = j
			break
		}
	}
	if t < 0 || mu.m.Profile.Crash <= 0 {
		return false
	}
	at := mu.events[i].At
	// The tick before the chosen one drew its delay last: every/2 plus that many steps of
	// 100µs (see World.nextFaultTick).
	every := mu.m.Profile.FaultEvery
	for p := t - 1; p >= 0 && every > 0; p-- {
		if mu.events[p].Kind != EvTick {
			continue
		}
		e := &mu.events[p]
		last := len(e.Choices) - 1
		if last < 0 || e.Choices[last].P != Faults {
			break
		}
		v := (at + time.Duration(mu.r.IntN(10))*100*time.Microsecond + 100*time.Microsecond - e.At - every/2) / (100 * time.Microsecond)
		if v >= 0 && int64(v) < int64(e.Choices[last].N) {
			mu.edit(p).Choices[last].V = int32(v)
		}
		break
	}
	e := mu.edit(t)
	// The draw's first choice is the fault kind, crashes first (see World.faultTick); then
	// the node, among those up, in order: the victim's place if all are up, or any.
	e.Choices = []TrailChoice{{P: Faults, N: 0, V: 1}}
	if victim != 0 {
		e.Choices = append(e.Choices, TrailChoice{P: Faults, N: 0, V: int32(victim) - 1})
	}
	return true
}

// faultDraws lists the fault phase's draws that injected a fault (inject) or did not.
func (mu *mutator) faultDraws(inject bool) []int {
	var out []int
	for i := mu.lo; i < mu.hi; i++ {
		e := &mu.events[i]
		switch {
		case e.Kind == EvTick && len(e.Choices) > 1 && e.Choices[0].P == Faults && e.Choices[0].N > 1:
			if (e.Choices[0].V != 0) == inject {
				out = append(out, i)
			}
		case e.Kind.IsStep() && inject:
			for _, c := range e.Choices {
				if c.P == Faults && c.Flip && c.V == 1 {
					out = append(out, i)
					break
				}
			}
		}
	}
	return out
}

// dropFault turns an injected fault into none.
func (mu *mutator) dropFault() bool {
	cands := mu.faultDraws(true)
	if len(cands) == 0 {
		return false
	}
	i := cands[mu.r.IntN(len(cands))]
	e := mu.edit(i)
	if e.Kind == EvTick {
		// No fault: only the delay to the next tick is drawn, which was the draw's last.
		e.Choices = []TrailChoice{{P: Faults, N: e.Choices[0].N, V: 0}, e.Choices[len(e.Choices)-1]}
		return true
	}
	for j, c := range e.Choices {
		if c.P == Faults && c.Flip && c.V == 1 {
			// No crash: the downtime drawn after the flip is not drawn either.
			out := append(slices.Clone(e.Choices[:j]), TrailChoice{P: Faults, Flip: true, N: 2})
			for _, d := range e.Choices[j+1:] {
				if d.P != Faults {
					out = append(out, d)
				}
			}
			e.Choices = out
			break
		}
	}
	return true
}

// addFault answers a fault draw with some fault; what it hits is drawn afresh.
func (mu *mutator) addFault() bool {
	var ticks []int
	for i := mu.lo; i < mu.hi; i++ {
		e := &mu.events[i]
		if e.Kind == EvTick && len(e.Choices) > 0 && e.Choices[0].P == Faults && e.Choices[0].N > 1 {
			ticks = append(ticks, i)
		}
	}
	if len(ticks) == 0 {
		return false
	}
	i := ticks[mu.r.IntN(len(ticks))]
	e := mu.edit(i)
	e.Choices = []TrailChoice{{P: Faults, N: e.Choices[0].N, V: 1 + mu.r.Int32N(e.Choices[0].N-1)}}
	return true
}

// pickChoice changes one choice of purpose p (a flip, or a choice of more than two values)
// in the fault phase.
func (mu *mutator) pickChoice(p Purpose, flip bool, change func(c *TrailChoice)) bool {
	type at struct{ i, j int }
	var cands []at
	for i := mu.lo; i < mu.hi; i++ {
		for j, c := range mu.events[i].Choices {
			if c.P == p && c.Flip == flip && (flip || c.N > 2) {
				cands = append(cands, at{i, j})
			}
		}
	}
	if len(cands) == 0 {
		return false
	}
	c := cands[mu.r.IntN(len(cands))]
	change(&mu.edit(c.i).Choices[c.j])
	return true
}

// swap makes two consecutive deliveries at a node come the other way round: the second
// message's delay is shortened to arrive just before the first, or else the first's
// lengthened to arrive just after the second (delays are drawn in steps of 100µs, see
// World.pick, so a change of the choice by k moves the arrival by k steps).
func (mu *mutator) swap() bool {
	var pairs [][2]int
	last := map[node.ID]int{}
	for i := mu.lo; i < mu.hi; i++ {
		e := &mu.events[i]
		if e.Kind != EvDeliver || e.Msg == 0 {
			continue
		}
		if p, ok := last[e.Node]; ok && mu.events[p].Msg != e.Msg {
			pairs = append(pairs, [2]int{p, i})
		}
		last[e.Node] = i
	}
	if len(pairs) == 0 {
		return false
	}
	pair := pairs[mu.r.IntN(len(pairs))]
	return mu.swapPair(pair[0], pair[1])
}

// swapPair makes delivery b come before delivery a.
func (mu *mutator) swapPair(a, b int) bool {
	const step = 100 * time.Microsecond
	shift := int32((mu.events[b].At-mu.events[a].At)/step) + 1 + mu.r.Int32N(5)
	if i, j, ok := mu.delayOf(b); ok {
		if c := mu.events[i].Choices[j]; c.V >= shift {
			mu.edit(i).Choices[j].V = c.V - shift
			return true
		}
	}
	if i, j, ok := mu.delayOf(a); ok {
		if c := mu.events[i].Choices[j]; c.V+shift < c.N {
			mu.edit(i).Choices[j].V = c.V + shift
			return true
		}
	}
	return false
}

// delayOf finds the choice that drew the delay of the message delivery d delivers: the first
// network choice of a range beyond two, for that message, in an event before d.
func (mu *mutator) delayOf(d int) (int, int, bool) {
	m := mu.events[d].Msg
	for i := d - 1; i >= 0 && i >= d-2000; i-- {
		for j, c := range mu.events[i].Choices {
			if c.P == Network && c.Msg == m && !c.Flip && c.N > 2 {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// splice keeps the run's events up to a time drawn among its events, and other's after it.
func (mu *mutator) splice() bool {
	if mu.other == nil || mu.live < 2 {
		return false
	}
	cut := mu.events[1+mu.r.IntN(mu.live-1)].At
	keep := mu.events[:0:0]
	for _, e := range mu.events {
		if e.Kind == EvStart || e.At < cut {
			keep = append(keep, e)
		}
	}
	for _, e := range mu.other.Events {
		if e.Kind != EvStart && e.At >= cut {
			keep = append(keep, e)
		}
	}
	mu.events = keep
	mu.live = len(keep)
	for i, e := range keep {
		if e.Kind == EvLiveness {
			mu.live = i
			break
		}
	}
	mu.lo, mu.hi = 0, mu.live
	return true
}
