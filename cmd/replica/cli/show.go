package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/scenarios/view"
	"github.com/replica-io/replica/sim"
	"github.com/replica-io/replica/sim/capsule"
)

func init() {
	register(command{name: "show", summary: "print a capsule's run as a timeline, faults marked, the violation last (or as a page: -format html)", run: runShow})
}

// showEntry is one line of `replica show -format jsonl`.
type showEntry struct {
	Event  int     `json:"event"`
	Time   float64 `json:"time"` // virtual seconds
	What   string  `json:"what"`
	Node   int     `json:"node,omitempty"`
	Peer   int     `json:"peer,omitempty"`
	Client int     `json:"client,omitempty"`
	Msg    int     `json:"msg,omitempty"` // the message's number: its send and its deliveries share it
	Data   string  `json:"data,omitempty"`
	Fault  bool    `json:"fault,omitempty"`
}

func runShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("show", "CAPSULE [-format text|jsonl|html] [-o FILE]", stderr)
	format := fs.String("format", "text", "text (a readable timeline), jsonl (one JSON object per event, the violation last) or html (a page to step through: a space-time diagram, states and choices)")
	out := fs.String("o", "", "write to this file instead of standard output (for html, the checkers' explanations go beside it)")
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "show", "want exactly one capsule file, got %d arguments", len(pos))
	}
	if *format != "text" && *format != "jsonl" && *format != "html" {
		return usageError(stderr, "show", "-format %q: want text, jsonl or html", *format)
	}
	path := pos[0]
	if *format == "html" {
		return showHTML(path, *out, stdout, stderr)
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return usageError(stderr, "show", "-o: %v", err)
		}
		defer f.Close()
		stdout = f
	}
	c, err := capsule.Read(path)
	if err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	rp, err := scenarios.ReplayCapsule(c)
	if err != nil {
		return usageError(stderr, "show", "capsule %s: %v", path, err)
	}
	if *format == "jsonl" {
		showJSONL(stdout, rp.Result)
	} else {
		showText(stdout, path, rp, c)
	}
	return 0 // show reads a run; replay is the command whose status says whether it fails
}

func showText(w io.Writer, path string, rp *scenarios.Replayed, c *capsule.Capsule) {
	r := rp.Result
	if rp.Untimed {
		// An explorer's path: untimed, so every entry's time is zero and its event is the step.
		fmt.Fprintf(w, "%s: %s, a path of %d steps, written by %s\n\n", path, rp.Name, len(c.Choices), c.Source)
	} else {
		fmt.Fprintf(w, "%s: %s n=%d seed %d, written by %s\n", path, rp.Name, rp.N, c.Seed, c.Source)
		if len(c.Options) > 0 {
			fmt.Fprintf(w, "options: %s\n", optionsLine(c.Options))
		}
		fmt.Fprintf(w, "profile: %s\n", r.Profile)
		fmt.Fprintf(w, "%d events, %d faults (%s), %d client requests; faults are marked !\n",
			lastEvent(r.Trace), r.Faults.Total(), faultKinds(r.Faults), r.Ops)
		if quiet := r.Events - lastEvent(r.Trace); quiet > 0 {
			fmt.Fprintf(w, "(the simulator took %d steps: %d more that left no trace, such as fault draws that drew no fault)\n", r.Events, quiet)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%6s %12s    %-9s %s\n", "event", "time", "what", "where and what")
	for _, e := range r.Trace {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintln(w)
	if fmt.Sprintf("%016x", r.TraceHash) != fmt.Sprintf("%016x", c.TraceHash) {
		why := "the code changed since the capsule was written"
		if rp.Diverged {
			why += " (the run asked for choices the capsule does not hold)"
		}
		fmt.Fprintf(w, "note: trace %016x differs from the recorded %016x: %s\n", r.TraceHash, c.TraceHash, why)
	}
	v := r.Violation
	if v == nil {
		fmt.Fprintf(w, "no violation")
		if c.Property != "" {
			fmt.Fprintf(w, ": the recorded %s does not occur any more", c.Property)
		}
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "VIOLATION %s at %.3fms (event %d): %s\n", v.Property, float64(v.Time)/1e6, v.Event, v.Message)
	for _, d := range v.Details { // the checker's explanation: why a history is not linearizable, a growth curve
		fmt.Fprintf(w, "  %s\n", d)
	}
	for _, p := range v.Pending {
		fmt.Fprintf(w, "  pending: %s\n", p)
	}
	fmt.Fprintln(w, "nodes at the violation:")
	for _, n := range v.Nodes {
		fmt.Fprintf(w, "  %s\n", n)
	}
}

func showJSONL(w io.Writer, r sim.Result) {
	enc := json.NewEncoder(w)
	for _, e := range r.Trace {
		se := showEntry{Event: e.Event, Time: e.Time.Seconds(), What: e.What.String(), Node: int(e.Node),
			Peer: int(e.Peer), Client: int(e.Client), Msg: e.Msg, Fault: e.What.IsFault()}
		if e.Data != nil {
			se.Data = sim.Summary(e.Data)
		}
		enc.Encode(se)
	}
	if r.Violation != nil {
		enc.Encode(struct {
			Violation *violationJSON `json:"violation"`
		}{newViolationJSON(r.Violation)})
	}
}

// lastEvent is the number of a trace's last event.
func lastEvent(trace []sim.Entry) int {
	if len(trace) == 0 {
		return 0
	}
	return trace[len(trace)-1].Event
}

// showHTML writes a capsule's page to out, or to standard output.
func showHTML(path, out string, stdout, stderr io.Writer) int {
	if out == "" {
		c, err := capsule.Read(path)
		if err != nil {
			return usageError(stderr, "show", "%v", err)
		}
		p, err := view.Build(c, filepath.Base(path))
		if err != nil {
			return usageError(stderr, "show", "capsule %s: %v", path, err)
		}
		if err := p.WriteHTML(stdout); err != nil {
			fmt.Fprintf(stderr, "%s show: %v\n", prog, err)
			return 2
		}
		return 0
	}
	_, extra, err := view.WriteFile(path, out)
	if err != nil {
		return usageError(stderr, "show", "%v", err)
	}
	for _, e := range extra {
		fmt.Fprintf(stderr, "wrote %s beside the page\n", e)
	}
	return 0
}

// faultKinds lists the fault kinds that fired, with their counts.
func faultKinds(c sim.Counts) string {
	m := map[string]int{}
	for k, n := range c {
		if n > 0 {
			m[sim.Kind(k).String()] = n
		}
	}
	return campaign.CountsLine(m)
}

func optionsLine(o map[string]string) string {
	s := ""
	for _, k := range sortedKeys(o) {
		if s != "" {
			s += " "
		}
		s += k + "=" + o[k]
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
