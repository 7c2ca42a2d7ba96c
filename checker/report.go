package checker

import (
	"fmt"
	"io"

	"github.com/replica-io/replica/sim"
)

// Report is a violation as people and programs read it: the property, where it failed (seed,
// virtual time, event index), why, the events leading to it, the state of the nodes, and the
// capsule that replays it with any files that explain it.
type Report struct {
	Property string   `json:"property"`
	Message  string   `json:"message"`
	Seed     uint64   `json:"seed"`
	Time     float64  `json:"time"`
	Event    int      `json:"event"`
	Pending  []string `json:"pending,omitempty"`
	Details  []string `json:"details,omitempty"`
	Context  []string `json:"context,omitempty"`
	Nodes    []string `json:"nodes,omitempty"`
	Capsule  string   `json:"capsule,omitempty"`
	// Artifacts are the files written beside the capsule (porcupine's visualization).
	Artifacts []string `json:"artifacts,omitempty"`
}

// NewReport builds the report of violation v in the run of seed.
func NewReport(seed uint64, v *sim.Violation) *Report {
	r := &Report{Property: v.Property, Message: v.Message, Seed: seed, Time: v.Time.Seconds(), Event: v.Event,
		Pending: v.Pending, Details: v.Details, Nodes: v.Nodes}
	for _, e := range v.Context {
		r.Context = append(r.Context, e.String())
	}
	return r
}

// Headline is the report's first line.
func (r *Report) Headline() string {
	return fmt.Sprintf("seed %d: %s violated at %.3fs (event %d): %s", r.Seed, r.Property, r.Time, r.Event, r.Message)
}

// Write prints the whole report: the headline, the details, the events that led to the
// violation, the nodes, and where the capsule and its explanations are.
func (r *Report) Write(w io.Writer) { r.WriteFor(w, "replica") }

// WriteFor is Write for a command line named program (a user's own binary, with their
// protocols registered), whose replay command the capsule's line names.
func (r *Report) WriteFor(w io.Writer, program string) {
	fmt.Fprintf(w, "FAIL %s\n", r.Headline())
	r.WriteBody(w, program)
}

// WriteBody is WriteFor without the headline, for a report whose headline was printed
// already (a campaign's list of failing seeds).
func (r *Report) WriteBody(w io.Writer, program string) {
	for _, d := range r.Details {
		fmt.Fprintf(w, "  %s\n", d)
	}
	if len(r.Context) > 0 {
		fmt.Fprintf(w, "the last %d events before the violation:\n", len(r.Context))
		for _, e := range r.Context {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(r.Nodes) > 0 {
		fmt.Fprintln(w, "nodes at the violation:")
		for _, n := range r.Nodes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if r.Capsule != "" {
		fmt.Fprintf(w, "capsule %s  (%s replay %s)\n", r.Capsule, program, r.Capsule)
	}
	for _, a := range r.Artifacts {
		fmt.Fprintf(w, "explained in %s\n", a)
	}
}
