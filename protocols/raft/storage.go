package raft

import (
	"strconv"

	"github.com/replica-io/replica/protocols/node"
)

// Durable storage. The term and vote, the snapshot, and the log are written in the step that
// changes them and synced before the node sends anything that depends on them (Figure 2: "updated
// on stable storage before responding to RPCs"). The log is kept in segments of segmentSize
// entries, the way a real log is a sequence of files: an append rewrites the last segment
// only, and compaction drops whole segments.
//
// A disk fails in ways the server must survive. A sync may be refused (a full disk): the
// server stops rather than answer for writes that are not durable (sync), and restarts later
// from what it had synced. A crash in the middle of a sync may persist only its first writes:
// the log's bounds are written after its segments, as the commit record that says which
// entries count, and a server reads back only entries the bounds and the segments agree on
// (loadLog); the snapshot is written first, and a log that does not reach it is cut to it
// (Start). A value may come back from the disk altered: every read is checked against its
// checksum, and read again when it does not match (load).
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

// saveLog writes the segments holding entries from index from on (the first entry that
// changed), then the log's bounds: the commit record, written last.
func (n *Node) saveLog(env node.Env, from int) {
	l := &n.log
	for i := max(from, l.Base+1); i <= l.Last(); {
		k := (i - 1) / segmentSize
		lo, hi := max(k*segmentSize+1, l.Base+1), min((k+1)*segmentSize, l.Last())
		env.Store(segmentKey(k), segment{First: lo, Entries: l.Entries[lo-l.Base-1 : hi-l.Base]})
		i = hi + 1
	}
	env.Store(keyLog, logBounds{Base: l.Base, BaseTerm: l.BaseTerm, Last: l.Last()})
}

// sync makes the step's writes durable before the server acts on them; on a refused sync it
// stops, to restart from what it had synced.
func (n *Node) sync(env node.Env) {
	if n.cfg.Bug == BugIgnoreSyncError {
		// The seeded bug: the sync's error is not asked for. The server goes on to vote, to
		// acknowledge entries, to answer clients, with writes that are not on its disk.
		env.Sync()
		return
	}
	if node.TrySync(env) != nil {
		node.Halt(env)
	}
}

// load reads what the server stored under key as a T, checked against its checksum: a value
// that came back altered is read again.
func load[T any](n *Node, env node.Env, key string) (T, bool) {
	if n.cfg.Bug == BugNoChecksum {
		// The seeded bug: what comes back from the disk is believed, checksum or not.
		return node.Load[T](env, key)
	}
	for try := 0; ; try++ {
		v, ok, err := node.LoadChecked[T](env, key)
		if err == nil {
			return v, ok
		}
		if try == 2 {
			node.Halt(env) // the disk itself is bad: stop, rather than believe it
		}
	}
}

// dropSegments forgets the segments that hold only entries up to base, which a snapshot now
// covers, from the one holding index from on.
func dropSegments(env node.Env, from, base int) {
	for k := max(0, (from-1)/segmentSize); (k+1)*segmentSize <= base; k++ {
		env.Store(segmentKey(k), nil)
	}
}

// loadLog reads back the log that saveLog wrote: the entries the bounds cover that the
// segments hold. A segment that lacks some (a sync torn before it reached the bounds that
// shrank the log, or after it reached segments that the bounds do not cover yet) ends the log
// there: those entries were never acknowledged, as the sync that wrote them did not finish.
func (n *Node) loadLog(env node.Env, snap Snapshot) Log {
	l := Log{Base: snap.Index, BaseTerm: snap.Term}
	b, ok := load[logBounds](n, env, keyLog)
	if !ok {
		return l
	}
	l = Log{Base: b.Base, BaseTerm: b.BaseTerm}
	for l.Last() < b.Last {
		k := l.Last() / segmentSize // the segment of index Last+1
		s, _ := load[segment](n, env, segmentKey(k))
		last := l.Last()
		for j, e := range s.Entries {
			if i := s.First + j; i == l.Last()+1 && i <= b.Last {
				l.Append(e)
			}
		}
		if l.Last() == last {
			break
		}
	}
	if l.Base < snap.Index {
		// A torn compaction: the snapshot reached the disk, the bounds that drop what it
		// covers did not. Keep the entries past it if the log holds the snapshot's last entry,
		// else none (as InstallSnapshot does).
		if l.Has(snap.Index, snap.Term) {
			l.Compact(snap.Index, snap.Term)
		} else {
			l = Log{Base: snap.Index, BaseTerm: snap.Term}
		}
	}
	return l
}
