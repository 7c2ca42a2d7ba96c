package twophase

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// ref is TwoPhase.tla transcribed as literally as Go allows, a second implementation to
// check the bit-packed one against (as etcd's quorum package checks its arithmetic against
// a naive version).
type ref struct {
	rmState    []string // "working", "prepared", "committed", "aborted"
	tmState    string   // "init", "done"
	tmPrepared []bool
	prepared   []bool // [type |-> "Prepared", rm |-> rm] \in msgs
	commit     bool   // [type |-> "Commit"] \in msgs
	abort      bool   // [type |-> "Abort"] \in msgs
}

func refInit(n int) ref {
	r := ref{tmState: "init", tmPrepared: make([]bool, n), prepared: make([]bool, n), rmState: make([]string, n)}
	for i := range r.rmState {
		r.rmState[i] = "working"
	}
	return r
}

func (r ref) clone() ref {
	c := r
	c.rmState, c.tmPrepared, c.prepared = slices.Clone(r.rmState), slices.Clone(r.tmPrepared), slices.Clone(r.prepared)
	return c
}

// next returns TPNext's successors, labelled, stutters included, in TPNext's order.
func (r ref) next() (labels []string, succ []ref) {
	add := func(l string, s ref) { labels, succ = append(labels, l), append(succ, s) }
	n := len(r.rmState)
	if r.tmState == "init" && !slices.Contains(r.tmPrepared, false) { // TMCommit
		s := r.clone()
		s.tmState, s.commit = "done", true
		add("TMCommit", s)
	}
	if r.tmState == "init" { // TMAbort
		s := r.clone()
		s.tmState, s.abort = "done", true
		add("TMAbort", s)
	}
	for rm := range n {
		name := func(a string) string { return fmt.Sprintf("%s(rm%d)", a, rm+1) }
		if r.tmState == "init" && r.prepared[rm] { // TMRcvPrepared(rm)
			s := r.clone()
			s.tmPrepared[rm] = true
			add(name("TMRcvPrepared"), s)
		}
		if r.rmState[rm] == "working" { // RMPrepare(rm)
			s := r.clone()
			s.rmState[rm], s.prepared[rm] = "prepared", true
			add(name("RMPrepare"), s)
		}
		if r.rmState[rm] == "working" { // RMChooseToAbort(rm)
			s := r.clone()
			s.rmState[rm] = "aborted"
			add(name("RMChooseToAbort"), s)
		}
		if r.commit { // RMRcvCommitMsg(rm)
			s := r.clone()
			s.rmState[rm] = "committed"
			add(name("RMRcvCommitMsg"), s)
		}
		if r.abort { // RMRcvAbortMsg(rm)
			s := r.clone()
			s.rmState[rm] = "aborted"
			add(name("RMRcvAbortMsg"), s)
		}
	}
	return labels, succ
}

// tcConsistent is TCConsistent.
func (r ref) tcConsistent() bool {
	return !(slices.Contains(r.rmState, "aborted") && slices.Contains(r.rmState, "committed"))
}

func (r ref) encode() State {
	var s State
	for rm, st := range r.rmState {
		t := State(slices.Index([]string{"working", "prepared", "committed", "aborted"}, st))
		if r.tmPrepared[rm] {
			t |= tmPrepared
		}
		if r.prepared[rm] {
			t |= msgPrepared
		}
		s |= t << (tupleBits * rm)
	}
	if r.tmState == "done" {
		s |= tmDone
	}
	if r.commit {
		s |= msgCommit
	}
	if r.abort {
		s |= msgAbort
	}
	return s
}

// reachable returns every state of the reference reachable with n RMs.
func reachable(n int) []ref {
	seen := map[State]bool{}
	queue := []ref{refInit(n)}
	seen[queue[0].encode()] = true
	for i := 0; i < len(queue); i++ {
		_, succ := queue[i].next()
		for _, s := range succ {
			if e := s.encode(); !seen[e] {
				seen[e] = true
				queue = append(queue, s)
			}
		}
	}
	return queue
}

// In every reachable state, Next yields what TLA+'s Next allows, minus stutters, with the
// same names in the same order, and Violated agrees with TCConsistent.
func TestMatchesTLA(t *testing.T) {
	for _, tt := range []struct{ n, states int }{{1, 12}, {2, 56}, {3, 288}, {4, 1568}, {5, 8832}} {
		m, err := New(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		all := reachable(tt.n)
		if len(all) != tt.states {
			t.Errorf("n=%d: the reference reaches %d states, want %d", tt.n, len(all), tt.states)
		}
		if got := m.Init(); len(got) != 1 || got[0] != refInit(tt.n).encode() {
			t.Errorf("n=%d: Init = %v", tt.n, got)
		}
		for _, r := range all {
			s := r.encode()
			var want []string
			labels, succ := r.next()
			for i := range succ {
				if e := succ[i].encode(); e != s { // drop stutters
					want = append(want, fmt.Sprintf("%s->%#x", labels[i], e))
				}
			}
			var got []string
			last := -1
			m.Next(s, func(a int, next State) bool {
				if a <= last {
					t.Errorf("action %d after %d", a, last)
				}
				last = a
				got = append(got, fmt.Sprintf("%s->%#x", m.Label(s, a), next))
				return true
			})
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d, state %s:\n got  %v\n want %v", tt.n, m.Format(s), got, want)
			}
			if (m.Violated(s) == "") != r.tcConsistent() {
				t.Fatalf("n=%d, state %s: Violated = %q", tt.n, m.Format(s), m.Violated(s))
			}
			decided := !slices.Contains(r.rmState, "working") && !slices.Contains(r.rmState, "prepared")
			if m.Progress(s) != decided {
				t.Fatalf("n=%d, state %s: Progress = %t", tt.n, m.Format(s), m.Progress(s))
			}
		}
	}
}

// Canonical picks one state per orbit under renaming of RMs, so the number of canonical
// forms equals the number of orbits, counted here by trying every permutation.
func TestCanonicalCountsOrbits(t *testing.T) {
	for _, tt := range []struct{ n, orbits int }{{3, 80}, {4, 166}, {5, 314}} {
		m, _ := New(tt.n)
		perms := permutations(tt.n)
		canon, orbit := map[State]bool{}, map[State]bool{}
		for _, r := range reachable(tt.n) {
			s := r.encode()
			c := m.Canonical(s)
			canon[c] = true
			if m.Canonical(c) != c {
				t.Fatalf("Canonical is not idempotent at %s", m.Format(s))
			}
			least := s
			for _, p := range perms {
				if q := permute(s, p); q < least {
					least = q
				}
				if m.Canonical(permute(s, p)) != c {
					t.Fatalf("Canonical tells apart %s and a permutation of it", m.Format(s))
				}
			}
			orbit[least] = true
		}
		if len(canon) != tt.orbits || len(orbit) != tt.orbits {
			t.Errorf("n=%d: %d canonical forms, %d orbits; want %d", tt.n, len(canon), len(orbit), tt.orbits)
		}
	}
}

// permute moves RM i's tuple to position p[i].
func permute(s State, p []int) State {
	out := s & tmBits
	for i, j := range p {
		out |= (s >> (tupleBits * i) & tupleMask) << (tupleBits * j)
	}
	return out
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		n  int
		ok bool
	}{{0, false}, {1, true}, {12, true}, {MaxRMs, true}, {MaxRMs + 1, false}, {-1, false}} {
		_, err := New(tt.n)
		if (err == nil) != tt.ok {
			t.Errorf("New(%d): %v", tt.n, err)
		}
	}
}

// The fingerprint is a bijection: distinct states never share one.
func TestFingerprintInjective(t *testing.T) {
	m, _ := New(5)
	seen := map[uint64]State{}
	for _, r := range reachable(5) {
		s := r.encode()
		if o, dup := seen[m.Fingerprint(s)]; dup {
			t.Fatalf("%s and %s share a fingerprint", m.Format(s), m.Format(o))
		}
		seen[m.Fingerprint(s)] = s
	}
}

func TestLabelAndFormat(t *testing.T) {
	m, _ := New(3)
	tests := []struct {
		action int
		want   string
	}{
		{TMCommit, "TMCommit"}, {TMAbort, "TMAbort"},
		{Action(TMRcvPrepared, 0), "TMRcvPrepared(rm1)"}, {Action(RMRcvAbortMsg, 2), "RMRcvAbortMsg(rm3)"},
	}
	for _, tt := range tests {
		if got := m.Label(0, tt.action); got != tt.want {
			t.Errorf("Label(%d) = %q, want %q", tt.action, got, tt.want)
		}
	}
	s := State(tmDone | msgAbort | aborted | (prepared|msgPrepared|tmPrepared)<<tupleBits)
	want := "tmState=done msgs{Commit=false Abort=true} rm1=aborted rm2=prepared,tmPrepared,sentPrepared rm3=working"
	if got := m.Format(s); got != want || !strings.Contains(got, "rm3") {
		t.Errorf("Format = %q, want %q", got, want)
	}
}
