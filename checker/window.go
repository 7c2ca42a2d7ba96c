package checker

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
)

// Judging a long history in windows.
//
// An hour of Raft under load has about 200,000 client operations. Porcupine's search over the
// whole history at the end of the run takes longer than its time limit (the verdict comes back
// unknown), and keeping the history whole makes the run's memory grow with its length. So the
// linearizability monitor judges the history as it grows, key by key (the spec's Key), in
// windows that it closes at quiescent points, and a streamed run (node.Protocol.Streamed)
// forgets the operations it has judged.
//
// What is sound, exactly. A window of a key is closed just before an operation o of that key
// whose call comes strictly after the return of every answered operation of the window (and
// every operation of the key invoked before o has its outcome: the monitor takes operations in
// invocation order, once their outcome is known). Every answered operation before the cut then
// precedes, in real time, every operation after it, so in any linearization of the key's whole
// history they come first: the history is linearizable exactly when the window is, ending in
// some state s, and the rest is linearizable starting from s. The window may end in more than
// one state (the last of two concurrent writes is either), so the checker carries the set of
// all of them across the cut, and judges the next window from any of them (porcupine's
// nondeterministic models). It finds the set with porcupine itself: it asks whether the window
// linearizes followed by a synthetic last operation that only a state outside the states found
// so far accepts; each linearization porcupine finds, replayed through the spec, names new
// end states, until porcupine answers that none is left (Illegal). Nothing is guessed: the set
// is every state in which some linearization of the window ends.
//
// An operation of unknown outcome (its client gave up, Return at infinity) may take effect at
// any point after its call, in this window or any later one, or never; and at most once. The
// checker tracks each such operation in the states (a bit per operation, set once it took
// effect), carries it into the following windows as an operation that may take effect
// anywhere in them, and a state in which it took effect already treats it as done. Once it has
// taken effect in every state the window may end in, it is dropped. One that no answered
// operation of a window may have seen (the spec's Prune drops it from the window's operations)
// takes no part in that window: it waits, untracked, for a window that sees it, where it may
// take effect from the window's start, which is the same as at the end of the window before;
// a history that never sees it is judged without it, as Prune judges a whole history. This
// trusts Prune to judge by what answered operations return and compare, as kv.Unobservable
// does: an operation it drops from a window, put after the window, changes nothing the
// window's answered operations saw, from whatever state the window starts in.
//
// The checker gives up cutting (and the window grows on, to be judged whole at a later cut or at
// the end) where the set of end states would exceed maxStates, or the operations of unknown
// outcome tracked would exceed maxCarried: correct either way, only less flat. A window whose
// check runs out of time is unknown, and so is the verdict, unless another window fails. A
// history of at most wholeMax operations is never cut: it is judged whole when the run ends,
// exactly as before (Prune over the whole history included). The monitor holds every
// operation until its first cut, and the operations of each key's open window after it; a
// key with fewer than windowMin operations between quiescent points keeps its window open.

const (
	// wholeMax is how many operations a history has before the checker begins to cut it:
	// shorter histories (every campaign's short runs) are judged whole, as they always were.
	// windowMin is how many operations of one key a window holds before the checker tries to
	// close it at the next quiescent point.
	wholeMax  = 4096
	windowMin = 256
	// maxStates bounds the states a window may end in for the checker to cut there;
	// maxCarried the operations of unknown outcome it carries across cuts, per key.
	maxStates  = 16
	maxCarried = 64
	// feedEvery is how many new operations the monitor waits for before it takes them in.
	feedEvery = 64
)

// wstate is a state of the spec's object in a windowed check, with the operations of unknown
// outcome that have taken effect in it (bit b set: the operation tracked by b has).
type wstate struct {
	S       any
	Applied uint64
}

// tracked is the input of an operation of unknown outcome that may take effect at most once,
// in this window or a later one.
type tracked struct {
	In  any
	Bit uint8
}

// endsOutside is the input of the synthetic operation that ends a window: only a state that is
// none of Known accepts it.
type endsOutside struct{ Known []wstate }

// plain is the operation's own input, unwrapped.
func plain(in any) any {
	if t, ok := in.(tracked); ok {
		return t.In
	}
	return in
}

// carriedOp is an operation of unknown outcome that may still take effect: tracked, by bit
// of the states, once a window saw it (it took effect there in the states whose bit is set).
type carriedOp struct {
	op      node.Op
	bit     uint8
	tracked bool
}

// keyWindow is the open window of one key.
type keyWindow struct {
	key     string
	ops     []node.Op
	maxRet  time.Duration // the latest return of an answered operation in ops, -1 if none
	start   []wstate      // the states the window may start in
	carried []carriedOp   // operations of unknown outcome from earlier windows, in invocation order
	retry   int           // try to cut only once ops holds this many
	from    time.Duration // the cut the window starts at
	dead    bool          // its check came back unknown: the key is no longer judged
}

// windows judges a history fed to it operation by operation, in invocation order, each once
// its outcome is known.
type windows struct {
	spec  *node.Spec
	limit time.Duration
	whole int // cut only once this many operations were fed
	min   int
	keys  map[string]*keyWindow

	first   []node.Op // the whole history, until the first cut
	cuts    int
	total   int // operations fed
	unknown int // of which with unknown outcome
	timeout bool
	broken  *finding // an operation of the wrong types, after a cut

	fail    *windowFailure // the first window that is not linearizable
	guard   guard          // a panic of the spec on porcupine's goroutines (lin.go)
	outcome Outcome
	model   porcupine.Model
	info    porcupine.LinearizationInfo
}

type windowFailure struct {
	key      string
	from     time.Duration
	ops      int
	hist     []porcupine.Operation
	model    porcupine.Model
	starting int // states it may have started in
}

func newWindows(spec *node.Spec, limit time.Duration, whole, min int) *windows {
	return &windows{spec: spec, limit: limit, whole: whole, min: min}
}

// windowsOf is the windows of spec with the monitor's thresholds, made in place (the monitor
// holds them, rather than a pointer to them: one allocation fewer per run).
func windowsOf(spec *node.Spec, limit time.Duration) windows {
	return windows{spec: spec, limit: limit, whole: wholeMax, min: windowMin}
}

// add takes in the next operation of the history.
//
// Until the history is longer than ws.whole it is only kept whole (no window can be cut
// before), and the windows of its keys are made when it grows past that: a short history, as
// every run of a small scenario has, is judged whole without them.
func (ws *windows) add(op node.Op) {
	ws.total++
	if !op.Done {
		ws.unknown++
	}
	if ws.first != nil || ws.cuts == 0 {
		ws.first = append(ws.first, op)
	}
	if ws.total <= ws.whole {
		return
	}
	if ws.total == ws.whole+1 {
		for i, o := range ws.first[:len(ws.first)-1] {
			ws.keyed(o, i+1)
		}
	}
	ws.keyed(op, ws.total)
}

// grow makes room for n more operations in the history kept whole, if it is still kept.
func (ws *windows) grow(n int) {
	if ws.first != nil || ws.cuts == 0 {
		ws.first = slices.Grow(ws.first, n)
	}
}

// keyed takes operation op, the nth of the history, into the window of its key, first closing
// the window where that is sound (see above).
func (ws *windows) keyed(op node.Op, n int) {
	if ws.fail != nil || ws.broken != nil {
		return
	}
	if err := checkTypes(ws.spec, op); err != nil {
		if ws.cuts > 0 { // otherwise the whole history's check reports it, as it always did
			ws.broken = &finding{message: fmt.Sprintf("client c%d's operation %d: %v", op.Client, op.Seq, err)}
		}
		ws.cuts = -1 // never cut from here: the whole history is judged
		return
	}
	if ws.cuts < 0 {
		return
	}
	key := ""
	if ws.spec.Key != nil {
		key = ws.spec.Key(op.Input)
	}
	kw := ws.keys[key]
	if kw == nil {
		if ws.keys == nil { // made once the history is long enough to be cut (see add)
			ws.keys = map[string]*keyWindow{}
		}
		kw = &keyWindow{key: key, maxRet: -1, start: []wstate{{S: ws.spec.Init()}}, retry: ws.min}
		ws.keys[key] = kw
	}
	if kw.dead {
		return
	}
	if n > ws.whole && len(kw.ops) >= kw.retry && kw.maxRet < op.Call {
		ws.cut(kw, op.Call)
		if ws.fail != nil {
			return
		}
	}
	kw.ops = append(kw.ops, op)
	if op.Done {
		kw.maxRet = max(kw.maxRet, op.Return)
	}
}

// model is the porcupine model of a window: the spec over wstates, from any of start.
func (ws *windows) windowModel(start []wstate) porcupine.Model {
	spec := ws.spec
	init := make([]any, len(start))
	for i, s := range start {
		init[i] = s
	}
	nm := porcupine.NondeterministicModel{
		Init: func() []any { return init },
		Step: func(state, input, output any) []any {
			st := state.(wstate)
			switch in := input.(type) {
			case tracked:
				if st.Applied&(1<<in.Bit) != 0 {
					return []any{st} // it took effect already
				}
				next, _, ok := ws.guard.step(spec, st.S, in.In)
				if !ok {
					return nil
				}
				return []any{wstate{S: next, Applied: st.Applied | 1<<in.Bit}}
			case endsOutside:
				for _, k := range in.Known {
					if reflect.DeepEqual(k, st) {
						return nil
					}
				}
				return []any{st}
			}
			next, got, ok := ws.guard.step(spec, st.S, input)
			if !ok || !unknown(output) && !spec.Same(got, output) {
				return nil
			}
			return []any{wstate{S: next, Applied: st.Applied}}
		},
		Equal:             func(a, b any) bool { return reflect.DeepEqual(a, b) },
		Hash:              func(state any) uint64 { return sim.HashOf(state) },
		DescribeOperation: describeOp,
		DescribeState: func(state any) string {
			st := state.(wstate)
			s := sim.Summary(st.S)
			if spec.Describe != nil {
				s = spec.Describe(st.S)
			}
			if st.Applied != 0 {
				s += fmt.Sprintf(" (unknown-outcome operations %b taken effect)", st.Applied)
			}
			return s
		},
	}
	return nm.ToModel()
}

// operations is the window's history for porcupine, and the operations of unknown outcome
// that come out of it still pending. Those carried from earlier windows come first (they may
// take effect anywhere in it), then the window's own. An operation of unknown outcome takes
// part, tracked by a bit of the states, only where an answered operation of the window may
// have seen it (the spec's Prune says which; without one, all do): one that none saw can take
// effect after the window as well as inside it, so it waits, untracked, for a window that
// sees it, and a history whose last window none saw it in is judged without it, as Prune
// judges a whole history. ok is false when more operations need a bit than a state has.
func (ws *windows) operations(kw *keyWindow) (hist []porcupine.Operation, pending []carriedOp, ok bool) {
	all := make([]node.Op, 0, len(kw.carried)+len(kw.ops))
	for _, c := range kw.carried {
		all = append(all, c.op)
	}
	all = append(all, kw.ops...)
	seen := ws.observed(all)
	var used uint64
	for _, c := range kw.carried {
		if c.tracked {
			used |= 1 << c.bit
		}
	}
	for i, op := range all {
		var c carriedOp
		if i < len(kw.carried) {
			c = kw.carried[i]
		} else if !op.Done {
			c = carriedOp{op: op}
		}
		p := porcupine.Operation{ClientId: int(op.Client) - 1, Input: op.Input, Call: int64(op.Call), Return: math.MaxInt64,
			Output: unknownOutcome{}}
		if i < len(kw.carried) {
			p.Call = -1 // carried: it may take effect anywhere in this window
		}
		switch {
		case op.Done:
			p.Output, p.Return = op.Output, int64(op.Return)
			hist = append(hist, p)
			continue
		case seen[i] && !c.tracked:
			if used == math.MaxUint64 {
				return nil, nil, false
			}
			for used&(1<<c.bit) != 0 {
				c.bit++
			}
			used |= 1 << c.bit
			c.tracked = true
		}
		pending = append(pending, c)
		if seen[i] {
			p.Input = tracked{In: op.Input, Bit: c.bit}
			hist = append(hist, p)
		}
	}
	return hist, pending, true
}

// observed says which operations of unknown outcome among ops an answered one may have seen:
// those the spec's Prune keeps (all of them, without a Prune).
func (ws *windows) observed(ops []node.Op) []bool {
	seen := make([]bool, len(ops))
	if ws.spec.Prune == nil {
		for i := range seen {
			seen[i] = true
		}
		return seen
	}
	kept := ws.spec.Prune(slices.Clone(ops))
	j := 0 // Prune keeps a subsequence, in order
	for i, op := range ops {
		if j < len(kept) && reflect.DeepEqual(op, kept[j]) {
			seen[i] = true
			j++
		}
	}
	return seen
}

// cut closes kw's window before an operation called at at, if it can: it judges the window and
// finds the states it may end in, which the next window starts from.
func (ws *windows) cut(kw *keyWindow, at time.Duration) {
	hist, pending, ok := ws.operations(kw)
	if !ok {
		kw.retry = 2 * len(kw.ops)
		return
	}
	last := int64(kw.maxRet)
	for _, p := range hist {
		last = max(last, p.Call)
	}
	end := porcupine.Operation{ClientId: -1, Call: last + 1, Return: last + 2, Output: true}
	model := ws.windowModel(kw.start)
	var known []wstate
	for range maxStates + 1 {
		end.Input = endsOutside{Known: known}
		res, info := porcupine.CheckOperationsVerbose(model, append(hist, end), ws.limit)
		ws.guard.rethrow()
		switch res {
		case porcupine.Unknown:
			ws.timeout, kw.dead = true, true
			kw.ops, kw.carried, kw.start = nil, nil, nil
			return
		case porcupine.Illegal:
			if len(known) == 0 {
				ws.failed(kw)
				return
			}
			ws.closed(kw, at, known, pending)
			return
		}
		found := ws.endStates(kw.start, append(hist, end), info)
		if len(found) == 0 {
			break // cannot happen: porcupine's linearization ends in a state outside known
		}
		known = append(known, found...)
		if len(known) > maxStates {
			break
		}
	}
	kw.retry = 2 * len(kw.ops) // too many end states: judge a longer window later
}

// endStates replays the complete linearization porcupine found of hist, whose last operation
// is the synthetic end, from every start state, and returns the states the end accepts.
func (ws *windows) endStates(start []wstate, hist []porcupine.Operation, info porcupine.LinearizationInfo) []wstate {
	endID := len(hist) - 1
	var order []int
	for _, lin := range info.PartialLinearizations()[0] {
		if len(lin) == len(hist) {
			order = lin
			break
		}
	}
	model := ws.windowModel(start)
	state := model.Init()
	for _, id := range order {
		if id == endID {
			_, accepted := model.Step(state, hist[id].Input, hist[id].Output)
			var out []wstate
			for _, s := range accepted.([]any) {
				out = append(out, s.(wstate))
			}
			return out
		}
		ok, next := model.Step(state, hist[id].Input, hist[id].Output)
		if !ok {
			return nil
		}
		state = next
	}
	return nil
}

// closed starts kw's next window at at, from the states known, carrying the operations of
// unknown outcome that have not taken effect in all of them.
func (ws *windows) closed(kw *keyWindow, at time.Duration, known []wstate, pending []carriedOp) {
	done := uint64(math.MaxUint64)
	for _, s := range known {
		done &= s.Applied
	}
	var carried []carriedOp
	tracked := 0
	for _, c := range pending {
		if c.tracked && done&(1<<c.bit) != 0 {
			continue // it took effect in every state the window may end in
		}
		carried = append(carried, c)
		if c.tracked {
			tracked++
		}
	}
	if tracked > maxCarried {
		kw.retry = 2 * len(kw.ops)
		return
	}
	var start []wstate
	for _, s := range known {
		s.Applied &^= done
		if !slices.ContainsFunc(start, func(t wstate) bool { return reflect.DeepEqual(s, t) }) {
			start = append(start, s)
		}
	}
	ws.cuts++
	ws.first = nil
	clear(kw.ops)
	kw.ops, kw.carried, kw.start = kw.ops[:0], carried, start
	kw.maxRet, kw.retry, kw.from = -1, ws.min, at
}

// failed records that kw's window is not linearizable from any state it may start in.
func (ws *windows) failed(kw *keyWindow) {
	hist, _, _ := ws.operations(kw)
	ws.fail = &windowFailure{key: kw.key, from: kw.from, ops: len(hist), hist: hist,
		model: ws.windowModel(kw.start), starting: len(kw.start)}
}

// finish judges the windows left open when the history is complete, and returns why it is not
// linearizable, or nil.
func (ws *windows) finish() *finding {
	if ws.cuts <= 0 && ws.broken == nil { // never cut: the whole history, as it always was
		if witnessedWhole(ws.spec, ws.first) { // judge's verdict, without a judge to make
			ws.outcome, ws.model, ws.info = Pass, porcupine.Model{}, porcupine.LinearizationInfo{}
			return nil
		}
		l := &Linearizability{spec: ws.spec, limit: ws.limit}
		f := l.judge(ws.first)
		ws.outcome, ws.model, ws.info = l.outcome, l.model, l.info
		return f
	}
	if ws.broken != nil {
		ws.outcome = Fail
		return ws.broken
	}
	keys := make([]string, 0, len(ws.keys))
	for k := range ws.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if ws.fail != nil {
			break
		}
		kw := ws.keys[k]
		if kw.dead {
			continue
		}
		hist, _, ok := ws.operations(kw)
		if !ok {
			ws.timeout = true // more operations of unknown outcome than a state tracks: undecided
			continue
		}
		res := porcupine.CheckOperationsTimeout(ws.windowModel(kw.start), hist, ws.limit)
		ws.guard.rethrow()
		switch res {
		case porcupine.Unknown:
			ws.timeout = true
		case porcupine.Illegal:
			ws.failed(kw)
		}
	}
	if ws.fail == nil {
		ws.outcome = Pass
		if ws.timeout {
			ws.outcome = Unknown
		}
		return nil
	}
	ws.outcome = Fail
	fl := ws.fail
	part := "the object's"
	if ws.spec.Key != nil {
		part = fmt.Sprintf("key %q's", fl.key)
	}
	f := &finding{message: fmt.Sprintf("the history of %d client operations (%d with unknown outcome) is not linearizable as a %s: "+
		"%s %d operations from %s on fit no legal order from any of the %d states the operations before them may have left "+
		"(the history was judged in windows that begin where no operation of the key was pending)",
		ws.total, ws.unknown, ws.spec.Name, part, fl.ops, seconds(fl.from), fl.starting)}
	res, info := porcupine.CheckOperationsVerbose(fl.model, fl.hist, 4*ws.limit)
	ws.guard.rethrow()
	ws.model, ws.info = fl.model, info
	if res == porcupine.Illegal {
		f.details = explain(info, ws.spec, [][]porcupine.Operation{fl.hist})
	}
	return f
}

// judgeWindowed judges a whole history as the monitor does, but cutting from its first
// operation on, in windows of at least min operations per key (for tests: the verdict must be
// the whole history's).
func judgeWindowed(spec *node.Spec, history []node.Op, limit time.Duration, min int) (Outcome, *finding, int) {
	ws := newWindows(spec, limit, 0, min)
	for _, op := range history {
		ws.add(op)
	}
	f := ws.finish()
	return ws.outcome, f, max(ws.cuts, 0)
}

// JudgeWindowed judges a whole history as the monitor of a long run does, in windows of at
// least min operations per key from its first operation on, and says how many cuts it made: for tests that hold the
// windowed verdict to the whole history's (JudgeHistory).
func JudgeWindowed(spec *node.Spec, history []node.Op, limit time.Duration, min int) (o Outcome, message string, details []string, cuts int) {
	if limit <= 0 {
		limit = DefaultLinLimit
	}
	o, f, cuts := judgeWindowed(spec, history, limit, max(min, 1))
	if f != nil {
		return o, f.message, f.details, cuts
	}
	return o, "", nil, cuts
}
