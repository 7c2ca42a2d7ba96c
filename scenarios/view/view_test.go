package view

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

// markup is a protocol whose every text is markup: its messages, outputs, state and violation
// try to close the page's script and run their own. Node 1 shouts on a timer; the others
// output what they hear; the third shout breaks its invariant.
const markup = `</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">`

type (
	loud struct {
		Note, Said string
		Count      int
	}
	shout struct{ Text string }
)

func (l *loud) Start(env node.Env) {
	if env.Self() == 1 {
		env.SetTimer(markup, time.Millisecond, time.Millisecond)
	}
}
func (l *loud) Receive(env node.Env, from node.ID, m node.Message) {
	l.Said = m.(shout).Text
	env.Output(markup)
}
func (l *loud) Timer(env node.Env, name string) {
	l.Count++
	l.Note = markup
	env.Broadcast(shout{Text: markup + " #" + string(rune('0'+l.Count))})
	env.SetTimer(name, time.Millisecond, time.Millisecond)
}
func (l *loud) Request(env node.Env, req node.Request) {}

var markupProtocol = &node.Protocol{
	Name: "viewer-markup", Summary: "a test protocol whose texts are markup",
	New:      func(node.Config, node.ID) node.Node { return &loud{} },
	DefaultN: 3, MinN: 1,
	Timing: node.Timing{Delay: time.Millisecond, Settle: 20 * time.Millisecond},
	Invariants: []node.Invariant{{Name: "quiet" + markup, Check: func(w node.World) error {
		if s, ok := w.State(1).(*loud); ok && s.Count >= 3 {
			return errors.New("n1 shouted three times: " + markup)
		}
		return nil
	}}},
}

func init() { scenarios.Register(markupProtocol) }

// runCapsule is the capsule of the first failing seed of a protocol's bug in a scenario.
func runCapsule(t testing.TB, protocol, bug, scenario string, n int) *capsule.Capsule {
	t.Helper()
	s, err := scenarios.Resolve(protocol, bug, scenario, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(0); seed < 500; seed++ {
		if r := s.Run(seed); r.Violation != nil {
			return s.Capsule(seed, r, "run")
		}
	}
	t.Fatalf("%s/%s@%s: no failing seed below 500", protocol, bug, scenario)
	return nil
}

// noPersistRace is the shortest way for Paxos's no-persist bug to choose two values in the
// untimed world: n3 promises ballot 1.1, then 1.2, crashes, forgets 1.2 and accepts 1.1.
var noPersistRace = []string{
	"request c1 -> n1 Value(101)",
	"request c2 -> n2 Value(201)",
	"deliver n3 <- n1 Prepare{B:1.1}",
	"deliver n1 <- n3 Promise{B:1.1 Accepted:0.0 Value:0}",
	"deliver n3 <- n2 Prepare{B:1.2}",
	"crash n3",
	"restart n3",
	"deliver n3 <- n1 Accept{B:1.1 Value:101}",
	"deliver n1 <- n3 Accepted{B:1.1 Value:101}",
	"deliver n2 <- n3 Promise{B:1.2 Accepted:0.0 Value:0}",
	"deliver n3 <- n2 Accept{B:1.2 Value:201}",
	"deliver n2 <- n3 Accepted{B:1.2 Value:201}",
}

// exploreCapsule is the capsule an exploration writes for a path of Paxos's no-persist bug,
// the path given by the labels of its actions.
func exploreCapsule(t testing.TB, labels []string) *capsule.Capsule {
	t.Helper()
	e, err := scenarios.ResolveExplore("paxos", "no-persist", 0, sim.UntimedOptions{Crashes: -1, Requests: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	u := e.Untimed()
	s := u.Init()[0]
	var path []int
	for _, want := range labels {
		found := false
		u.Next(s, func(a int, next *sim.UState) bool {
			if u.Label(s, a) == want {
				path, s, found = append(path, a), next, true
				return false
			}
			return true
		})
		if !found {
			t.Fatalf("after %d steps, %q is not enabled", len(path), want)
		}
	}
	r, err := u.Replay(0, path)
	if err != nil {
		t.Fatal(err)
	}
	return e.Capsule(0, path, r)
}

// arrows is how many message arrows the page draws: one per fate of each message (a delivery,
// a block, a loss, a drop), one for a message still in flight at the end.
func arrows(p *Page) int {
	n := 0
	for _, m := range p.Msgs {
		n += max(1, len(m.Fates))
	}
	return n
}

// faultMarks is how many fault marks the page draws: one per fault entry.
func faultMarks(p *Page) int {
	n := 0
	for _, e := range p.Entries {
		if p.Faults[e.W] {
			n++
		}
	}
	return n
}

// checkPage checks what a page says against the capsule and the trace it was built from.
func checkPage(t *testing.T, p *Page, c *capsule.Capsule) {
	t.Helper()
	if len(p.Lanes) != c.N {
		t.Errorf("%d lanes for %d nodes", len(p.Lanes), c.N)
	}
	if len(p.Notes) > 0 {
		t.Errorf("notes on a faithful replay: %q", p.Notes)
	}
	if p.Violation == nil || p.Violation.Property != c.Property || p.Violation.Event != len(p.Events)-1 {
		t.Fatalf("violation %+v, want %s at the last event %d", p.Violation, c.Property, len(p.Events)-1)
	}
	for k, ev := range p.Events {
		if ev.N != k || ev.From >= ev.To {
			t.Fatalf("event %d: %+v", k, ev)
		}
		for _, e := range p.Entries[ev.From:ev.To] {
			if e.E != k {
				t.Fatalf("event %d holds an entry of event %d", k, e.E)
			}
		}
	}
	fates := 0
	for _, m := range p.Msgs {
		s := p.Entries[m.Send]
		if p.Whats[s.W] != "send" || s.Msg != m.ID || s.Node != m.From || s.Peer != m.To {
			t.Fatalf("message %d: its send is %+v", m.ID, s)
		}
		for _, f := range m.Fates {
			e := p.Entries[f]
			if e.Msg != m.ID || e.Node != m.To || e.Peer != m.From || e.E < s.E {
				t.Fatalf("message %d sent at event %d: fate %+v", m.ID, s.E, e)
			}
		}
		fates += len(m.Fates)
	}
	arrived := 0
	for _, e := range p.Entries {
		switch p.Whats[e.W] {
		case "deliver", "blocked", "lost", "drop":
			if e.Peer != 0 {
				arrived++
			}
		}
	}
	if arrived != fates {
		t.Errorf("%d arrivals, drops and losses in the trace, %d tied to their messages", arrived, fates)
	}
	// Each node's states chain: what a change starts from is what the last one left.
	last := map[int]int{}
	for _, ev := range p.Events {
		for _, s := range ev.States {
			if b, seen := last[s.Node]; seen && b != s.Before {
				t.Fatalf("event %d: n%d's state before is text %d, the last after was %d", ev.N, s.Node, s.Before, b)
			}
			last[s.Node] = s.After
			for _, i := range []int{s.Before, s.After} {
				if i >= len(p.States) {
					t.Fatalf("event %d: state %d of %d", ev.N, i, len(p.States))
				}
			}
		}
	}
	if len(last) != c.N {
		t.Errorf("states of %d nodes seen, want %d", len(last), c.N)
	}
}

func TestPagesOfRunAndExploreCapsules(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *capsule.Capsule
	}{
		{"run", runCapsule(t, "paxos", "no-persist", "crash-restart", 0)},
		{"explore", exploreCapsule(t, noPersistRace)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Build(tc.c, tc.name+".capsule")
			if err != nil {
				t.Fatal(err)
			}
			checkPage(t, p, tc.c)
			if p.Untimed != (tc.name == "explore") {
				t.Errorf("untimed %v", p.Untimed)
			}
			if tc.name == "explore" && !strings.Contains(strings.Join(p.About, " "), "step order") {
				t.Errorf("an untimed page does not say its events are in step order: %q", p.About)
			}
			// Every step after the start says what was chosen; an explored step names its action.
			for _, ev := range p.Events[1:] {
				if tc.name == "explore" && (len(ev.Choices) != 1 || !strings.HasPrefix(p.Text[ev.Choices[0]], "schedule: action ")) {
					t.Fatalf("event %d: choices %v", ev.N, ev.Choices)
				}
			}
			// A node that decided has the decision in its state's changes.
			decided := false
			for _, ev := range p.Events {
				for _, s := range ev.States {
					for _, ch := range s.Changes {
						decided = decided || (ch.Path == "decided" && ch.Before == "0")
					}
				}
			}
			if !decided {
				t.Error("no state change shows a node's decision")
			}
		})
	}
}

// TestByzantineAndClients: a PBFT run with a Byzantine primary marks its lane, ties the
// adversary's doings to the messages it bent, and shows the clients' operations.
func TestByzantineAndClients(t *testing.T) {
	c := runCapsule(t, "pbft", "no-digest-check", "byzantine-primary", 0)
	p, err := Build(c, "pbft.capsule")
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, p, c)
	byz := 0
	for _, l := range p.Lanes {
		if l.Byzantine {
			byz++
		}
	}
	bent := 0
	for _, m := range p.Msgs {
		if len(m.Bent) > 0 && p.Lanes[m.From-1].Byzantine {
			bent++
		}
	}
	if byz != 1 || bent == 0 {
		t.Errorf("%d Byzantine lanes, %d messages bent by them", byz, bent)
	}
	done := 0
	for _, o := range p.Ops {
		if o.Call < 0 || p.Whats[p.Entries[o.Call].W] != "invoke" || (o.Done && p.Whats[p.Entries[o.End].W] != "answer") {
			t.Fatalf("operation %+v", o)
		}
		if o.Done {
			done++
		}
	}
	if len(p.Ops) == 0 || done == 0 || len(p.Calls) == 0 {
		t.Errorf("%d operations (%d done), %d requests and replies", len(p.Ops), done, len(p.Calls))
	}
}

// TestMarkupStaysText: no text of a run reaches the page as markup.
func TestMarkupStaysText(t *testing.T) {
	c := runCapsule(t, markupProtocol.Name, "", "calm", 3)
	p, err := Build(c, markup+".capsule")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if n := strings.Count(page, "<script"); n != 2 {
		t.Errorf("the page has %d script elements, want 2 (the data and the code)", n)
	}
	if strings.Contains(page, "<img") || strings.Contains(page, "window.pwned") && !strings.Contains(page, `\u003c/script\u003e`) {
		t.Error("markup from the run appears in the page as markup")
	}
	// The data holds the texts exactly.
	const open = `<script type="application/json" id="replica-data">`
	i := strings.Index(page, open)
	j := strings.Index(page[i:], "</script>")
	var back Page
	if err := json.Unmarshal([]byte(page[i+len(open):i+j]), &back); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range back.Text {
		if strings.Contains(s, markup) {
			found++
		}
	}
	if found == 0 || !strings.Contains(back.Violation.Message, markup) || !strings.Contains(back.Title, markup) {
		t.Errorf("the page's data lost the run's texts: %d texts with markup, violation %q", found, back.Violation.Message)
	}
}

func TestDiffStates(t *testing.T) {
	type ballot struct{ Round, Node int }
	type acceptor struct {
		Promised ballot
		Value    int
	}
	type state struct {
		acc   acceptor
		log   []string
		peers map[string]int
		f     func()
		node.Config
	}
	before := &state{acc: acceptor{ballot{1, 2}, 7}, log: []string{"a"}, peers: map[string]int{"n2": 1, "n3": 1}, Config: node.Config{N: 3}}
	after := &state{acc: acceptor{ballot{2, 2}, 7}, log: []string{"a", "b"}, peers: map[string]int{"n2": 5}, f: func() {}, Config: node.Config{N: 4}}
	got, more, ok := diffStates(nodeOf{before}, nodeOf{after})
	want := []Change{
		{"v.acc.Promised.Round", "1", "2"},
		{"v.log[1]", "-", `"b"`},
		{`v.peers["n2"]`, "1", "5"},
		{`v.peers["n3"]`, "1", "-"},
	}
	if !ok || more != 0 || len(got) != len(want) {
		t.Fatalf("diff = %q (%d more, ok %v), want %q", got, more, ok, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// nodeOf makes any value a node.Node, for diffing plain structs.
type nodeOf struct{ v any }

func (nodeOf) Start(node.Env)                          {}
func (nodeOf) Receive(node.Env, node.ID, node.Message) {}
func (nodeOf) Timer(node.Env, string)                  {}
func (nodeOf) Request(node.Env, node.Request)          {}
