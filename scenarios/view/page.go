package view

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// Page is everything the page shows, as its script reads it (JSON, with short names: a run of
// thousands of events makes a page of megabytes). Texts are indexes into Text, whose entry 0
// is empty, so that zero means none.
type Page struct {
	Title   string   `json:"title"`
	About   []string `json:"about"`
	Notes   []string `json:"notes,omitempty"`
	Untimed bool     `json:"untimed"`
	End     int64    `json:"end"` // virtual time at the end, in nanoseconds

	Lanes []Lane `json:"lanes"`
	// Whats names the kinds of trace entries (Entry.W) and Faults tells which are faults.
	Whats  []string `json:"whats"`
	Faults []bool   `json:"faults"`
	Types  []string `json:"types"` // message types (Entry.T - 1)

	Events  []Event   `json:"events"`
	Entries []Entry   `json:"entries"`
	Msgs    []Message `json:"msgs"`
	Ops     []Op      `json:"ops"`
	Calls   []Call    `json:"calls"`
	Cuts    []Cut     `json:"cuts"`

	Invariants []string   `json:"invariants"`
	Checks     []Check    `json:"checks"`
	Sometimes  []string   `json:"sometimes"`
	Violation  *Violation `json:"violation,omitempty"`
	Lin        string     `json:"lin,omitempty"` // porcupine's visualization, beside the page
	Text       []string   `json:"text"`
	// States are the node states the page shows, each a list of lines (indexes into Lines):
	// one state differs from the next in a few lines, so each line is kept once.
	States   [][]int       `json:"states"`
	Lines    []string      `json:"lines"`
	monitors []sim.Monitor // for Explain
}

// Lane is a node's lane.
type Lane struct {
	Name      string `json:"name"`
	Byzantine bool   `json:"byz,omitempty"`
}

// Event is one event of the run: its number and time, its entries (Entries[From:To]), and what
// the watcher saw of it.
type Event struct {
	N    int   `json:"n"`
	T    int64 `json:"t"`
	From int   `json:"from"`
	To   int   `json:"to"`
	observed
}

// Entry is one trace entry: its event, kind (Whats[W]), where, which message (Msgs[Msg-1]),
// its summary S, its full text F where that says more, and its message type T.
type Entry struct {
	E      int `json:"e"`
	W      int `json:"w"`
	Node   int `json:"n,omitempty"`
	Peer   int `json:"p,omitempty"`
	Client int `json:"c,omitempty"`
	Msg    int `json:"m,omitempty"`
	S      int `json:"s,omitempty"`
	F      int `json:"f,omitempty"`
	T      int `json:"t,omitempty"`
}

// Message is one message between nodes: its send, what became of it (deliveries, a block, a
// loss, a drop: entry indexes), its duplication and the adversary's doing, if any.
type Message struct {
	ID    int   `json:"id"`
	From  int   `json:"from"`
	To    int   `json:"to"`
	Send  int   `json:"send"`
	Type  int   `json:"t,omitempty"`
	Fates []int `json:"fates,omitempty"`
	Dup   int   `json:"dup,omitempty"` // entry index + 1 of the duplication
	// Bent lists the entries (indexes) in which a Byzantine node changed, replayed or held back
	// this message.
	Bent []int `json:"bent,omitempty"`
}

// Op is one client operation: its call and end (entry indexes, -1 for none: still open at the
// end of the run), what it asked and what it got.
type Op struct {
	Client int    `json:"c"`
	Call   int    `json:"call"`
	End    int    `json:"end"`
	Input  string `json:"in"`
	Output string `json:"out,omitempty"`
	Done   bool   `json:"done"`
}

// Call is a request from a client to a node (Kind "req") or a reply back (Kind "rep"), from
// entry A to entry B (-1: no entry on that side, the client's side of an untimed request).
type Call struct {
	Kind   string `json:"k"`
	Client int    `json:"c"`
	A      int    `json:"a"`
	B      int    `json:"b"`
}

// Cut is a time during which links were cut: from event From to event To (-1: the end), with
// the trace's description and the links.
type Cut struct {
	From   int      `json:"from"`
	To     int      `json:"to"`
	Desc   string   `json:"desc"`
	Links  [][2]int `json:"links"`
	OneWay bool     `json:"oneway,omitempty"`
}

// Check is a monitor's verdict on the run.
type Check struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
}

// Violation is the run's violation, where it happened.
type Violation struct {
	Property string   `json:"property"`
	Message  string   `json:"message"`
	Event    int      `json:"event"`
	Time     int64    `json:"t"`
	Pending  []string `json:"pending,omitempty"`
	Details  []string `json:"details,omitempty"`
	Nodes    []string `json:"nodes,omitempty"`
}

// table is a page's texts, each kept once.
type table struct {
	texts []string
	index map[string]int
}

func newTable() *table { return &table{texts: []string{""}, index: map[string]int{"": 0}} }

func (t *table) add(s string) int {
	if i, ok := t.index[s]; ok {
		return i
	}
	t.index[s] = len(t.texts)
	t.texts = append(t.texts, s)
	return len(t.texts) - 1
}

// stateTable is a page's node states, each kept once, as lines kept once.
type stateTable struct {
	lines *table
	list  [][]int
	index map[string]int
}

func newStateTable() *stateTable { return &stateTable{lines: newTable(), index: map[string]int{}} }

// add returns the number of a state's description.
func (t *stateTable) add(s string) int {
	if i, ok := t.index[s]; ok {
		return i
	}
	var ids []int
	for _, l := range strings.Split(s, "\n") {
		ids = append(ids, t.lines.add(l))
	}
	t.index[s] = len(t.list)
	t.list = append(t.list, ids)
	return len(t.list) - 1
}

// Limits on the texts of one entry.
const (
	summaryLimit = 400
	messageWidth = 96
	messageLimit = 8 << 10
)

// Build replays a capsule under observation and gathers its page. name is how the page calls
// the capsule (its file name, say).
func Build(c *capsule.Capsule, name string) (*Page, error) {
	text, states := newTable(), newStateTable()
	r, err := replay(c, text, states)
	if err != nil {
		return nil, err
	}
	p := &Page{Untimed: r.untimed, End: int64(r.result.Virtual), monitors: r.result.Monitors}
	for _, w := range sim.Whats() {
		p.Whats = append(p.Whats, w.String())
		p.Faults = append(p.Faults, w.IsFault())
	}
	p.header(c, name, r)
	p.lanes(r)
	p.entries(r, text)
	p.messages(r)
	p.operations(r)
	p.cuts(r)
	p.properties(r)
	p.Text, p.States, p.Lines = text.texts, states.list, states.lines.texts
	p.fill()
	return p, nil
}

// header writes the page's title, what ran and the notes a reader must see.
func (p *Page) header(c *capsule.Capsule, name string, r *run) {
	res := r.result
	verdict := "no violation"
	if v := res.Violation; v != nil {
		verdict = v.Property + " violated"
	}
	p.Title = fmt.Sprintf("%s: %s, %s", name, r.name, verdict)
	events := 0
	if n := len(res.Trace); n > 0 {
		events = res.Trace[n-1].Event
	}
	if r.untimed {
		p.About = append(p.About,
			fmt.Sprintf("%s, a path of %d steps found by %s", r.name, len(c.Choices), c.Source),
			"Untimed: an exploration abstracts time away, so events are laid out in step order, not virtual time.")
	} else {
		p.About = append(p.About, fmt.Sprintf("%s n=%d seed %d, written by %s", r.name, r.n, c.Seed, c.Source))
		if len(c.Options) > 0 {
			keys := make([]string, 0, len(c.Options))
			for k := range c.Options {
				keys = append(keys, k+"="+c.Options[k])
			}
			sort.Strings(keys)
			p.About = append(p.About, "options: "+strings.Join(keys, " "))
		}
		p.About = append(p.About, "profile: "+res.Profile.String(),
			fmt.Sprintf("%d events (the simulator took %d steps; %d of them left no trace: fault draws that drew no fault, late replies), %d faults, %d client operations",
				events, res.Events, res.Events-events, res.Faults.Total(), res.Ops))
	}
	if res.TraceHash != c.TraceHash {
		p.Notes = append(p.Notes, fmt.Sprintf("The replay's trace %016x differs from the recorded %016x: the code changed since the capsule was written, and this is what its choices do today.", res.TraceHash, c.TraceHash))
	}
	if r.diverged != "" {
		p.Notes = append(p.Notes, "The replay did not follow the capsule as recorded: "+r.diverged+".")
	}
	if c.Property != "" && (res.Violation == nil || res.Violation.Property != c.Property) {
		p.Notes = append(p.Notes, fmt.Sprintf("The capsule recorded a violation of %s, which this replay does not reproduce.", c.Property))
	}
}

func (p *Page) lanes(r *run) {
	for i := 0; i < r.n; i++ {
		p.Lanes = append(p.Lanes, Lane{Name: fmt.Sprintf("n%d", i+1), Byzantine: !r.watch.correct[i]})
	}
}

// entries turns the trace into the page's events and entries.
func (p *Page) entries(r *run, text *table) {
	types := map[string]int{}
	for i, e := range r.result.Trace {
		for len(p.Events) <= e.Event {
			k := len(p.Events)
			ev := Event{N: k, T: int64(e.Time), From: i, To: i}
			if k < len(r.watch.events) {
				ev.observed = r.watch.events[k]
			}
			p.Events = append(p.Events, ev)
		}
		p.Events[e.Event].To = i + 1
		pe := Entry{E: e.Event, W: int(e.What), Node: int(e.Node), Peer: int(e.Peer), Client: int(e.Client), Msg: e.Msg}
		if e.Data != nil {
			summary := sim.Summary(e.Data)
			if len(summary) > summaryLimit {
				summary = summary[:summaryLimit] + "..."
			}
			pe.S = text.add(summary)
			if _, plain := e.Data.(string); !plain {
				if full := sim.DescribeIndented(e.Data, messageWidth, messageLimit); full != summary {
					pe.F = text.add(full)
				}
			}
		}
		if e.Msg != 0 && e.Data != nil {
			name := typeOf(e.Data)
			if _, ok := types[name]; !ok {
				types[name] = len(p.Types)
				p.Types = append(p.Types, name)
			}
			pe.T = types[name] + 1
		}
		p.Entries = append(p.Entries, pe)
	}
}

// typeOf names a message's type: its Go type's name, and for a component's envelope its path
// with the type of what it carries.
func typeOf(v any) string {
	if env, ok := v.(node.Envelope); ok {
		return env.Path + ":" + typeOf(env.Msg)
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return t.String()
	}
	return t.Name()
}

// messages gathers each message's send and fates, and ties the adversary's entries to the
// messages they bent: a Byzantine node's entry about a peer belongs to its next send to that
// peer in the same event, unless the message was withheld.
func (p *Page) messages(r *run) {
	byID := map[int]int{}
	bent := map[[3]int][]int{} // (event, from, to) -> adversary entries waiting for their send
	for i, e := range r.result.Trace {
		pe := p.Entries[i]
		switch {
		case e.What == sim.Mutation && e.Peer != 0:
			s := sim.Summary(e.Data)
			if strings.HasPrefix(s, "silent:") || strings.HasPrefix(s, "selective: drops") {
				continue
			}
			k := [3]int{e.Event, int(e.Node), int(e.Peer)}
			bent[k] = append(bent[k], i)
		case e.What == sim.Send && e.Msg != 0:
			byID[e.Msg] = len(p.Msgs)
			m := Message{ID: e.Msg, From: int(e.Node), To: int(e.Peer), Send: i, Type: pe.T}
			k := [3]int{e.Event, int(e.Node), int(e.Peer)}
			if b := bent[k]; len(b) > 0 {
				m.Bent = b
				delete(bent, k)
			}
			p.Msgs = append(p.Msgs, m)
		case e.Msg != 0:
			j, ok := byID[e.Msg]
			if !ok {
				continue
			}
			switch e.What {
			case sim.Dup:
				p.Msgs[j].Dup = i + 1
			case sim.Deliver, sim.Blocked, sim.Lost, sim.Dropped:
				p.Msgs[j].Fates = append(p.Msgs[j].Fates, i)
			}
		}
	}
}

// operations gathers the clients' operations from the history and the trace, and the requests
// and replies between clients and nodes.
func (p *Page) operations(r *run) {
	trace := r.result.Trace
	var history []node.Op
	if r.watch.last != nil {
		history = r.watch.last.History()
	}
	calls := []int{} // the entries that invoke operations, in the history's order
	for i, e := range trace {
		if (!r.untimed && e.What == sim.Invoke) || (r.untimed && e.What == sim.Request) {
			calls = append(calls, i)
		}
	}
	for k, op := range history {
		o := Op{Client: int(op.Client), Call: -1, End: -1, Input: sim.Summary(op.Input), Done: op.Done}
		if op.Done {
			o.Output = sim.Summary(op.Output)
		}
		if k < len(calls) {
			o.Call = calls[k]
			o.End = p.opEnd(trace, calls[k], op, r.untimed)
			if r.untimed && o.End >= 0 { // the untimed world has no clients to read replies: the first one answers
				o.Done, o.Output = true, sim.Summary(trace[o.End].Data)
			}
		}
		p.Ops = append(p.Ops, o)
	}
	// Requests come from the client's latest entry before them; replies go to the client's
	// next answer from the same node.
	last := map[node.ClientID]int{}
	for i, e := range trace {
		switch {
		case e.Client == 0:
		case e.Node == 0 || e.What == sim.Answer:
			last[e.Client] = i
		case e.What == sim.Request || (e.What == sim.Lost && e.Peer == 0):
			from, ok := last[e.Client]
			if !ok || r.untimed {
				from = -1
			}
			p.Calls = append(p.Calls, Call{Kind: "req", Client: int(e.Client), A: from, B: i})
		case e.What == sim.Reply:
			to := -1
			for j := i + 1; j < len(trace) && !r.untimed; j++ {
				if trace[j].What == sim.Answer && trace[j].Client == e.Client && trace[j].Node == e.Node {
					to = j
					break
				}
			}
			p.Calls = append(p.Calls, Call{Kind: "rep", Client: int(e.Client), A: i, B: to})
		}
	}
}

// opEnd finds the entry that ends an operation: the client's final answer, its giving up, or
// (untimed) the first reply to it; -1 when it is still open.
func (p *Page) opEnd(trace []sim.Entry, call int, op node.Op, untimed bool) int {
	end := -1
	for j := call + 1; j < len(trace); j++ {
		e := trace[j]
		if e.Client != op.Client {
			continue
		}
		switch {
		case untimed && e.What == sim.Reply:
			return j
		case !untimed && op.Done && e.What == sim.Answer && e.Time == op.Return:
			end = j
		case !untimed && !op.Done && e.What == sim.GiveUp && e.Data == "outcome unknown":
			return j
		case !untimed && e.What == sim.Invoke:
			return end
		}
	}
	return end
}

// cuts turns the changes of the cut links the watcher saw into bands.
func (p *Page) cuts(r *run) {
	open := -1
	for k := range p.Events {
		x := p.Events[k].Cut
		if x == nil {
			continue
		}
		if open >= 0 {
			p.Cuts[open].To = k
			open = -1
		}
		if len(*x) == 0 {
			continue
		}
		desc := "links cut"
		for _, e := range r.result.Trace[p.Events[k].From:p.Events[k].To] {
			if e.What == sim.Partition {
				desc = sim.Summary(e.Data)
			}
		}
		c := Cut{From: k, To: -1, Desc: desc, Links: *x}
		for _, l := range c.Links {
			if !slices.Contains(c.Links, [2]int{l[1], l[0]}) {
				c.OneWay = true
			}
		}
		open = len(p.Cuts)
		p.Cuts = append(p.Cuts, c)
	}
}

// properties lists what is checked, the verdicts and the violation.
func (p *Page) properties(r *run) {
	for _, inv := range r.proto.Invariants {
		p.Invariants = append(p.Invariants, inv.Name)
	}
	for _, s := range r.proto.Sometimes {
		p.Sometimes = append(p.Sometimes, s.Name)
	}
	for _, m := range r.result.Monitors {
		if j, ok := m.(checker.Judge); ok {
			name, o := j.Verdict()
			p.Checks = append(p.Checks, Check{Name: name, Outcome: o.String()})
		}
	}
	v := r.result.Violation
	if v == nil {
		return
	}
	p.Violation = &Violation{Property: v.Property, Message: v.Message, Event: v.Event, Time: int64(v.Time),
		Pending: v.Pending, Details: v.Details, Nodes: v.Nodes}
	if n := len(p.Events); n > 0 && v.Event >= n {
		p.Violation.Event = n - 1
	}
}

// fill gives the lists the page has none of an empty value, so that the script reads every
// list as a list.
func (p *Page) fill() {
	for _, l := range []any{&p.About, &p.Lanes, &p.Types, &p.Events, &p.Entries, &p.Msgs, &p.Ops,
		&p.Calls, &p.Cuts, &p.Invariants, &p.Checks, &p.Sometimes, &p.States} {
		v := reflect.ValueOf(l).Elem()
		if v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
	}
}
