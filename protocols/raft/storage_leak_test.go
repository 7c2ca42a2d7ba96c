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

// A server's storage holds no log segment that its synced snapshot covers whole, however the
// snapshot came (compacted, or installed from the leader), so that it stays as small as the
// log it keeps however long the run.
func TestStorageKeepsNoCoveredSegment(t *testing.T) {
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
}
