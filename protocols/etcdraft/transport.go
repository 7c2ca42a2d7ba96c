package etcdraft

import (
	"fmt"
	"strings"

	"go.etcd.io/raft/v3/raftpb"
)

// Msg is what travels between nodes: one etcd raft message, numbered on its link. etcd sends
// raft messages over TCP streams, which never deliver a message twice; the simulated network
// may, and a duplicate is not harmless to etcd raft's ReadIndex (a copy of a read request that
// arrives after the read was answered queues it again, and late acknowledgements of the first
// round then confirm it). So the receiver drops copies it has seen, as a stream would: Inc and
// Seq name a message among everything its sender sent to this receiver.
type Msg struct {
	Inc uint64 // the sender's incarnation: it restarts its numbering at every boot
	Seq uint64 // numbers the sender's messages to this receiver, from 1
	M   raftpb.Message
}

func (m Msg) String() string { return describeMessage(m.M) }

// describeMessage prints a raft message on one line, the way a trace reads best: its type,
// term, and what it carries.
func describeMessage(m raftpb.Message) string {
	var b strings.Builder
	b.WriteString(strings.TrimPrefix(m.Type.String(), "Msg"))
	fmt.Fprintf(&b, " t%d", m.Term)
	switch m.Type {
	case raftpb.MsgApp:
		fmt.Fprintf(&b, " after %d/t%d commit %d", m.Index, m.LogTerm, m.Commit)
	case raftpb.MsgAppResp:
		if m.Reject {
			fmt.Fprintf(&b, " reject %d hint %d/t%d", m.Index, m.RejectHint, m.LogTerm)
		} else {
			fmt.Fprintf(&b, " match %d", m.Index)
		}
	case raftpb.MsgVote, raftpb.MsgPreVote:
		fmt.Fprintf(&b, " last %d/t%d", m.Index, m.LogTerm)
	case raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		if m.Reject {
			b.WriteString(" rejected")
		} else {
			b.WriteString(" granted")
		}
	case raftpb.MsgHeartbeat:
		fmt.Fprintf(&b, " commit %d", m.Commit)
	case raftpb.MsgSnap:
		if s := m.Snapshot; s != nil {
			fmt.Fprintf(&b, " snapshot %d/t%d", s.Metadata.Index, s.Metadata.Term)
		}
	case raftpb.MsgReadIndexResp:
		fmt.Fprintf(&b, " index %d", m.Index)
	}
	if len(m.Context) > 0 {
		b.WriteString(" ctx " + describeCtx(m.Context))
	}
	if len(m.Entries) > 0 {
		b.WriteString(" [")
		for i, e := range m.Entries {
			if i > 0 {
				b.WriteString(" ")
			}
			if m.Type == raftpb.MsgReadIndex || m.Type == raftpb.MsgReadIndexResp {
				b.WriteString("ctx " + describeCtx(e.Data)) // a read's context rides in an entry
				continue
			}
			b.WriteString(describeEntry(e))
		}
		b.WriteString("]")
	}
	return b.String()
}

// describeEntry prints a log entry: its index and term, and the command it carries.
func describeEntry(e raftpb.Entry) string {
	s := fmt.Sprintf("%d/t%d", e.Index, e.Term)
	switch {
	case e.Type != raftpb.EntryNormal:
		return s + ":" + e.Type.String()
	case len(e.Data) == 0:
		return s + ":empty"
	}
	c, err := decodeCommand(e.Data)
	if err != nil {
		return s + ":?"
	}
	return s + ":" + c.String()
}

// dedup is a receiver's memory of one sender's link: the sender's incarnation, the highest
// message number seen, and which of the 64 numbers below it were seen too. Anything older is
// dropped, as lost: etcd raft recovers from loss, not from duplicates.
type dedup struct {
	Inc, Top uint64
	Below    uint64 // bit k: message Top-1-k was seen
}

// fresh reports whether message (inc, seq) is new on this link, and remembers it.
func (d *dedup) fresh(inc, seq uint64) bool {
	switch {
	case inc < d.Inc:
		return false // from an incarnation before the sender's last restart
	case inc > d.Inc:
		*d = dedup{Inc: inc, Top: seq}
		return true
	case seq > d.Top:
		shift := seq - d.Top
		if shift > 64 {
			d.Below = 0
		} else {
			d.Below = d.Below<<shift | 1<<(shift-1)
		}
		d.Top = seq
		return true
	case seq == d.Top:
		return false
	}
	back := d.Top - seq
	if back > 64 || d.Below&(1<<(back-1)) != 0 {
		return false
	}
	d.Below |= 1 << (back - 1)
	return true
}
