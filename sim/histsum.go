package sim

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// The history's part of a state of the untimed world.
//
// Two paths often differ only in when client events happened relative to each other: one
// client's call came before another's answer on one path and after it on the other. The
// states they lead to hold different histories, yet no check can tell them apart if the
// histories hold the same operations with the same outcomes and admit the same
// linearizations, now and after any continuation. The fingerprint therefore holds, instead
// of the history as a sequence with times, two things:
//
//   - the operations as a multiset: client, sequence number, input, output and whether
//     answered, but neither their order nor their times;
//   - the history's linearization frontier: every way its operations could have taken
//     effect so far, as pairs of a state of the specification and the operations still
//     unanswered that have already taken effect, with the answers they then must give.
//
// What linearizability reads of the times is which operation was answered before which
// other was called, and of that only what the frontier keeps: an operation called from now
// on comes after every one answered so far, and an unanswered one can still take effect at
// any point up to its answer. So two histories with one multiset and one frontier are
// linearizable, or not, together, whatever comes next, and the explorer stores their states
// once. (The frontier is what the Wing and Gong search keeps while it walks a history; the
// verdict itself still comes from the history check, porcupine through package checker, on
// the history the state holds.)
//
// Properties read the history too (validity: a decided value was proposed). A property that
// reads only its operations, not their order or times, cannot tell merged states apart;
// testHistoryOrder judges properties again on a reordered history to catch one that does.
//
// A frontier that grows past maxFrontier pairs, or a specification that panics, falls back to
// the history as a sequence with times: fewer states merged, none merged wrongly.
//
// Assumptions. The history check is linearizability against the workload's Spec
// (HistoryCheck.Linearizability; any other check keeps histories whole). Pairs are told apart
// by their hashes, so a specification whose states or answers differ only where the hasher
// does not look (a nil and an empty map) may merge pairs that Spec.Same tells apart; and under
// symmetry, Spec.Key and Spec.Step must not depend on node IDs. When a property does read the
// order and the test below misses it, which of two merged states a breadth-first search keeps
// can depend on how its workers are scheduled, and so can the verdict. The caches (one entry
// per distinct history) are not counted in the explorer's memory figures.

// maxFrontier bounds the pairs a frontier may hold before the history is hashed whole.
const maxFrontier = 1 << 12

// linPair is one way a history's operations may have taken effect: the specification's
// state after them, and the unanswered operations among them with the answers they gave.
type linPair struct {
	state any
	early []linEarly // sorted by op
}

type linEarly struct {
	op  int // index into the history
	out any
}

// historyKey is the history's part of a fingerprint (see above); perm renames nodes, for
// symmetry, in the values it hashes.
func (u *Untimed) historyKey(ops []node.Op, perm []node.ID) uint64 {
	if u.opts.ExactHistory {
		return hashHistory(ops, perm)
	}
	if u.history != nil && !u.history.Linearizability {
		return hashHistory(ops, perm) // a check of another kind may read anything
	}
	h := NewHasher()
	h.Uint64(uint64(len(ops)))
	h.Uint64(opMultiset(ops, perm))
	if u.history == nil || u.proto.Workload == nil || u.proto.Workload.Spec == nil {
		// No history check: only properties read the history, and testHistoryOrder tests
		// that they read no order.
		return h.Sum()
	}
	frontier, _, ok := frontierOf(u.proto.Workload.Spec, ops, perm)
	if !ok {
		h.String("whole") // apart from every frontier's hash
		h.Uint64(hashHistory(ops, perm))
		return h.Sum()
	}
	h.Uint64(frontier)
	return h.Sum()
}

// cachedHistoryKey is historyKey(ops, nil), once per distinct history (exact is its
// hashHistory): many states share a history.
func (u *Untimed) cachedHistoryKey(ops []node.Op, exact uint64) uint64 {
	if k, ok := u.keys.Load(exact); ok {
		return k.(uint64)
	}
	k := u.historyKey(ops, nil)
	u.keys.Store(exact, k)
	return k
}

// renamedHistoryKey is historyKey(s.history, perm), once per distinct history and renaming.
func (u *Untimed) renamedHistoryKey(s *UState, perm []node.ID) uint64 {
	h := NewHasher()
	h.Uint64(s.historyHash)
	for _, id := range perm {
		h.Uint64(uint64(id))
	}
	at := h.Sum()
	if k, ok := u.permKeys.Load(at); ok {
		return k.(uint64)
	}
	k := u.historyKey(s.history, perm)
	u.permKeys.Store(at, k)
	return k
}

// opMultiset hashes the operations without their order or times: a sum of their hashes.
func opMultiset(ops []node.Op, perm []node.ID) uint64 {
	var sum uint64
	for _, op := range ops {
		h := NewHasher()
		h.perm = perm
		h.Uint64(uint64(op.Client))
		h.Int(op.Seq)
		h.Value(op.Input)
		h.Value(op.Done)
		if op.Done {
			h.Value(op.Output)
		}
		sum += h.Sum()
	}
	return sum
}

// frontierOf hashes the linearization frontier of ops (see above) and counts its pairs (none:
// not linearizable); ok is false when it grew past maxFrontier pairs or the specification
// panicked. A specification partitioned by Key (a key-value store, whose Step is one key's)
// has a frontier per key: a history is linearizable exactly when each key's part is, so the
// parts' frontiers, with their keys, stand for the whole.
func frontierOf(spec *node.Spec, ops []node.Op, perm []node.ID) (sum uint64, n int, ok bool) {
	defer func() {
		if recover() != nil {
			sum, n, ok = 0, 0, false
		}
	}()
	if spec.Key == nil {
		return partFrontier(spec, ops, nil, perm)
	}
	parts := map[string][]int{}
	var keys []string
	for i, op := range ops {
		k := spec.Key(op.Input)
		if _, ok := parts[k]; !ok {
			keys = append(keys, k)
		}
		parts[k] = append(parts[k], i)
	}
	slices.Sort(keys)
	h := NewHasher()
	for _, k := range keys {
		part, pairs, ok := partFrontier(spec, ops, parts[k], perm)
		if !ok {
			return 0, 0, false
		}
		h.String(k)
		h.Uint64(part)
		if n == 0 || pairs == 0 {
			n = pairs // stays 0 once a part is not linearizable
		} else {
			n += pairs
		}
		if pairs == 0 {
			break
		}
	}
	return h.Sum(), n, true
}

// partFrontier is the frontier of the operations numbered part (nil: all of them), in the
// order of their times (the untimed world's times are distinct).
func partFrontier(spec *node.Spec, ops []node.Op, part []int, perm []node.ID) (sum uint64, n int, ok bool) {
	if part == nil {
		for i := range ops {
			part = append(part, i)
		}
	}
	type event struct {
		at  int64
		ret bool
		op  int
	}
	var events []event
	for _, i := range part {
		events = append(events, event{int64(ops[i].Call), false, i})
		if ops[i].Done {
			events = append(events, event{int64(ops[i].Return), true, i})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.at, b.at) })
	pairs := []linPair{{state: spec.Init()}}
	var open []int // called, not answered
	for _, e := range events {
		if !e.ret {
			open = append(open, e.op)
			continue
		}
		if pairs, ok = closeFrontier(spec, ops, pairs, open, perm); !ok {
			return 0, 0, false
		}
		pairs = answered(spec, pairs, e.op, ops[e.op].Output)
		open = slices.DeleteFunc(open, func(i int) bool { return i == e.op })
	}
	if pairs, ok = closeFrontier(spec, ops, pairs, open, perm); !ok {
		return 0, 0, false
	}
	hashes := make([]uint64, len(pairs))
	for i, p := range pairs {
		hashes[i] = hashPair(ops, p, perm)
	}
	slices.Sort(hashes)
	h := NewHasher()
	for _, x := range hashes {
		h.Uint64(x)
	}
	return h.Sum(), len(pairs), true
}

// closeFrontier adds to pairs every pair reached by letting more of the open operations take
// effect, in any order, without duplicates.
func closeFrontier(spec *node.Spec, ops []node.Op, pairs []linPair, open []int, perm []node.ID) ([]linPair, bool) {
	seen := make(map[uint64]bool, len(pairs))
	var out []linPair
	add := func(p linPair) {
		if k := hashPair(ops, p, perm); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	for _, p := range pairs {
		add(p)
	}
	for i := 0; i < len(out); i++ { // out grows as it is walked
		p := out[i]
		for _, op := range open {
			if tookEffect(p, op) {
				continue
			}
			next, res := spec.Step(p.state, ops[op].Input)
			early := append(slices.Clone(p.early), linEarly{op, res})
			slices.SortFunc(early, func(a, b linEarly) int { return cmp.Compare(a.op, b.op) })
			add(linPair{state: next, early: early})
			if len(out) > maxFrontier {
				return nil, false
			}
		}
	}
	return out, true
}

// answered keeps the pairs in which operation op took effect with the answer out, and takes op
// out of their unanswered operations.
func answered(spec *node.Spec, pairs []linPair, op int, out any) []linPair {
	var kept []linPair
	for _, p := range pairs {
		i := slices.IndexFunc(p.early, func(e linEarly) bool { return e.op == op })
		if i >= 0 && spec.Same(p.early[i].out, out) {
			kept = append(kept, linPair{state: p.state, early: slices.Delete(slices.Clone(p.early), i, i+1)})
		}
	}
	return kept
}

func tookEffect(p linPair, op int) bool {
	return slices.ContainsFunc(p.early, func(e linEarly) bool { return e.op == op })
}

// hashPair hashes a pair by the operations' identities, not their places in the history.
func hashPair(ops []node.Op, p linPair, perm []node.ID) uint64 {
	h := NewHasher()
	h.perm = perm
	h.Value(p.state)
	var early uint64
	for _, e := range p.early {
		x := NewHasher()
		x.perm = perm
		x.Uint64(uint64(ops[e.op].Client))
		x.Int(ops[e.op].Seq)
		x.Value(e.out)
		early += x.Sum()
	}
	h.Uint64(early)
	return h.Sum()
}

// historySample is the shift that samples the states testHistoryOrder checks among those
// whose step left the history as it was: one in 2^(64-61). Tests set it to 64 to check all.
var historySample uint = 61

// historyGuard turns testHistoryOrder on; a test turns it off to show what it catches.
var historyGuard = true

// testHistoryOrder tests that the protocol's properties cannot tell apart the histories the
// fingerprint merges (see above). It judges the state again with each history that swaps two
// neighbouring events of different operations (a call and an answer, say) and has the same
// key, so that the state stands for it too; a verdict or a sometimes-property that differs
// marks the state broken (PropHistoryOrder). It does so for every state whose step changed the
// history and for one in eight of the others, before the fingerprint, so that the mark is part
// of the state. Like testUnordered it tests some of the histories a state stands for, not
// all: it catches a property that reads the order of neighbouring events. It judges the
// protocol's properties only: the history check reads the frontier, which is the same.
func (u *Untimed) testHistoryOrder(s *UState, changed bool) {
	if !historyGuard || s.verdict != "" || len(s.history) < 2 || u.opts.ExactHistory {
		return
	}
	if !changed {
		key := s.outputsHash ^ s.historyKey ^ s.clientsHash
		for _, h := range s.hashes {
			key = key*0x100000001b3 ^ h
		}
		if (key*0x9e3779b97f4a7c15)>>historySample != 0 {
			return
		}
	}
	for _, alt := range u.neighbours(s) {
		t := *s
		t.history = alt
		p, msg := u.judgeWith(&t, false)
		if p == "" && u.reachedIn(&t) == s.reached {
			continue
		}
		what := "a sometimes-property's"
		if p != "" {
			what = fmt.Sprintf("the verdict of %s (%s)", p, msg)
		}
		s.verdict = PropHistoryOrder
		s.why = fmt.Sprintf("the explorer keeps of a history its operations and what linearizability can tell of their order, but %s changes when the same operations come in another order that linearizability cannot tell apart", what)
		return
	}
}

// neighbours are the histories that swap two neighbouring events of s's history and have its
// key, once per distinct history.
func (u *Untimed) neighbours(s *UState) [][]node.Op {
	if v, ok := u.alts.Load(s.historyHash); ok {
		return v.([][]node.Op)
	}
	var alts [][]node.Op
	events := historyEvents(s.history)
	for i := 0; i+1 < len(events); i++ {
		if events[i].op == events[i+1].op {
			continue
		}
		events[i], events[i+1] = events[i+1], events[i]
		alt := restamped(s.history, events)
		events[i], events[i+1] = events[i+1], events[i]
		if alt != nil && u.historyKey(alt, nil) == s.historyKey {
			alts = append(alts, alt)
		}
	}
	u.alts.Store(s.historyHash, alts)
	return alts
}

// histEvent is a call (ret false) or an answer of operation op of a history.
type histEvent struct {
	op  int
	ret bool
}

// historyEvents lists the calls and answers of ops in the order of their times.
func historyEvents(ops []node.Op) []histEvent {
	type timed struct {
		at time.Duration
		histEvent
	}
	var ts []timed
	for i, op := range ops {
		ts = append(ts, timed{op.Call, histEvent{i, false}})
		if op.Done {
			ts = append(ts, timed{op.Return, histEvent{i, true}})
		}
	}
	slices.SortStableFunc(ts, func(a, b timed) int { return cmp.Compare(a.at, b.at) })
	out := make([]histEvent, len(ts))
	for i, t := range ts {
		out[i] = t.histEvent
	}
	return out
}

// restamped is ops with the times of events in their order (1, 2, ...), in the order of
// their calls: a history, if every operation's call comes before its answer.
func restamped(ops []node.Op, events []histEvent) []node.Op {
	out := slices.Clone(ops)
	for i, e := range events {
		if e.ret {
			out[e.op].Return = time.Duration(i + 1)
		} else {
			out[e.op].Call = time.Duration(i + 1)
		}
	}
	for _, op := range out {
		if op.Done && op.Return < op.Call {
			return nil
		}
	}
	slices.SortStableFunc(out, func(a, b node.Op) int { return cmp.Compare(a.Call, b.Call) })
	return out
}
