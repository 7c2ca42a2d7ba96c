package raft

import (
	"fmt"
	"strconv"

	"github.com/replica-io/replica/protocols/node"
)

// Durable storage. The term and vote, the snapshot, and the log are written in the step that
// changes them and synced before the node sends anything that depends on them (Figure 2: "updated
// on stable storage before responding to RPCs"). The log is kept in segments of segmentSize
// entries, the way a real log is a sequence of files: an append rewrites the last segment
// only, and compaction drops whole segments.
const (
	keyState    = "state"
	keySnapshot = "snapshot"
	keyLog      = "log" // the log's bounds; its segments are under "log/<k>"
	segmentSize = 16
)

// hardState is the persistent state of Figure 2 besides the log.
type hardState struct {
	Term int
	Vote node.ID
}

// logBounds says which entries the stored log holds: (Base, Last], after a snapshot of Base.
type logBounds struct{ Base, BaseTerm, Last int }

// segment holds the entries of segment k from index First on (segment k covers indexes
// k*segmentSize+1 to (k+1)*segmentSize).
type segment struct {
	First   int
	Entries []Entry
}

func segmentKey(k int) string { return keyLog + "/" + strconv.Itoa(k) }

// saveState writes the term and the vote.
func (n *Node) saveState(env node.Env) {
	hs := hardState{Term: n.term, Vote: n.votedFor}
	if n.cfg.Bug == BugNoPersistVote {
		// The seeded bug: the vote stays in memory. A server that votes, crashes and comes back
		// in the same term has forgotten it, and may vote again for another candidate.
		hs.Vote = 0
	}
	env.Store(keyState, hs)
}

// saveLog writes the log's bounds, and the segments holding entries from index from on (the
// first entry that changed).
func (n *Node) saveLog(env node.Env, from int) {
	l := &n.log
	env.Store(keyLog, logBounds{Base: l.Base, BaseTerm: l.BaseTerm, Last: l.Last()})
	for i := max(from, l.Base+1); i <= l.Last(); {
		k := (i - 1) / segmentSize
		lo, hi := max(k*segmentSize+1, l.Base+1), min((k+1)*segmentSize, l.Last())
		env.Store(segmentKey(k), segment{First: lo, Entries: l.Entries[lo-l.Base-1 : hi-l.Base]})
		i = hi + 1
	}
}

// dropSegments forgets the segments that hold only entries up to base, which a snapshot now
// covers, from the one holding index from on.
func dropSegments(env node.Env, from, base int) {
	for k := max(0, (from-1)/segmentSize); (k+1)*segmentSize <= base; k++ {
		env.Store(segmentKey(k), nil)
	}
}

// loadLog reads back the log that saveLog wrote.
func loadLog(env node.Env, snap Snapshot) Log {
	l := Log{Base: snap.Index, BaseTerm: snap.Term}
	b, ok := node.Load[logBounds](env, keyLog)
	if !ok {
		return l
	}
	l = Log{Base: b.Base, BaseTerm: b.BaseTerm}
	for l.Last() < b.Last {
		k := l.Last() / segmentSize // the segment of index Last+1
		s, _ := node.Load[segment](env, segmentKey(k))
		for j, e := range s.Entries {
			if i := s.First + j; i == l.Last()+1 && i <= b.Last {
				l.Append(e)
			}
		}
		if l.Last()/segmentSize == k && l.Last() < b.Last {
			panic(fmt.Sprintf("raft: stored log segment %d lacks entry %d", k, l.Last()+1))
		}
	}
	return l
}
