package raft_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/raft"
	"github.com/replica-io/replica/sim"
)

// What a server and the properties keep stays as small as the log a server keeps, however
// long the run: after three virtual minutes of long-haul (some ten thousand entries, snapshots
// compacted and installed), no server's storage holds a log segment its synced snapshot covers
// whole, and state-machine safety has let go of the first applications of the indices every
// server's synced snapshot covers.
func TestWhatALongRunKeepsStaysSmall(t *testing.T) {
	s := spec(t, "", "long-haul")
	s.Faults = 3 * time.Minute
	w, r := sim.Simulate(s.Config(), sim.NewSeeded(1))
	if r.Violation != nil {
		t.Fatal(r.Violation)
	}
	installed := slices.IndexFunc(s.Protocol.Sometimes, func(p node.Sometimes) bool { return p.Name == "snapshot-installed" })
	if installed < 0 || !r.Reached[installed] {
		t.Fatal("no server installed a snapshot in this run: the test would test nothing")
	}
	for id := node.ID(1); int(id) <= s.Cluster.N; id++ {
		v, _ := w.Durable(id, "snapshot")
		snap, ok := v.(raft.Snapshot)
		if !ok {
			continue
		}
		for k := 0; (k+1)*raft.SegmentSize <= snap.Index; k++ {
			if _, ok := w.Durable(id, fmt.Sprintf("log/%d", k)); ok {
				t.Errorf("n%d keeps segment log/%d (entries %d to %d) under its snapshot at %d", id, k,
					k*raft.SegmentSize+1, (k+1)*raft.SegmentSize, snap.Index)
			}
		}
	}
	if base, held := raft.AppliedRecord(w); base < 5000 || held > 2*1024+512 {
		t.Errorf("state-machine safety's record starts at index %d and holds %d first applications", base, held)
	}
}
