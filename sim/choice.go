package sim

import (
	"fmt"
	"math/rand/v2"
)

// Purpose says what a choice decides. A seeded run draws each purpose from its own PRNG
// stream, so that a change in how often one purpose is drawn (more client operations, say)
// does not shift the choices of the others.
type Purpose uint8

const (
	Network   Purpose = iota // message delays, drops, duplicates
	Faults                   // crashes, partitions, pauses, skew, the swarm profile
	Workload                 // client operations and the nodes they go to
	Protocol                 // the protocol's own Env.Choose
	Schedule                 // which enabled event happens next (untimed semantics)
	Adversary                // Byzantine strategies and mutations
	numPurposes
)

var purposeNames = [numPurposes]string{"network", "faults", "workload", "protocol", "schedule", "adversary"}

func (p Purpose) String() string {
	if p < numPurposes {
		return purposeNames[p]
	}
	return fmt.Sprintf("purpose(%d)", int(p))
}

// A Chooser resolves every nondeterministic decision of a run. Drivers differ only in their
// chooser: a seeded PRNG for campaigns, rapid's draws for property tests, a recorded sequence
// for replay and shrinking.
//
// Zero is always the benign answer: no fault, the shortest delay, the first option. A
// shrinker that moves choices toward zero therefore removes faults rather than adding them.
type Chooser interface {
	// Choose returns a value in [0, n); n >= 1.
	Choose(p Purpose, n int) int
	// Flip returns true (the fault happens) with probability prob, 0 < prob < 1.
	Flip(p Purpose, prob float64) bool
}

// Seeded is the campaign chooser: one root seed, one PCG stream per purpose. The streams live
// in the chooser itself, so that making one is a single allocation (a run of a small
// scenario is short, and its set-up counts).
type Seeded struct {
	pcgs    [numPurposes]rand.PCG
	streams [numPurposes]rand.Rand
}

// NewSeeded returns the chooser of seed.
func NewSeeded(seed uint64) *Seeded {
	s := &Seeded{}
	for p := range s.streams {
		// Distinct, well-mixed stream constants per purpose.
		s.pcgs[p].Seed(mix(seed), mix(seed^uint64(p+1)*0x9e3779b97f4a7c15))
		s.streams[p] = *rand.New(&s.pcgs[p])
	}
	return s
}

func (s *Seeded) Choose(p Purpose, n int) int {
	if n <= 1 {
		return 0
	}
	return s.streams[p].IntN(n)
}

func (s *Seeded) Flip(p Purpose, prob float64) bool {
	return s.streams[p].Float64() < prob
}

// Recorded replays a choice sequence. Past its end every choice is zero (benign), and a
// value out of range is folded into it, so that an edited sequence (a shrinker's) still
// drives a complete run. Diverged reports whether either happened.
type Recorded struct {
	choices []int32
	next    int
	folded  bool
}

// NewRecorded returns a chooser that replays choices.
func NewRecorded(choices []int32) *Recorded { return &Recorded{choices: choices} }

func (r *Recorded) Choose(p Purpose, n int) int {
	if r.next >= len(r.choices) {
		r.next++
		return 0
	}
	v := int(r.choices[r.next])
	r.next++
	if n <= 1 {
		if v != 0 {
			r.folded = true
		}
		return 0
	}
	if v < 0 || v >= n {
		r.folded = true
		v = ((v % n) + n) % n
	}
	return v
}

func (r *Recorded) Flip(p Purpose, prob float64) bool { return r.Choose(p, 2) == 1 }

// Diverged reports whether the run asked for choices the sequence did not hold as recorded:
// more choices than recorded, or values out of range.
func (r *Recorded) Diverged() bool { return r.folded || r.next > len(r.choices) }

// Used is the number of choices the run asked for.
func (r *Recorded) Used() int { return r.next }

// recorder wraps the run's chooser and keeps every answer, with its purpose, so that the
// run can be written to a capsule and replayed; off, it keeps nothing (Config.NoChoices).
type recorder struct {
	inner Chooser
	off   bool
	// keyed is inner as a Keyed chooser, nil when it is none or is a Guided one (which
	// announce tells apart itself): found once, not at every event (see newRecorder).
	keyed    Keyed
	guided   *Guided
	choices  []int32
	purposes []Purpose
}

func (r *recorder) Choose(p Purpose, n int) int {
	v := r.inner.Choose(p, n)
	if !r.off {
		r.choices = append(r.choices, int32(v))
		r.purposes = append(r.purposes, p)
	}
	return v
}

func (r *recorder) Flip(p Purpose, prob float64) bool {
	var v bool
	if prob > 0 {
		v = r.inner.Flip(p, prob)
	}
	if r.off {
		return v
	}
	b := int32(0)
	if v {
		b = 1
	}
	r.choices = append(r.choices, b)
	r.purposes = append(r.purposes, p)
	return v
}
