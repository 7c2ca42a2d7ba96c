package etcdraft

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// core is a running etcd raft instance: a RawNode over a MemoryStorage that mirrors what the
// node has persisted. Every call that changes it goes through the methods below, which write
// it in the node's journal when the node keeps one, so that the instance can be rebuilt by
// calling the same methods again: etcd raft is a deterministic state machine, given the same
// storage and the same calls in the same order it ends in the same state.
type core struct {
	rn *raft.RawNode
	st *raft.MemoryStorage
}

// boot is what a node's etcd raft instance was built from at Start: its durable storage as
// the restart found it, and the index its state machine had applied.

// bootstrap is the snapshot a new cluster starts from: log index 1 of term 1, an empty state
// machine, and the initial configuration (every node a voter). etcd raft recommends this
// way of bootstrapping, a storage whose first index is past 1, over its Bootstrap helper.
func bootstrap(voters []uint64) raftpb.Snapshot {
	return raftpb.Snapshot{Data: newStore().encode(), Metadata: raftpb.SnapshotMetadata{
		Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: voters}}}
}

type boot struct {
	Hard    raftpb.HardState
	Snap    raftpb.Snapshot
	Entries []raftpb.Entry
	Applied uint64
}

// call is one call that changes the instance, as the journal records it.
type call struct {
	Kind callKind
	Msg  raftpb.Message // step
	Data []byte         // propose: the command; readIndex: the context; snapshot: the data
	// snapshot: the index it is taken at, the index the log is compacted to, and the
	// configuration it records.
	Index, Compact uint64
	Conf           raftpb.ConfState
}

type callKind uint8

const (
	callStep callKind = iota
	callTick
	callCampaign
	callPropose
	callReadIndex
	callReady // a whole Ready cycle: see ready and advance
	callSnapshot
	callLeaseTicks
)

// newCore builds an etcd raft instance over storage holding b.
func newCore(id uint64, o options, b boot) *core {
	st := raft.NewMemoryStorage()
	must(st.ApplySnapshot(b.Snap))
	if !raft.IsEmptyHardState(b.Hard) {
		must(st.SetHardState(b.Hard))
	}
	must(st.Append(b.Entries))
	rn, err := raft.NewRawNode(o.raftConfig(id, st, b.Applied))
	must(err)
	return &core{rn: rn, st: st}
}

func must(err error) {
	if err != nil {
		panic(fmt.Sprintf("etcdraft: %v", err))
	}
}

// replay rebuilds the instance a journal describes.
func replay(id uint64, o options, b boot, journal []byte) *core {
	c := newCore(id, o, b)
	for len(journal) > 0 {
		var x call
		x, journal = decodeCall(journal)
		c.do(x)
	}
	return c
}

// The journal is kept encoded, one call after another: its kind, the length of what
// follows, and that (a message in etcd raft's wire format, a proposal's or a context's bytes,
// a snapshot's indexes, configuration and data). A node's journal is copied with the node at
// every explored step, so it is kept small.
func appendCall(j []byte, x call) []byte {
	var p []byte
	switch x.Kind {
	case callStep:
		b, err := x.Msg.Marshal()
		must(err)
		p = b
	case callPropose, callReadIndex:
		p = x.Data
	case callLeaseTicks:
		p = binary.AppendUvarint(p, x.Index)
	case callSnapshot:
		conf, err := x.Conf.Marshal()
		must(err)
		p = binary.AppendUvarint(p, x.Index)
		p = binary.AppendUvarint(p, x.Compact)
		p = binary.AppendUvarint(p, uint64(len(conf)))
		p = append(append(p, conf...), x.Data...)
	}
	j = append(j, byte(x.Kind))
	j = binary.AppendUvarint(j, uint64(len(p)))
	return append(j, p...)
}

func decodeCall(j []byte) (call, []byte) {
	x := call{Kind: callKind(j[0])}
	n, k := binary.Uvarint(j[1:])
	p, rest := j[1+k:1+k+int(n)], j[1+k+int(n):]
	switch x.Kind {
	case callStep:
		must(x.Msg.Unmarshal(p))
	case callPropose, callReadIndex:
		x.Data = p
	case callLeaseTicks:
		x.Index, _ = binary.Uvarint(p)
	case callSnapshot:
		r := reader{b: p}
		x.Index, x.Compact = r.uvarint(), r.uvarint()
		must(x.Conf.Unmarshal(r.bytes(int(r.uvarint()))))
		x.Data = r.b
	}
	return x, rest
}

// do performs one journalled call.
func (c *core) do(x call) {
	switch x.Kind {
	case callStep:
		_ = c.rn.Step(x.Msg)
	case callTick:
		c.rn.Tick()
	case callCampaign:
		_ = c.rn.Campaign()
	case callPropose:
		_ = c.rn.Propose(x.Data)
	case callReadIndex:
		c.rn.ReadIndex(x.Data)
	case callReady:
		c.advance(c.ready())
	case callSnapshot:
		c.snapshot(x.Index, x.Compact, x.Conf, x.Data)
	case callLeaseTicks:
		for range x.Index {
			c.rn.TickQuiesced()
		}
	}
}

// ready takes the next Ready and stores what it asks to persist in the MemoryStorage (the node
// writes the same to its durable storage). The caller handles the rest and calls advance.
func (c *core) ready() raft.Ready {
	rd := c.rn.Ready()
	if !raft.IsEmptySnap(rd.Snapshot) {
		must(c.st.ApplySnapshot(rd.Snapshot))
	}
	must(c.st.Append(rd.Entries))
	if !raft.IsEmptyHardState(rd.HardState) {
		must(c.st.SetHardState(rd.HardState))
	}
	return rd
}

// advance applies the Ready's configuration changes to raft, as the application must when it
// applies them, and tells raft the Ready is done.
func (c *core) advance(rd raft.Ready) {
	for _, e := range rd.CommittedEntries {
		switch e.Type {
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			must(cc.Unmarshal(e.Data))
			c.rn.ApplyConfChange(cc)
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			must(cc.Unmarshal(e.Data))
			c.rn.ApplyConfChange(cc)
		}
	}
	c.rn.Advance(rd)
}

// snapshot records the state machine's data as of index in the storage, for followers that
// fall behind the log, and drops the log up to compact.
func (c *core) snapshot(index, compact uint64, conf raftpb.ConfState, data []byte) {
	_, err := c.st.CreateSnapshot(index, &conf, data)
	if err != raft.ErrSnapOutOfDate {
		must(err)
	}
	if first, _ := c.st.FirstIndex(); compact >= first {
		must(c.st.Compact(compact))
	}
}

// quiet is etcd raft's logger for the simulator: silent, but a panic or a fatal error panics,
// so that the simulator reports it as a failure of the run with its seed (etcd raft's default
// logger would print to the terminal and exit the process).
type quiet struct{}

func (quiet) Debug(...any)              {}
func (quiet) Debugf(string, ...any)     {}
func (quiet) Error(...any)              {}
func (quiet) Errorf(string, ...any)     {}
func (quiet) Info(...any)               {}
func (quiet) Infof(string, ...any)      {}
func (quiet) Warning(...any)            {}
func (quiet) Warningf(string, ...any)   {}
func (quiet) Fatal(v ...any)            { panic(fmt.Sprint(append([]any{"etcd raft: "}, v...)...)) }
func (quiet) Fatalf(f string, v ...any) { panic("etcd raft: " + fmt.Sprintf(f, v...)) }
func (quiet) Panic(v ...any)            { panic(fmt.Sprint(append([]any{"etcd raft: "}, v...)...)) }
func (quiet) Panicf(f string, v ...any) { panic("etcd raft: " + fmt.Sprintf(f, v...)) }

// live holds a node's running instance outside the node's value. A node's value is what the
// tools copy, compare and fingerprint (the explorer copies a node before each step); etcd
// raft's RawNode is none of those things (it holds functions and pointers into itself). So
// the instance lives in the capacity of an empty slice: no copy of the node carries it, no
// fingerprint sees it, and a node without one rebuilds it from its journal (see Node.raft).
type live struct{ c []any }

func (l *live) get() *core {
	if cap(l.c) == 0 {
		return nil
	}
	c, _ := l.c[:1][0].(*core)
	return c
}

func (l *live) set(c *core) {
	s := make([]any, 1)
	s[0] = c
	l.c = s[:0]
}
