package etcdraft

import (
	"reflect"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/replica-io/replica/protocols/kv"
)

// The receiver keeps each sender's messages once, whatever the order they come in, and
// forgets an incarnation once the sender has restarted.
func TestDedupKeepsEachMessageOnce(t *testing.T) {
	var d dedup
	for _, c := range []struct {
		inc, seq uint64
		fresh    bool
	}{
		{1, 1, true}, {1, 1, false}, {1, 3, true}, {1, 2, true}, {1, 2, false}, {1, 3, false},
		{1, 80, true}, {1, 16, true}, {1, 15, false}, // 15 is more than 64 behind: lost
		{2, 1, true}, {1, 81, false}, {2, 1, false}, {2, 2, true},
	} {
		if got := d.fresh(c.inc, c.seq); got != c.fresh {
			t.Errorf("message %d.%d: fresh %v, want %v", c.inc, c.seq, got, c.fresh)
		}
	}
}

func TestCodecsRoundTrip(t *testing.T) {
	cmd := command{Client: 7, Seq: 300, Op: kv.Op{Kind: kv.CAS, Key: "key", Expect: -2, Value: 9}}
	if got, err := decodeCommand(cmd.encode()); err != nil || got != cmd {
		t.Errorf("command %v decodes to %v (%v)", cmd, got, err)
	}
	s := newStore()
	s.apply(4, command{Client: 1, Seq: 1, Op: kv.Op{Kind: kv.Put, Key: "x", Value: 3}}, 16)
	s.apply(5, command{Client: 2, Seq: 1, Op: kv.Op{Kind: kv.CAS, Key: "x", Expect: 3, Value: 4}}, 16)
	got, err := decodeStore(s.encode())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("store %+v decodes to %+v (%v)", s, got, err)
	}
	if _, err := decodeStore([]byte{5}); err == nil {
		t.Error("truncated snapshot data decodes")
	}
	var j []byte
	calls := []call{
		{Kind: callStep, Msg: raftpb.Message{Type: raftpb.MsgApp, To: 2, From: 1, Term: 3, Index: 4,
			Entries: []raftpb.Entry{{Term: 3, Index: 5, Data: cmd.encode()}}}},
		{Kind: callReady}, {Kind: callReadIndex, Data: []byte{1, 2}}, {Kind: callLeaseTicks, Index: 4},
		{Kind: callSnapshot, Index: 9, Compact: 1, Conf: raftpb.ConfState{Voters: []uint64{1, 2, 3}}, Data: s.encode()},
	}
	for _, x := range calls {
		j = appendCall(j, x)
	}
	for i := 0; len(j) > 0; i++ {
		var x call
		x, j = decodeCall(j)
		if !reflect.DeepEqual(x, calls[i]) {
			t.Errorf("journal entry %d: %+v, want %+v", i, x, calls[i])
		}
	}
}
