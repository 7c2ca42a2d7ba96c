package view

import (
	"fmt"
	"strings"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// run is a capsule's run replayed under observation: its result, and what the watcher saw
// after each event.
type run struct {
	name     string
	untimed  bool
	proto    *node.Protocol
	n        int
	result   sim.Result
	diverged string // why the replay did not follow the capsule, if it did not
	watch    *watcher
}

// replay re-runs a capsule from `run`, `shrink` or `explore` with a full trace and a watcher.
func replay(c *capsule.Capsule, text *table, states *stateTable) (*run, error) {
	if c.Scenario == scenarios.ExploreScenario {
		return replayUntimed(c, text, states)
	}
	s, err := scenarios.FromCapsule(c)
	if err != nil {
		return nil, err
	}
	rec := sim.NewRecorded(c.Choices)
	log := &choiceLog{inner: rec}
	w := newWatcher(s.Protocol, s.Cluster.N, text, states, log)
	cfg := s.Config()
	cfg.Trace = sim.TraceFull
	cfg.Observer = w
	r := &run{name: s.Name(), proto: s.Protocol, n: s.Cluster.N, result: sim.Run(cfg, log), watch: w}
	if rec.Diverged() {
		r.diverged = "the run asked for choices the capsule does not hold"
	}
	return r, nil
}

func replayUntimed(c *capsule.Capsule, text *table, states *stateTable) (*run, error) {
	e, init, err := scenarios.ExploreFromCapsule(c)
	if err != nil {
		return nil, err
	}
	path := make([]int, len(c.Choices))
	for i, a := range c.Choices {
		path[i] = int(a)
	}
	u := e.Untimed()
	ur, err := u.Replay(init, path)
	r := &run{name: e.Name(), untimed: true, proto: e.Protocol, n: e.Cluster.N,
		result: sim.Result{TraceHash: ur.TraceHash, Events: ur.Steps, Violation: ur.Violation, Trace: ur.Trace}}
	if err != nil {
		r.diverged = err.Error()
	}
	r.watch = newWatcher(e.Protocol, e.Cluster.N, text, states, nil)
	if err := u.Observe(init, path, r.watch); err != nil && r.diverged == "" {
		r.diverged = err.Error()
	}
	return r, nil
}

// choiceLog passes a timed run's choices through, writing each down for the page.
type choiceLog struct {
	inner sim.Chooser
	log   []string
}

func (c *choiceLog) Choose(p sim.Purpose, n int) int {
	v := c.inner.Choose(p, n)
	if n > 1 {
		c.log = append(c.log, fmt.Sprintf("%s: %d of 0..%d", p, v, n-1))
	}
	return v
}

func (c *choiceLog) Flip(p sim.Purpose, prob float64) bool {
	v := c.inner.Flip(p, prob)
	answer := "no"
	if v {
		answer = "yes"
	}
	c.log = append(c.log, fmt.Sprintf("%s: %s (a coin with p=%.3g)", p, answer, prob))
	return v
}

// take returns the choices written down since the last take.
func (c *choiceLog) take() []string {
	if c == nil {
		return nil
	}
	out := c.log
	c.log = nil
	return out
}

// watcher is the run's observer: after each event it notes the nodes' states that changed
// (and how), the choices made, the sometimes-properties reached and the links cut.
type watcher struct {
	proto   *node.Protocol
	text    *table
	states  *stateTable
	choices *choiceLog
	nodes   []snapshot // nodes[id-1]: the state last seen
	events  []observed // events[k]: what event k did
	quiet   quietSteps // steps without entries since the last event
	reached []bool
	cut     string // the cut links last seen, as cutLinks writes them
	last    node.World
	correct []bool // correct[id-1]: node id follows the protocol
}

type quietSteps struct {
	steps   int
	choices []int
}

// observed is what the watcher saw of one event.
type observed struct {
	Choices []int `json:"c,omitempty"` // texts
	// Quiet counts the steps just before the event that left no entry (a fault draw that
	// drew no fault, a reply that came too late), and QuietChoices their choices.
	Quiet        int           `json:"q,omitempty"`
	QuietChoices []int         `json:"qc,omitempty"`
	States       []stateChange `json:"s,omitempty"`
	Reached      []int         `json:"r,omitempty"` // sometimes-properties first reached here
	Cut          *[][2]int     `json:"x,omitempty"` // the cut links after the event, where they changed
}

// stateChange is one node's state before and after an event: indexes into the page's states
// (-1: down), and the fields that changed.
type stateChange struct {
	Node    int      `json:"n"`
	Before  int      `json:"b"`
	After   int      `json:"a"`
	Changes []Change `json:"d,omitempty"`
	More    int      `json:"m,omitempty"` // changes left out
	Note    string   `json:"note,omitempty"`
}

// snapshot is a node's state as last seen: a copy (timed runs change states in place), its
// hash and its description.
type snapshot struct {
	up    bool
	state any
	hash  uint64
	text  int    // its number among the page's states
	desc  string // its description
}

// stateWidth and stateLimit shape how the page shows a whole state.
const (
	stateWidth = 96
	stateLimit = 16 << 10
)

func newWatcher(p *node.Protocol, n int, text *table, states *stateTable, choices *choiceLog) *watcher {
	return &watcher{proto: p, text: text, states: states, choices: choices, nodes: make([]snapshot, n),
		reached: make([]bool, len(p.Sometimes)), correct: make([]bool, n)}
}

func (w *watcher) Observe(o sim.Observation) {
	w.last = o.World
	if !o.Traced {
		w.quiet.steps++
		w.quiet.choices = append(w.quiet.choices, w.texts(w.choices.take())...)
		return
	}
	for len(w.events) <= o.Event {
		w.events = append(w.events, observed{})
	}
	ev := &w.events[o.Event]
	ev.Choices = append(ev.Choices, w.texts(w.choices.take())...)
	if s := o.Scheduled; s != nil {
		ev.Choices = append(ev.Choices, w.text.add(fmt.Sprintf("schedule: action %d of 0..%d: %s", s.Action, s.Enabled-1, s.Label)))
	}
	ev.Quiet, ev.QuietChoices = w.quiet.steps, w.quiet.choices
	w.quiet = quietSteps{}
	touched := o.Touched
	if o.Event == 0 {
		touched = nil
		for i := range w.nodes {
			touched = append(touched, node.ID(i+1))
			w.correct[i] = o.World.Correct(node.ID(i + 1))
		}
	}
	for _, id := range touched {
		if id >= 1 && int(id) <= len(w.nodes) {
			w.snap(ev, id, o.World)
		}
	}
	w.sometimes(ev, o.World)
	w.cuts(ev, o.World)
}

// texts puts texts in the page's table.
func (w *watcher) texts(ss []string) []int {
	var out []int
	for _, s := range ss {
		out = append(out, w.text.add(s))
	}
	return out
}

// snap notes node id's state after the event, if it changed.
func (w *watcher) snap(ev *observed, id node.ID, world node.World) {
	old := &w.nodes[id-1]
	st := stateOf(world.State(id))
	if st == nil {
		if old.up {
			ev.States = append(ev.States, stateChange{Node: int(id), Before: old.text, After: -1,
				Note: "crashed: its volatile state is gone; what it synced to storage remains"})
		}
		*old = snapshot{}
		return
	}
	plain := !cyclic(st) // a state whose pointers loop can be described, but not hashed or copied
	h, hashed := uint64(0), false
	if plain {
		h, hashed = hashOf(st)
	}
	if old.up && hashed && h == old.hash {
		return
	}
	desc := describeState(st)
	text := w.states.add(desc)
	if old.up && !hashed && text == old.text {
		return
	}
	ch := stateChange{Node: int(id), Before: -1, After: text}
	switch {
	case !old.up:
		ch.Note = "started: its state is what Start made of its durable storage"
	case old.state != nil && plain:
		ch.Before = old.text
		var ok bool
		if ch.Changes, ch.More, ok = diffStates(old.state, st); !ok {
			ch.Note = "its state changed (a field by field comparison is not possible for this type)"
		}
	default:
		ch.Before = old.text
		ch.Changes, ch.More = diffLines(old.desc, desc)
	}
	ev.States = append(ev.States, ch)
	*old = snapshot{up: true, hash: h, text: text, desc: desc}
	if plain {
		old.state = sim.Clone(st)
	}
}

// describeState writes a state for the page: its fields, one a line, after the protocol's own
// summary of it where its type has a String method.
func describeState(st any) string {
	structure := sim.DescribeFields(st, stateWidth, stateLimit)
	if summary := sim.Describe(st, stateWidth*4); !strings.HasPrefix(structure, summary) {
		return summary + "\n\n" + structure
	}
	return structure
}

// stateOf is what the page shows of a node's state: the protocol's own; for a Byzantine node,
// the states of the correct code it runs under the adversary (two for twins); nil while down.
func stateOf(st node.Node) any {
	if st == nil {
		return nil
	}
	if b, ok := st.(interface{ Instances() []node.Node }); ok {
		in := b.Instances()
		if len(in) == 1 {
			return in[0]
		}
		return twins{Twin0: in[0], Twin1: in[1]}
	}
	return st
}

// twins is the state of a node that runs as twins.
type twins struct{ Twin0, Twin1 node.Node }

// hashOf hashes a state, where it can be (a state holding a function cannot).
func hashOf(st any) (h uint64, ok bool) {
	defer func() {
		if recover() != nil {
			h, ok = 0, false
		}
	}()
	return sim.HashOf(st), true
}

// sometimes notes the sometimes-properties first reached at this event.
func (w *watcher) sometimes(ev *observed, world node.World) {
	timed, isTimed := world.(interface{ Reached(i int) bool })
	for i, p := range w.proto.Sometimes {
		if w.reached[i] {
			continue
		}
		var got bool
		if isTimed {
			got = timed.Reached(i)
		} else {
			got = p.Reached(world)
		}
		if got {
			w.reached[i] = true
			ev.Reached = append(ev.Reached, i)
		}
	}
}

// cuts notes the links cut after the event, where they changed.
func (w *watcher) cuts(ev *observed, world node.World) {
	c, ok := world.(interface{ Cut(from, to node.ID) bool })
	if !ok {
		return
	}
	var links [][2]int
	var b strings.Builder
	n := len(w.nodes)
	for a := 1; a <= n; a++ {
		for z := 1; z <= n; z++ {
			if a != z && c.Cut(node.ID(a), node.ID(z)) {
				links = append(links, [2]int{a, z})
				fmt.Fprintf(&b, "%d>%d ", a, z)
			}
		}
	}
	if b.String() != w.cut {
		w.cut = b.String()
		if links == nil {
			links = [][2]int{}
		}
		ev.Cut = &links
	}
}
