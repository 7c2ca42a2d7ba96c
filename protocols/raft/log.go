package raft

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// EntryType says what a log entry carries.
type EntryType uint8

const (
	Command EntryType = iota // a client's key-value operation
	Noop                     // the blank entry a leader appends when its term begins (§8)
	Config                   // a new configuration: the set of voting servers (§4.1)
)

func (t EntryType) String() string {
	switch t {
	case Command:
		return "cmd"
	case Noop:
		return "noop"
	case Config:
		return "config"
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// Entry is one log entry. It holds no references (no slices, maps or pointers), so that a
// slice of entries copies as one block of memory.
type Entry struct {
	Term int
	Type EntryType
	// A Command: the client's operation, and the session it belongs to.
	Client node.ClientID
	Seq    int
	Op     kv.Op
	// A Config: the voting servers from this entry on.
	Members Members
}

func (e Entry) String() string {
	switch e.Type {
	case Command:
		return fmt.Sprintf("t%d:c%d.%d:%s", e.Term, e.Client, e.Seq, e.Op)
	case Config:
		return fmt.Sprintf("t%d:config%s", e.Term, e.Members)
	}
	return fmt.Sprintf("t%d:noop", e.Term)
}

// Members is a configuration: the set of voting servers, one bit per node ID (1..64).
type Members uint64

// AllMembers is the configuration of nodes 1..n.
func AllMembers(n int) Members {
	var m Members
	for id := 1; id <= n; id++ {
		m = m.Add(node.ID(id))
	}
	return m
}

func (m Members) Has(id node.ID) bool       { return m&(1<<(uint(id)-1)) != 0 }
func (m Members) Add(id node.ID) Members    { return m | 1<<(uint(id)-1) }
func (m Members) Remove(id node.ID) Members { return m &^ (1 << (uint(id) - 1)) }

// Count is the number of voting servers; Majority the votes a decision needs among them.
func (m Members) Count() int {
	c := 0
	for s := m; s != 0; s &= s - 1 {
		c++
	}
	return c
}
func (m Members) Majority() int { return quorum.Majority(m.Count()) }

// Next returns the lowest member above after (0 for none): for id := m.Next(0); id != 0;
// id = m.Next(id) visits the members in increasing order.
func (m Members) Next(after node.ID) node.ID {
	rest := uint64(m) &^ (1<<uint(after) - 1)
	if rest == 0 {
		return 0
	}
	return node.ID(bits.TrailingZeros64(rest) + 1)
}

func (m Members) String() string {
	var parts []string
	for id := m.Next(0); id != 0; id = m.Next(id) {
		parts = append(parts, fmt.Sprint(id))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Log is a server's log past its snapshot: Entries[0] has index Base+1, and the snapshot
// covers every index up to Base, the last of which had term BaseTerm.
type Log struct {
	Base, BaseTerm int
	Entries        []Entry
}

// Last is the index of the last entry (Base when the log past the snapshot is empty).
func (l *Log) Last() int { return l.Base + len(l.Entries) }

// LastTerm is the term of the last entry.
func (l *Log) LastTerm() int {
	if len(l.Entries) == 0 {
		return l.BaseTerm
	}
	return l.Entries[len(l.Entries)-1].Term
}

// Term returns the term of entry i; ok is false if i is beyond the log or compacted away
// (Base itself still has a known term).
func (l *Log) Term(i int) (term int, ok bool) {
	switch {
	case i == l.Base:
		return l.BaseTerm, true
	case i < l.Base || i > l.Last():
		return 0, false
	}
	return l.Entries[i-l.Base-1].Term, true
}

// At returns entry i, which must be in (Base, Last].
func (l *Log) At(i int) Entry { return l.Entries[i-l.Base-1] }

// Has reports whether the log holds index i with term t (at Base, from the snapshot).
func (l *Log) Has(i, t int) bool {
	term, ok := l.Term(i)
	return ok && term == t
}

// From returns up to max entries from index i on. The slice shares the log's memory but has
// no spare capacity, so that appending to it cannot overwrite the log; entries are never
// changed in place.
func (l *Log) From(i, max int) []Entry {
	lo := i - l.Base - 1
	hi := min(len(l.Entries), lo+max)
	if lo >= hi {
		return nil
	}
	return l.Entries[lo:hi:hi]
}

// TruncateAfter drops every entry after index i. The kept prefix loses its spare capacity,
// so that later appends go to fresh memory rather than over entries that a message built
// earlier may still share.
func (l *Log) TruncateAfter(i int) {
	l.Entries = l.Entries[: i-l.Base : i-l.Base]
}

// Append adds entries at the end.
func (l *Log) Append(es ...Entry) { l.Entries = append(l.Entries, es...) }

// Compact drops the entries up to index i, which the snapshot now covers, into fresh memory.
func (l *Log) Compact(i, term int) {
	rest := l.Entries[min(len(l.Entries), max(0, i-l.Base)):]
	l.Entries = append([]Entry(nil), rest...)
	l.Base, l.BaseTerm = i, term
}

// UpToDate is the voting rule of §5.4.1: a candidate whose last entry is (index, term) may
// get this log's vote only if its log is at least as up-to-date: a later last term, or the
// same last term and a log at least as long.
func (l *Log) UpToDate(index, term int) bool {
	return term > l.LastTerm() || term == l.LastTerm() && index >= l.Last()
}

// firstOfTerm returns the first index at or before i whose entry has the same term as entry i,
// not going below Base+1: where a follower's log for that term begins, for fast backtracking.
func (l *Log) firstOfTerm(i int) int {
	t, _ := l.Term(i)
	for i > l.Base+1 && l.At(i-1).Term == t {
		i--
	}
	return i
}

// lastOfTerm returns the last index holding an entry of term t, or 0 if the log (past its
// snapshot) holds none.
func (l *Log) lastOfTerm(t int) int {
	for i := len(l.Entries) - 1; i >= 0; i-- {
		switch et := l.Entries[i].Term; {
		case et == t:
			return l.Base + i + 1
		case et < t:
			return 0
		}
	}
	return 0
}
