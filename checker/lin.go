package checker

import (
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// PropLinearizable is the property of client histories.
const PropLinearizable = "linearizability"

// DefaultLinLimit is how long one linearizability check may take before it comes back unknown.
const DefaultLinLimit = 2 * time.Second

// Porcupine returns the porcupine model of a sequential specification. An operation whose
// outcome is unknown (its output is nil) may take effect or not: its output is not checked.
func Porcupine(spec *node.Spec) porcupine.Model { return porcupineModel(spec, nil) }

// porcupineModel is Porcupine with the spec's Step guarded by g (nil: not guarded).
func porcupineModel(spec *node.Spec, g *guard) porcupine.Model {
	m := porcupine.Model{
		Init: spec.Init,
		Step: func(state, input, output any) (bool, any) {
			next, got, ok := g.step(spec, state, input)
			if !ok {
				return false, state // the spec panicked: g says so once porcupine returns
			}
			if unknown(output) {
				return true, next
			}
			return spec.Same(got, output), next
		},
		Equal:             func(a, b any) bool { return reflect.DeepEqual(a, b) },
		Hash:              func(state any) uint64 { return sim.HashOf(state) },
		DescribeOperation: describeOp,
		DescribeState: func(state any) string {
			if spec.Describe != nil {
				return spec.Describe(state)
			}
			return sim.Summary(state)
		},
	}
	if spec.Key != nil {
		m.Partition = func(history []porcupine.Operation) [][]porcupine.Operation { return byKey(spec, history) }
	}
	return m
}

// unknownOutcome is the output, in porcupine's form, of an operation whose outcome is unknown:
// never an answer, since an answered operation may answer nil and must then be checked.
type unknownOutcome struct{}

func unknown(output any) bool {
	_, ok := output.(unknownOutcome)
	return ok
}

// specPanic is a panic of the spec's own Step, which porcupine calls on goroutines of its own,
// where a panic would end the process rather than fail the run.
type specPanic struct {
	spec string
	r    any
}

func (p specPanic) String() string {
	return fmt.Sprintf("the sequential spec %s panicked: %v", p.spec, p.r)
}

// guard keeps the first panic of a spec's Step on porcupine's goroutines, for the checker to
// raise again on its own (rethrow), where the run's guard turns it into a failure of the run
// with its seed. One guard serves one monitor, that is one run.
type guard struct{ p atomic.Pointer[specPanic] }

// step is spec.Step, with a panic kept in g (ok false); a nil g does not guard.
func (g *guard) step(spec *node.Spec, state, input any) (next, out any, ok bool) {
	if g == nil {
		next, out = spec.Step(state, input)
		return next, out, true
	}
	defer func() {
		if r := recover(); r != nil {
			g.p.CompareAndSwap(nil, &specPanic{spec: spec.Name, r: r})
			ok = false
		}
	}()
	next, out = spec.Step(state, input)
	return next, out, true
}

// rethrow raises the spec's panic, if porcupine met one, on the caller's goroutine.
func (g *guard) rethrow() {
	if p := g.p.Load(); p != nil {
		panic(p.String())
	}
}

func describeOp(input, output any) string {
	input = plain(input)
	if unknown(output) {
		return fmt.Sprintf("%s -> ? (unknown)", sim.Summary(input))
	}
	return fmt.Sprintf("%s -> %s", sim.Summary(input), sim.Summary(output))
}

// byKey partitions a history by the spec's key, in key order.
func byKey(spec *node.Spec, history []porcupine.Operation) [][]porcupine.Operation {
	groups := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := spec.Key(op.Input)
		groups[k] = append(groups[k], op)
	}
	keys := slices.Sorted(maps.Keys(groups))
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = groups[k]
	}
	return out
}

// partitions splits a history as the spec's porcupine model does, for explanations.
func partitions(spec *node.Spec, history []porcupine.Operation) [][]porcupine.Operation {
	if spec.Key == nil {
		return [][]porcupine.Operation{history}
	}
	return byKey(spec, history)
}

// Operations turns a client history into porcupine's form, after checking that every
// operation and answer is of the spec's types. An operation whose outcome is unknown (the
// client gave up, or the run ended first) returns at infinity with no output, as porcupine
// expects: it may take effect at any point after its call, or never.
func Operations(spec *node.Spec, history []node.Op) ([]porcupine.Operation, error) {
	ops := make([]porcupine.Operation, 0, len(history))
	for _, h := range history {
		if err := opTypes(spec, h); err != nil {
			return nil, err
		}
		op := porcupine.Operation{ClientId: int(h.Client) - 1, Input: h.Input, Call: int64(h.Call), Return: math.MaxInt64,
			Output: unknownOutcome{}}
		if h.Done {
			op.Output, op.Return = h.Output, int64(h.Return)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// checkTypes is the spec's CheckTypes of an operation and, if it was answered, its answer.
func checkTypes(spec *node.Spec, h node.Op) error {
	if h.Done {
		return spec.CheckAnswered(h.Input, h.Output)
	}
	return spec.CheckTypes(h.Input, nil)
}

// opTypes checks that an operation and its answer, if it has one, are of the spec's types.
func opTypes(spec *node.Spec, h node.Op) error {
	if err := checkTypes(spec, h); err != nil {
		return fmt.Errorf("client c%d's operation %d: %w", h.Client, h.Seq, err)
	}
	return nil
}

// Linearizability checks that a run's client history is linearizable against the workload's
// model. The check is porcupine's, bounded by a time limit: a check that runs out of time is
// Unknown, which a campaign reports apart from pass and fail.
//
// A short history is judged whole when the run ends. A long one is judged as it grows, in
// windows that begin where no operation of a key is pending (see window.go, which says
// exactly what is sound), and a streamed run (node.Protocol.Streamed) forgets what has been
// judged. Either way the verdict is reported when the run ends, never in the middle: porcupine
// searches on goroutines of its own against a wall-clock deadline, and that must never reach
// the run. The trace and its hash do not depend on the check; only an Unknown verdict depends
// on the machine's speed.
type Linearizability struct {
	spec    *node.Spec
	limit   time.Duration
	outcome Outcome
	ops     []porcupine.Operation
	info    porcupine.LinearizationInfo

	win   windows // the history judged so far
	fed   int     // operations taken in
	lost  bool    // the world forgot operations before they were taken in
	model porcupine.Model
}

// NewLinearizability returns the factory of a linearizability monitor for spec with a time
// limit per check (zero: DefaultLinLimit).
func NewLinearizability(spec *node.Spec, limit time.Duration) func() sim.Monitor {
	if limit <= 0 {
		limit = DefaultLinLimit
	}
	return func() sim.Monitor {
		return &Linearizability{spec: spec, limit: limit, win: windowsOf(spec, limit)}
	}
}

// Step takes in the operations whose outcome is known, in invocation order, every
// feedEvery of them, and lets a streamed run forget them.
func (l *Linearizability) Step(w *sim.World) *sim.Violation {
	if w.OpCount()-l.fed >= feedEvery {
		l.feed(w, w.FirstPendingOp())
	}
	return nil
}

func (l *Linearizability) feed(w *sim.World, upto int) {
	h, base := w.History(), w.HistoryBase()
	if l.fed < base {
		l.lost = true // something else made the world forget them: nothing can be judged
		l.fed = base
	}
	if upto > l.fed {
		l.win.grow(upto - l.fed)
	}
	for ; l.fed < upto; l.fed++ {
		l.win.add(h[l.fed-base])
	}
	w.ForgetHistory(l.fed)
}

// End judges what is left of the history and reports the verdict.
func (l *Linearizability) End(w *sim.World) *sim.Violation {
	l.feed(w, w.OpCount())
	if l.lost {
		l.outcome = Unknown
		return nil
	}
	f := l.win.finish()
	l.outcome, l.info, l.model = l.win.outcome, l.win.info, l.win.model
	if f == nil {
		return nil
	}
	v := violation(w, PropLinearizable, f.message)
	v.Details = f.details
	return v
}

// JudgeHistory checks a history on its own, outside a run, against spec within limit (zero:
// DefaultLinLimit): the explorer judges the history of every state it reaches this way. For a
// history that fails it says why, as the monitor does.
func JudgeHistory(spec *node.Spec, history []node.Op, limit time.Duration) (o Outcome, message string, details []string) {
	if limit <= 0 {
		limit = DefaultLinLimit
	}
	l := &Linearizability{spec: spec, limit: limit}
	if f := l.judge(history); f != nil {
		return l.outcome, f.message, f.details
	}
	return l.outcome, "", nil
}

// witnessedWhole reports whether judge passes history on a greedy witness (linwitness.go),
// before it makes a model or asks porcupine: for a spec that prunes nothing, with operations
// of its types. Where it says no, judge decides.
func witnessedWhole(spec *node.Spec, history []node.Op) bool {
	if spec.Prune != nil {
		return false
	}
	for _, h := range history {
		if opTypes(spec, h) != nil {
			return false
		}
	}
	return witnessed(spec, history)
}

// finding is why a history fails.
type finding struct {
	message string
	details []string
}

// judge checks a history, sets the outcome, and explains a failure.
func (l *Linearizability) judge(history []node.Op) *finding {
	unknown := 0
	for _, op := range history {
		if !op.Done {
			unknown++
		}
	}
	total := len(history)
	if l.spec.Prune != nil {
		history = l.spec.Prune(history)
	}
	for _, h := range history {
		if err := opTypes(l.spec, h); err != nil {
			l.outcome, l.model = Fail, Porcupine(l.spec)
			return &finding{message: err.Error()}
		}
	}
	if witnessed(l.spec, history) { // a linearization found greedily (linwitness.go)
		l.outcome = Pass
		return nil
	}
	g := &l.win.guard
	model := porcupineModel(l.spec, g)
	l.model = model
	// The types were checked above; porcupine's verdict, remembered for short histories
	// (linmemo.go).
	l.ops, _ = Operations(l.spec, history)
	res := checkOperations(l.spec, model, l.ops, l.limit)
	g.rethrow()
	switch res {
	case porcupine.Ok:
		l.outcome = Pass
		return nil
	case porcupine.Unknown:
		l.outcome = Unknown
		return nil
	}
	l.outcome = Fail
	f := &finding{message: fmt.Sprintf("the history of %d client operations (%d with unknown outcome, %d of them unobservable and left out) is not linearizable as a %s",
		total, unknown, total-len(l.ops), l.spec.Name)}
	// Search again, keeping the partial linearizations that explain the failure.
	res, l.info = porcupine.CheckOperationsVerbose(model, l.ops, 4*l.limit)
	g.rethrow()
	if res == porcupine.Illegal {
		f.details = explain(l.info, l.spec, partitions(l.spec, l.ops))
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
	model := l.model
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
func explain(info porcupine.LinearizationInfo, spec *node.Spec, parts [][]porcupine.Operation) []string {
	var lines []string
	for i, part := range info.PartialLinearizationsOperations() {
		best := longest(part)
		all := append([]porcupine.Operation(nil), parts[i]...)
		sort.SliceStable(all, func(i, j int) bool { return all[i].Call < all[j].Call })
		if len(best) == len(all) {
			continue // this key is linearizable
		}
		part := "the object's"
		if spec.Key != nil {
			part = fmt.Sprintf("key %q's", spec.Key(plain(all[0].Input)))
		}
		in := map[porcupine.Operation]bool{}
		for _, op := range best {
			in[op] = true
		}
		lines = append(lines, fmt.Sprintf("the longest legal order of %s operations covers %d of %d; it ends:", part, len(best), len(all)))
		for _, op := range tail(best, 12) {
			lines = append(lines, "  "+opLine(op))
		}
		lines = append(lines, "  answered operations it leaves out (none of them can come next):")
		n := 0
		for _, op := range all {
			if !in[op] && !unknown(op.Output) {
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
	if !unknown(op.Output) {
		ret = seconds(time.Duration(op.Return))
	}
	return fmt.Sprintf("c%-3d %-28s [%s, %s]", op.ClientId+1, describeOp(op.Input, op.Output), seconds(time.Duration(op.Call)), ret)
}
