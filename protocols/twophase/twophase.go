package twophase

import (
	"fmt"
	"strings"
)

// MaxRMs is the largest number of resource managers a state can hold: 4 bits each, with
// the top bits kept for the TM.
const MaxRMs = 15

// State is the whole protocol state, encoded as described in the package documentation.
type State uint64

// An RM's state, in the two low bits of its tuple. Aborted is 3 so that both receiving Abort
// and choosing to abort are a single OR.
const (
	working   = 0
	prepared  = 1
	committed = 2
	aborted   = 3
)

// Bits of an RM's tuple, and the TM's bits.
const (
	rmStateMask = 3
	tmPrepared  = 1 << 2 // the TM has received Prepared(rm)
	msgPrepared = 1 << 3 // Prepared(rm) is in msgs
	tupleBits   = 4
	tupleMask   = 1<<tupleBits - 1

	tmDone    State = 1 << 60 // tmState = "done"
	msgCommit State = 1 << 61 // [type |-> "Commit"] \in msgs
	msgAbort  State = 1 << 62 // [type |-> "Abort"] \in msgs
	tmBits          = tmDone | msgCommit | msgAbort
)

// Action numbers: the TM's two, then five for each RM.
const (
	TMCommit = iota
	TMAbort
	firstRMAction
)

// The five actions of each RM, in the order of TLA+'s Next.
const (
	TMRcvPrepared = iota
	RMPrepare
	RMChooseToAbort
	RMRcvCommitMsg
	RMRcvAbortMsg
	rmActions
)

var rmActionNames = [rmActions]string{"TMRcvPrepared", "RMPrepare", "RMChooseToAbort", "RMRcvCommitMsg", "RMRcvAbortMsg"}

// Action returns the number of RM action kind (TMRcvPrepared ... RMRcvAbortMsg) for RM rm.
func Action(kind, rm int) int { return firstRMAction + rmActions*rm + kind }

// Model is two-phase commit with n resource managers.
type Model struct {
	n        int
	lowBits  State // bit 0 of every RM's tuple
	allTMPre State // the tmPrepared bit of every RM
}

// New returns the model with n resource managers, 1 <= n <= MaxRMs.
func New(n int) (*Model, error) {
	if n < 1 || n > MaxRMs {
		return nil, fmt.Errorf("twophase: %d resource managers; want 1 to %d", n, MaxRMs)
	}
	m := &Model{n: n}
	for rm := range n {
		m.lowBits |= 1 << (tupleBits * rm)
		m.allTMPre |= tmPrepared << (tupleBits * rm)
	}
	return m, nil
}

// RMs returns the number of resource managers.
func (m *Model) RMs() int { return m.n }

// Init returns the one initial state: every RM working, the TM in init, no messages.
func (m *Model) Init() []State { return []State{0} }

// Next yields the enabled actions of s in increasing action order.
func (m *Model) Next(s State, yield func(action int, next State) bool) {
	if s&tmDone == 0 {
		if s&m.allTMPre == m.allTMPre && !yield(TMCommit, s|tmDone|msgCommit) {
			return
		}
		if !yield(TMAbort, s|tmDone|msgAbort) {
			return
		}
	}
	for rm := range m.n {
		if !m.nextRM(s, rm, yield) {
			return
		}
	}
}

// nextRM yields the enabled actions concerning RM rm; false means yield asked to stop.
func (m *Model) nextRM(s State, rm int, yield func(int, State) bool) bool {
	shift := tupleBits * rm
	t := s >> shift & tupleMask // rm's tuple
	a := Action(0, rm)
	if s&tmDone == 0 && t&msgPrepared != 0 && t&tmPrepared == 0 &&
		!yield(a+TMRcvPrepared, s|tmPrepared<<shift) {
		return false
	}
	if t&rmStateMask == working {
		if !yield(a+RMPrepare, s|(prepared|msgPrepared)<<shift) ||
			!yield(a+RMChooseToAbort, s|aborted<<shift) {
			return false
		}
	}
	if s&msgCommit != 0 && t&rmStateMask != committed &&
		!yield(a+RMRcvCommitMsg, s&^(rmStateMask<<shift)|committed<<shift) {
		return false
	}
	if s&msgAbort != 0 && t&rmStateMask != aborted &&
		!yield(a+RMRcvAbortMsg, s|aborted<<shift) {
		return false
	}
	return true
}

// Fingerprint mixes the state with a bijection (the finalizer of SplitMix64), so distinct
// states never share a fingerprint, and nearby states land far apart in the visited set.
func (m *Model) Fingerprint(s State) uint64 {
	x := uint64(s)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Violated returns "TCConsistent" when some RM has committed and another aborted.
func (m *Model) Violated(s State) string {
	lo, hi := s&m.lowBits, s>>1&m.lowBits
	abortedRMs, committedRMs := lo&hi, hi&^lo
	if abortedRMs != 0 && committedRMs != 0 {
		return "TCConsistent"
	}
	return ""
}

// Progress reports whether every RM has decided: committed or aborted.
func (m *Model) Progress(s State) bool {
	hi := s >> 1 & m.lowBits // the high bit of an RM's state is set exactly when it decided
	return hi == m.lowBits
}

// Canonical sorts the RMs' tuples, so that states that differ only in the names of the RMs
// have one representative. A counting sort: there are only 16 tuples.
func (m *Model) Canonical(s State) State {
	var count [tupleMask + 1]uint8
	for rm := range m.n {
		count[s>>(tupleBits*rm)&tupleMask]++
	}
	out, shift := s&tmBits, 0
	for t, c := range count {
		for ; c > 0; c-- {
			out |= State(t) << shift
			shift += tupleBits
		}
	}
	return out
}

// Label names an action, for paths printed for people.
func (m *Model) Label(_ State, action int) string {
	switch action {
	case TMCommit:
		return "TMCommit"
	case TMAbort:
		return "TMAbort"
	}
	a := action - firstRMAction
	return fmt.Sprintf("%s(rm%d)", rmActionNames[a%rmActions], a/rmActions+1)
}

// Format shows a state the way TLA+ would list its variables.
func (m *Model) Format(s State) string {
	var b strings.Builder
	tm := "init"
	if s&tmDone != 0 {
		tm = "done"
	}
	fmt.Fprintf(&b, "tmState=%s msgs{Commit=%t Abort=%t}", tm, s&msgCommit != 0, s&msgAbort != 0)
	for rm := range m.n {
		t := s >> (tupleBits * rm) & tupleMask
		fmt.Fprintf(&b, " rm%d=%s", rm+1, rmStateNames[t&rmStateMask])
		if t&tmPrepared != 0 {
			b.WriteString(",tmPrepared")
		}
		if t&msgPrepared != 0 {
			b.WriteString(",sentPrepared")
		}
	}
	return b.String()
}

// RMState returns the state of RM rm (numbered from 0) in s, spelled as in TLA+.
func (m *Model) RMState(s State, rm int) string {
	return rmStateNames[s>>(tupleBits*rm)&rmStateMask]
}

var rmStateNames = [...]string{"working", "prepared", "committed", "aborted"}
