package abd

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bugs.
const (
	BugNoWriteback = "no-writeback"
	BugNoGC        = "no-gc"
)

// ParamResend, at 0, turns off resending (parameter "resend"; 1 by default): an exhaustive
// exploration of a network that loses nothing needs no retransmissions, which would only fill
// it with copies.
const ParamResend = "resend"

// exploreParams are the parameters of exhaustive exploration.
var exploreParams = map[string]int{ParamResend: 0, "max-ops": DefaultMaxOps}

// DefaultMaxOps is the default bound on the operations a coordinator keeps (parameter
// "max-ops"): it only keeps those in progress, at most one per client that asked it, plus
// the ones clients gave up on while it could not reach a majority.
const DefaultMaxOps = 16

// Protocol describes ABD to the tools.
var Protocol = &node.Protocol{
	Name:     "abd",
	Summary:  "the ABD atomic register: multi-writer, majority quorums, reads that write back",
	New:      New,
	DefaultN: 3,
	MinN:     1,
	Quorum:   quorum.Majority,
	Bugs: []node.Bug{
		{Name: BugNoWriteback, Scenario: "lossy-crash",
			Summary: "reads answer without writing back: a later read can see an older value (not linearizable)",
			// A read sees the older value only at another coordinator than the write's,
			// and the failure takes a write and two reads.
			Explore: &node.Explore{Params: exploreParams, Requests: 3, Clients: 2, Targets: []node.ID{1, 2}}},
		{Name: BugNoGC, Scenario: "default",
			Summary: "coordinators keep every finished operation's record: state that grows without bound",
			// One client's two operations, one after the other: a coordinator needs to keep
			// one of them at most, and with the bug keeps both.
			Explore: &node.Explore{Params: map[string]int{ParamResend: 0, "max-ops": 1}, Requests: 2, Clients: 1, Targets: []node.ID{1}}},
	},
	Invariants: []node.Invariant{
		{Name: "one-value-per-tag", Check: oneValuePerTag},
	},
	Sometimes: []node.Sometimes{
		{Name: "read-saw-a-write", Required: true, Reached: readSawWrite},
		{Name: "write-back-mattered", Reached: writeBackMattered},
	},
	Progress: progress,
	Workload: &node.Workload{
		Clients:  4,
		Ops:      25,
		Timeout:  250 * time.Millisecond,
		Attempts: 1,
		Next:     next,
		Result:   func(reply any) (any, bool, node.ID) { return reply, true, 0 },
		Spec:     kv.Register,
	},
	Timing: node.Timing{Delay: 10 * time.Millisecond, Settle: 300 * time.Millisecond},
	MaxSize: func(cfg node.Config) int {
		return cfg.Param("max-ops", DefaultMaxOps)
	},
	// Explored: two operations at one coordinator, on a network that loses nothing (so no
	// resending). The other two nodes are replicas alone, interchangeable: ABD is symmetric
	// in them (a tag breaks ties by writer ID, so coordinators are not).
	Explore: node.Explore{Params: exploreParams, Requests: 2, Targets: []node.ID{1}, Symmetric: true},
}

// next draws a client's operation: a read or a write, even odds. Written values are distinct
// (client and sequence number), so that a read's answer names the write it saw.
func next(c node.ClientID, seq int, choose func(int) int) any {
	if choose(2) == 0 {
		return kv.Op{Kind: kv.Get}
	}
	return kv.Op{Kind: kv.Put, Value: 1000*int(c) + seq}
}

// oneValuePerTag: no two copies hold different values under one tag. Tags are unique to
// their writer, so a tag stands for one write.
func oneValuePerTag(w node.World) error {
	seen := map[Tag]node.ID{}
	values := map[Tag]int{}
	for id, st := range node.States[*Node](w) {
		if st.reg.Tag == (Tag{}) {
			continue
		}
		if other, ok := seen[st.reg.Tag]; ok {
			if v := values[st.reg.Tag]; v != st.reg.Value {
				return fmt.Errorf("n%d holds %d and n%d holds %d, both under tag %v", other, v, id, st.reg.Value, st.reg.Tag)
			}
			continue
		}
		seen[st.reg.Tag], values[st.reg.Tag] = id, st.reg.Value
	}
	return nil
}

// readSawWrite: a read returned a written value, so the history says something about reads.
func readSawWrite(w node.World) bool {
	for in, out := range node.Answered[kv.Op, kv.Result](w) {
		if in.Kind == kv.Get && out.OK {
			return true
		}
	}
	return false
}

// writeBackMattered: a read's query saw copies that disagreed, so without its write-back a
// later read could have seen the older one.
func writeBackMattered(w node.World) bool {
	for _, st := range node.States[*Node](w) {
		if st.writebacks > 0 {
			return true
		}
	}
	return false
}

// progress: no node that is up has an operation in progress.
func progress(w node.World) []string {
	var pending []string
	for id, st := range node.States[*Node](w) {
		if w.Correct(id) {
			if k := len(st.unfinished()); k > 0 {
				pending = append(pending, fmt.Sprintf("n%d has %d operations in progress", id, k))
			}
		}
	}
	return pending
}
