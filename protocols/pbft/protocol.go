package pbft

import (
	"fmt"
	"iter"
	"time"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// The seeded bugs.
const (
	BugNoDigestCheck    = "no-digest-check"
	BugViewChangeQuorum = "view-change-quorum"
)

// Protocol describes PBFT to the tools.
var Protocol = &node.Protocol{
	Name:      "pbft",
	Summary:   "PBFT (Castro and Liskov): three-phase ordering, checkpoints, view change; n >= 3f+1",
	New:       New,
	DefaultN:  4,
	MinN:      4,
	Quorum:    func(n int) int { return quorum.Byzantine(n, quorum.MaxByzantine(n)) },
	MaxFaulty: quorum.MaxByzantine,
	Bugs: []node.Bug{
		{Name: BugNoDigestCheck, Scenario: "byzantine-primary",
			Summary: "a backup accepts a second pre-prepare for the same view and number: a primary that bumps a sequence number splits the replicas"},
		{Name: BugViewChangeQuorum, Scenario: "twins",
			Summary: "NEW-VIEW is formed from 2f view-changes instead of 2f+1: a committed request can be lost in a view change"},
	},
	Invariants: []node.Invariant{
		{Name: "agreement", Check: agreement},
		{Name: "validity", Check: validity},
		{Name: "log-window", Check: logWindow},
	},
	Sometimes: []node.Sometimes{
		{Name: "executed", Required: true, Reached: func(w node.World) bool { return len(executions(w, all)) > 0 }},
		{Name: "view-changed", Reached: func(w node.World) bool { return anyReplica(w, func(r *Replica) bool { return r.view > 0 }) }},
		{Name: "checkpoint-stable", Reached: func(w node.World) bool { return anyReplica(w, func(r *Replica) bool { return r.low.Seq > 0 }) }},
		{Name: "state-transfer", Reached: func(w node.World) bool { return anyReplica(w, func(r *Replica) bool { return r.transfers > 0 }) }},
	},
	Progress: progress,
	Workload: &node.Workload{
		Clients: 3,
		Ops:     4,
		Timeout: 300 * time.Millisecond,
		Next:    nextOp,
		Result:  Result,
		// f+1 matching replies: at least one comes from a correct replica.
		Matching: func(cfg node.Config) int { return quorum.MaxByzantine(cfg.N) + 1 },
		Spec:     kv.Store,
	},
	Timing:   node.Timing{Delay: 10 * time.Millisecond, Settle: 400 * time.Millisecond},
	Mutators: mutators,
	MaxSize:  maxSize,
}

// maxSize bounds a replica's Size: the log window, the checkpoints above the stable one (votes
// and snapshots), and a VIEW-CHANGE per replica.
func maxSize(cfg node.Config) int {
	k := cfg.Param("checkpoint", 4)
	window := 2 * k
	return window + 2*(window/k) + cfg.N
}

// nextOp draws a client's operation on a small key space, so that operations conflict.
func nextOp(c node.ClientID, seq int, choose func(int) int) any {
	key := []string{"x", "y"}[choose(2)]
	switch choose(3) {
	case 0:
		return kv.Op{Kind: kv.Get, Key: key}
	case 1:
		return kv.Op{Kind: kv.Put, Key: key, Value: 100*int(c) + seq}
	default:
		return kv.Op{Kind: kv.CAS, Key: key, Expect: choose(2) * (100*int(c) + seq - 1), Value: 100*int(c) + seq}
	}
}

// Size is the replica's state that must stay bounded: log entries, checkpoints above the
// stable one, and the view changes it keeps.
func (r *Replica) Size() int {
	return len(r.log) + len(r.checkpoints) + len(r.snapshots) + len(r.viewChanges)
}

// execution is an Executed output of a correct replica.
type execution struct {
	node node.ID
	Executed
}

// executions lists the correct replicas' executions among outputs (all of them, or the
// latest step's).
func executions(w node.World, outputs func(node.World) iter.Seq2[node.Output, Executed]) []execution {
	var es []execution
	for o, e := range outputs(w) {
		if w.Correct(o.Node) {
			es = append(es, execution{o.Node, e})
		}
	}
	return es
}

var (
	all    = node.Outputs[Executed]
	latest = node.NewOutputs[Executed]
)

// agreement: no two correct replicas execute different requests at the same sequence number.
func agreement(w node.World) error {
	fresh := executions(w, latest)
	if len(fresh) == 0 {
		return nil
	}
	for _, e := range fresh {
		for _, o := range executions(w, all) {
			if o.Seq == e.Seq && o.Digest != e.Digest {
				return fmt.Errorf("n%d executed %s at #%d but n%d executed %s", e.node, reqString(e.Req), e.Seq,
					o.node, reqString(o.Req))
			}
		}
	}
	return nil
}

// validity: a correct replica executes only null requests and requests clients sent.
func validity(w node.World) error {
	for _, e := range executions(w, latest) {
		if e.Req.Client == 0 {
			continue
		}
		sent := false
		for _, op := range w.History() {
			if op.Client == e.Req.Client && op.Seq == e.Req.Seq && op.Input == e.Req.Op {
				sent = true
				break
			}
		}
		if !sent {
			return fmt.Errorf("n%d executed %s at #%d, which no client sent", e.node, reqString(e.Req), e.Seq)
		}
	}
	return nil
}

// logWindow: a correct replica's state stays within the bound: its log holds the window above
// its stable checkpoint, no more (the memory that garbage collection promises).
func logWindow(w node.World) error {
	var err error
	forEachReplica(w, func(id node.ID, r *Replica) {
		if max := maxSize(w.Config()); err == nil && r.Size() > max {
			err = fmt.Errorf("n%d holds %d entries (%d in its log), more than the bound %d", id, r.Size(), len(r.log), max)
		}
	})
	return err
}

// progress, after healing, besides the clients' requests (which the simulator demands): every
// correct replica that is up has caught up with the highest stable checkpoint.
func progress(w node.World) []string {
	stable := 0
	forEachReplica(w, func(id node.ID, r *Replica) { stable = max(stable, r.low.Seq) })
	var pending []string
	forEachReplica(w, func(id node.ID, r *Replica) {
		if r.executed < stable {
			pending = append(pending, fmt.Sprintf("n%d executed up to #%d, behind the stable checkpoint #%d", id, r.executed, stable))
		}
	})
	return pending
}

// forEachReplica calls f for every correct replica that is up.
func forEachReplica(w node.World, f func(node.ID, *Replica)) {
	for id, r := range node.States[*Replica](w) {
		if w.Correct(id) {
			f(id, r)
		}
	}
}

func anyReplica(w node.World, ok func(*Replica) bool) bool {
	found := false
	forEachReplica(w, func(_ node.ID, r *Replica) { found = found || ok(r) })
	return found
}
