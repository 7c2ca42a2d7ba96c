package etcdraft

import (
	"fmt"
	"maps"
	"strconv"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/node"
)

// Durable storage, laid out as an etcd member's data directory is: a write-ahead log (the hard
// state, the latest snapshot, and the entries after it, in segments of segmentSize entries the
// way a WAL is a sequence of files) and a backend holding the state machine as of its
// consistent index, committed in batches (etcd's bbolt commits every 100 ms), and before a
// snapshot. The WAL is synced before the Ready's messages go out; the backend only at its
// commits, which is safe because on restart etcd raft hands back every committed entry past
// the consistent index.
const (
	keyBoot     = "boot"    // the boot count: the node's incarnation
	keyHard     = "hard"    // raftpb.HardState
	keySnap     = "snap"    // raftpb.Snapshot: the latest, data included
	keyWAL      = "wal"     // the last index of the log; its segments are under "wal/<k>"
	keyBackend  = "backend" // backendRecord
	keyIndex    = "index"   // the consistent index kept apart from the data (the seeded bug)
	segmentSize = 16
)

// segment holds the entries of segment k from index First on (segment k covers indexes
// k*segmentSize+1 to (k+1)*segmentSize).
type segment struct {
	First   uint64
	Entries []raftpb.Entry
}

func segmentKey(k uint64) string { return keyWAL + "/" + strconv.FormatUint(k, 10) }

// backendRecord is the state machine as of log index Index: its consistent index and data,
// written together so that a crash never separates them.
type backendRecord struct {
	Index    uint64
	Data     map[string]int
	Sessions map[node.ClientID]Session
}

// wal is what a restart reads back from the write-ahead log.
type wal struct {
	hard    raftpb.HardState
	snap    raftpb.Snapshot
	entries []raftpb.Entry
}

// loadWAL reads the log back; a node that never wrote one starts from the bootstrap snapshot.
func loadWAL(env node.Env, voters []uint64) wal {
	var w wal
	w.hard, _ = node.Load[raftpb.HardState](env, keyHard)
	snap, ok := node.Load[raftpb.Snapshot](env, keySnap)
	if !ok {
		snap = bootstrap(voters)
	}
	w.snap = snap
	last, _ := node.Load[uint64](env, keyWAL)
	for i := w.snap.Metadata.Index + 1; i <= last; {
		k := (i - 1) / segmentSize
		s, _ := node.Load[segment](env, segmentKey(k))
		if i < s.First || i-s.First >= uint64(len(s.Entries)) {
			panic(fmt.Sprintf("etcdraft: WAL segment %d lacks entry %d", k, i))
		}
		for _, e := range s.Entries[i-s.First:] {
			if i > last {
				break
			}
			w.entries = append(w.entries, e)
			i++
		}
	}
	return w
}

// loadBackend reads the state machine back, with its consistent index; a node that never
// committed one has the bootstrap snapshot's empty state machine.
func loadBackend(env node.Env, bootIndex uint64) (Store, uint64) {
	r, ok := node.Load[backendRecord](env, keyBackend)
	if !ok {
		return newStore(), bootIndex
	}
	s := newStore()
	for k, v := range r.Data {
		s.Data[k] = v
		s.Digest += cellHash(k, v)
	}
	for c, v := range r.Sessions {
		s.setSession(c, v)
	}
	return s, r.Index
}

// persist writes what a Ready asks to make durable, and syncs it, before anything is sent.
func (n *Node) persist(env node.Env, c *core, rd raft.Ready) {
	if !raft.IsEmptySnap(rd.Snapshot) {
		// A snapshot from the leader replaces the state machine: the WAL's snapshot and the
		// backend go in the same sync, so that the backend is never behind the snapshot.
		snap := rd.Snapshot
		env.Store(keySnap, snap)
		sm, err := decodeStore(snap.Data)
		must(err)
		n.storeBackend(env, snap.Metadata.Index, sm)
		n.dropSegments(env, snap.Metadata.Index)
		env.Store(keyWAL, snap.Metadata.Index)
	}
	if len(rd.Entries) > 0 {
		n.saveEntries(env, c, rd.Entries[0].Index)
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		env.Store(keyHard, rd.HardState)
	}
	if n.bug == BugIndexNotAtomic && len(rd.CommittedEntries) > 0 {
		// The seeded bug: the consistent index of the entries about to be applied goes out
		// with the WAL batch, while their effect on the data waits for the backend's commit.
		env.Store(keyIndex, rd.CommittedEntries[len(rd.CommittedEntries)-1].Index)
	}
	env.Sync()
}

// saveEntries writes the log from index from to its end, the segments holding it, and its
// last index (a shorter log than before cuts off the conflicting suffix).
func (n *Node) saveEntries(env node.Env, c *core, from uint64) {
	first, _ := c.st.FirstIndex()
	last, _ := c.st.LastIndex()
	for i := max(from, first); i <= last; {
		k := (i - 1) / segmentSize
		lo, hi := max(k*segmentSize+1, first), min((k+1)*segmentSize, last)
		es, err := c.st.Entries(lo, hi+1, 1<<62)
		must(err)
		env.Store(segmentKey(k), segment{First: lo, Entries: es})
		i = hi + 1
	}
	env.Store(keyWAL, last)
}

// dropSegments forgets the WAL segments a snapshot at index covers whole.
func (n *Node) dropSegments(env node.Env, index uint64) {
	for k := n.snapIndex / segmentSize; (k+1)*segmentSize <= index; k++ {
		env.Store(segmentKey(k), nil)
	}
}

// storeBackend writes the state machine as of index; the caller syncs.
func (n *Node) storeBackend(env node.Env, index uint64, sm Store) {
	env.Store(keyBackend, backendRecord{Index: index, Data: maps.Clone(sm.Data), Sessions: maps.Clone(sm.Sessions)})
}

// commitBackend is the backend's batched commit: what was applied since the last one becomes
// durable.
func (n *Node) commitBackend(env node.Env) {
	if n.dirty == 0 {
		return
	}
	n.storeBackend(env, n.applied, n.sm)
	env.Sync()
	n.dirty = 0
}

// maybeSnapshot takes a snapshot once enough entries were applied since the last one, the way
// etcd does every SnapshotCount entries: the backend commits first (its consistent index must
// never be behind the snapshot), then the snapshot is saved in the WAL and in the
// MemoryStorage, and the log is compacted up to catch-up entries behind it.
func (n *Node) maybeSnapshot(env node.Env) {
	if n.applied < n.snapIndex+n.opt.snapshotEvery {
		return
	}
	index, data := n.applied, n.sm.encode()
	term, err := n.raft().st.Term(index)
	must(err)
	n.storeBackend(env, index, n.sm)
	n.dirty = 0
	env.Store(keySnap, raftpb.Snapshot{Data: data, Metadata: raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: cloneConf(n.conf)}})
	n.dropSegments(env, index)
	env.Sync()
	compact := uint64(0)
	if index > n.opt.catchup {
		compact = index - n.opt.catchup
	}
	n.do(call{Kind: callSnapshot, Index: index, Compact: compact, Conf: cloneConf(n.conf), Data: data})
	n.snapIndex = index
	n.note(env, seenCompact)
}
