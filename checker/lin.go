package checker

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// PropLinearizable is the property of client histories.
const PropLinearizable = "linearizability"

// DefaultLinLimit is how long one linearizability check may take before it comes back unknown.
const DefaultLinLimit = 2 * time.Second

// The sequential models a workload can name (node.Workload.Model). Both speak the types of
// package kv: kv.Op in, kv.Result out. A register is the key "".
const (
	ModelRegister = "register"
	ModelKV       = "kv"
)

// cell is the state of one key in the model: porcupine checks each key on its own (a
// key-value store is linearizable exactly when each of its keys is), so a state is one value.
type cell struct {
	Value int
	Set   bool
}

// apply runs op on a cell through kv.Apply, the sequential specification itself, so that the
// model cannot drift from what the protocols implement.
func apply(c cell, op kv.Op) (kv.Result, cell) {
	store := map[string]int{}
	if c.Set {
		store[op.Key] = c.Value
	}
	r := kv.Apply(store, op)
	v, ok := store[op.Key]
	return r, cell{Value: v, Set: ok}
}

// Model returns the porcupine model called name. An operation whose outcome is unknown (its
// output is nil) may take effect or not: its output is not checked.
func Model(name string) (porcupine.Model, error) {
	if name != ModelRegister && name != ModelKV {
		return porcupine.Model{}, fmt.Errorf("no linearizability model %q (known: %s, %s)", name, ModelRegister, ModelKV)
	}
	return porcupine.Model{
		Partition: byKey,
		Init:      func() any { return cell{} },
		Step: func(state, input, output any) (bool, any) {
			got, next := apply(state.(cell), input.(kv.Op))
			if output == nil {
				return true, next
			}
			return got == output.(kv.Result), next
		},
		Hash: func(state any) uint64 {
			c := state.(cell)
			if !c.Set {
				return 0
			}
			return uint64(c.Value)*0x9e3779b97f4a7c15 + 1
		},
		DescribeOperation: describeOp,
		DescribeState: func(state any) string {
			if c := state.(cell); c.Set {
				return fmt.Sprint(c.Value)
			}
			return "unset"
		},
	}, nil
}

func describeOp(input, output any) string {
	if output == nil {
		return fmt.Sprintf("%v -> ? (unknown)", input)
	}
	return fmt.Sprintf("%v -> %v", input, output)
}

// byKey partitions a history by key, in key order.
func byKey(history []porcupine.Operation) [][]porcupine.Operation {
	groups := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(kv.Op).Key
		groups[k] = append(groups[k], op)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// Operations turns a client history into porcupine's form. An operation whose outcome is
// unknown (the client gave up, or the run ended first) returns at infinity with no output,
// as porcupine expects: it may take effect at any point after its call, or never.
func Operations(model string, history []node.Op) ([]porcupine.Operation, error) {
	ops := make([]porcupine.Operation, 0, len(history))
	for _, h := range history {
		in, ok := h.Input.(kv.Op)
		if !ok {
			return nil, fmt.Errorf("client c%d's operation %d is a %T, not a kv.Op", h.Client, h.Seq, h.Input)
		}
		if model == ModelRegister && in.Key != "" {
			return nil, fmt.Errorf("client c%d's operation %v names key %q, but a register has only the key \"\"", h.Client, in, in.Key)
		}
		op := porcupine.Operation{ClientId: int(h.Client) - 1, Input: in, Call: int64(h.Call), Return: math.MaxInt64}
		if h.Done {
			out, ok := h.Output.(kv.Result)
			if !ok {
				return nil, fmt.Errorf("client c%d's operation %v returned a %T, not a kv.Result", h.Client, in, h.Output)
			}
			op.Output, op.Return = out, int64(h.Return)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// Unobservable drops the operations whose outcome is unknown and whose effect no answered
// operation saw: reads (they change nothing), and writes whose value no answered operation
// returned or compared against. Dropping them is sound: such an operation can always be put
// last in a linearization, where it changes nothing anyone saw, so the history is
// linearizable with it exactly when it is without it. It matters because porcupine's search
// grows exponentially with operations that may take effect at any later time, which is what
// an unknown write is (clients that gave up, runs that ended). It returns what is left, and
// how many it dropped.
func Unobservable(ops []porcupine.Operation) ([]porcupine.Operation, int) {
	type cellValue struct {
		key   string
		value int
	}
	seen := map[cellValue]bool{}
	for _, op := range ops {
		out, ok := op.Output.(kv.Result)
		if !ok {
			continue
		}
		in := op.Input.(kv.Op)
		seen[cellValue{in.Key, out.Value}] = true
		if in.Kind == kv.CAS {
			seen[cellValue{in.Key, in.Expect}] = true
		}
	}
	kept := ops[:0:0]
	for _, op := range ops {
		in := op.Input.(kv.Op)
		if op.Output == nil && (in.Kind == kv.Get || !seen[cellValue{in.Key, in.Value}]) {
			continue
		}
		kept = append(kept, op)
	}
	return kept, len(ops) - len(kept)
}

// Linearizability checks, when a run ends, that its client history is linearizable against
// the workload's model. The check is porcupine's, bounded by a time limit: a check that runs
// out of time is Unknown, which a campaign reports apart from pass and fail.
//
// Porcupine searches on goroutines of its own against a wall-clock deadline. That never
// reaches the run: the check starts after the last step, and the trace and its hash are
// already final; only an Unknown verdict depends on the machine's speed.
type Linearizability struct {
	model   string
	limit   time.Duration
	outcome Outcome
	ops     []porcupine.Operation
	info    porcupine.LinearizationInfo
}

// NewLinearizability returns the factory of a linearizability monitor for model with a time
// limit per check (zero: DefaultLinLimit).
func NewLinearizability(model string, limit time.Duration) func() sim.Monitor {
	if limit <= 0 {
		limit = DefaultLinLimit
	}
	return func() sim.Monitor { return &Linearizability{model: model, limit: limit} }
}

// Step does nothing: the history is judged whole, at the end.
func (l *Linearizability) Step(w *sim.World) *sim.Violation { return nil }

// End checks the history.
func (l *Linearizability) End(w *sim.World) *sim.Violation {
	f := l.judge(w.History())
	if f == nil {
		return nil
	}
	v := violation(w, PropLinearizable, f.message)
	v.Details = f.details
	return v
}

// finding is why a history fails.
type finding struct {
	message string
	details []string
}

// judge checks a history, sets the outcome, and explains a failure.
func (l *Linearizability) judge(history []node.Op) *finding {
	model, err := Model(l.model)
	if err == nil {
		l.ops, err = Operations(l.model, history)
	}
	if err != nil {
		l.outcome = Fail
		return &finding{message: err.Error()}
	}
	unknown := 0
	for _, op := range l.ops {
		if op.Output == nil {
			unknown++
		}
	}
	total := len(l.ops)
	l.ops, _ = Unobservable(l.ops)
	switch porcupine.CheckOperationsTimeout(model, l.ops, l.limit) {
	case porcupine.Ok:
		l.outcome = Pass
		return nil
	case porcupine.Unknown:
		l.outcome = Unknown
		return nil
	}
	l.outcome = Fail
	f := &finding{message: fmt.Sprintf("the history of %d client operations (%d with unknown outcome, %d of them unobservable and left out) is not linearizable as a %s",
		total, unknown, total-len(l.ops), l.model)}
	// Search again, keeping the partial linearizations that explain the failure.
	var res porcupine.CheckResult
	res, l.info = porcupine.CheckOperationsVerbose(model, l.ops, 4*l.limit)
	if res == porcupine.Illegal {
		f.details = explain(l.info, byKey(l.ops))
	}
	return f
}

// Verdict is the outcome of the check.
func (l *Linearizability) Verdict() (string, Outcome) { return PropLinearizable, l.outcome }

// Explain writes porcupine's HTML visualization of a history that is not linearizable beside
// the capsule: base with ".html" in place of its extension.
func (l *Linearizability) Explain(base string) (paths []string, err error) {
	if l.outcome != Fail || l.info.PartialLinearizations() == nil {
		return nil, nil
	}
	model, err := Model(l.model)
	if err != nil {
		return nil, err
	}
	path := strings.TrimSuffix(base, ".capsule") + ".linearizability.html"
	defer func() { // the visualization is an aid; a failure to draw it must not stop a campaign
		if r := recover(); r != nil {
			os.Remove(path)
			paths, err = nil, fmt.Errorf("drawing %s: %v", path, r)
		}
	}()
	if err := porcupine.VisualizePath(model, l.info, path); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

// explain describes why a history is not linearizable, from porcupine's partial
// linearizations: for each key that fails, the longest prefix of operations that can be put in
// a legal order, and the answered operations that fit nowhere after it. parts is the history
// partitioned as the model does it, in the same order.
func explain(info porcupine.LinearizationInfo, parts [][]porcupine.Operation) []string {
	var lines []string
	for i, part := range info.PartialLinearizationsOperations() {
		best := longest(part)
		all := append([]porcupine.Operation(nil), parts[i]...)
		sort.SliceStable(all, func(i, j int) bool { return all[i].Call < all[j].Call })
		if len(best) == len(all) {
			continue // this key is linearizable
		}
		key := all[0].Input.(kv.Op).Key
		in := map[porcupine.Operation]bool{}
		for _, op := range best {
			in[op] = true
		}
		lines = append(lines, fmt.Sprintf("the longest legal order of key %q's operations covers %d of %d; it ends:", key, len(best), len(all)))
		for _, op := range tail(best, 12) {
			lines = append(lines, "  "+opLine(op))
		}
		lines = append(lines, "  answered operations it leaves out (none of them can come next):")
		n := 0
		for _, op := range all {
			if !in[op] && op.Output != nil {
				if n++; n > 8 {
					lines = append(lines, "  ...")
					break
				}
				lines = append(lines, "  "+opLine(op))
			}
		}
	}
	return lines
}

// longest picks the longest partial linearization of a key, the first in a fixed order among
// equals, so that reports do not depend on porcupine's map order.
func longest(part [][]porcupine.Operation) []porcupine.Operation {
	var best []porcupine.Operation
	for _, p := range part {
		if len(p) > len(best) || len(p) == len(best) && len(p) > 0 && before(p, best) {
			best = p
		}
	}
	return best
}

// before orders sequences of operations by their calls (time, then client).
func before(a, b []porcupine.Operation) bool {
	for i := range a {
		if a[i].Call != b[i].Call {
			return a[i].Call < b[i].Call
		}
		if a[i].ClientId != b[i].ClientId {
			return a[i].ClientId < b[i].ClientId
		}
	}
	return false
}

func tail(ops []porcupine.Operation, n int) []porcupine.Operation {
	if len(ops) <= n {
		return ops
	}
	return ops[len(ops)-n:]
}

func opLine(op porcupine.Operation) string {
	ret := "never answered"
	if op.Output != nil {
		ret = seconds(time.Duration(op.Return))
	}
	return fmt.Sprintf("c%-3d %-28s [%s, %s]", op.ClientId+1, describeOp(op.Input, op.Output), seconds(time.Duration(op.Call)), ret)
}
