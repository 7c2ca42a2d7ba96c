package campaign

import (
	"fmt"
	"sort"
	"time"

	"github.com/replica-io/replica/sim"
)

// Result is the outcome of one seed: one JSON line of a results file.
type Result struct {
	Seed      uint64         `json:"seed"`
	TraceHash string         `json:"trace_hash"`
	Events    int            `json:"events"`
	Virtual   float64        `json:"virtual_seconds"`
	Faults    map[string]int `json:"faults,omitempty"`
	Reached   []string       `json:"sometimes,omitempty"`
	Ops       int            `json:"ops"`
	Unknown   int            `json:"unknown_ops"`
	Violation *Violation     `json:"violation,omitempty"`
}

// Violation is a failed property, as reports and programs see it.
type Violation struct {
	Property string   `json:"property"`
	Message  string   `json:"message"`
	Seed     uint64   `json:"seed"`
	Time     float64  `json:"time"`
	Event    int      `json:"event"`
	Pending  []string `json:"pending,omitempty"`
	Capsule  string   `json:"capsule,omitempty"`
}

// Summary is the outcome of a campaign: what `replica run -json` prints, and what `replica
// merge` rebuilds from results files.
type Summary struct {
	Protocol     string         `json:"protocol"`
	Bug          string         `json:"bug"`
	Scenario     string         `json:"scenario"`
	N            int            `json:"n"`
	F            int            `json:"f"`
	SeedsRun     int            `json:"seeds_run"`
	Failures     int            `json:"failures"`
	FailingSeeds []uint64       `json:"failing_seeds"`
	Capsules     []string       `json:"capsules"`
	Violations   []Violation    `json:"violations"`
	Events       int            `json:"events"`
	Virtual      float64        `json:"virtual_seconds"`
	Wall         float64        `json:"wall_seconds"`
	Faults       map[string]int `json:"faults"`
	Sometimes    map[string]int `json:"sometimes"`
	Ops          int            `json:"ops"`
	Unknown      int            `json:"unknown_ops"`
	CampaignHash string         `json:"campaign_hash"`
	Interrupted  bool           `json:"interrupted,omitempty"`
}

// listLimit bounds the failing seeds, capsules and violations a summary lists.
const listLimit = 100

// newResult turns a run into its result line.
func newResult(seed uint64, r sim.Result, sometimes []string) Result {
	out := Result{
		Seed:      seed,
		TraceHash: fmt.Sprintf("%016x", r.TraceHash),
		Events:    r.Events,
		Virtual:   r.Virtual.Seconds(),
		Faults:    faultMap(r.Faults),
		Ops:       r.Ops,
		Unknown:   r.Unknown,
	}
	for i, hit := range r.Reached {
		if hit {
			out.Reached = append(out.Reached, sometimes[i])
		}
	}
	if v := r.Violation; v != nil {
		out.Violation = &Violation{Property: v.Property, Message: v.Message, Seed: seed,
			Time: v.Time.Seconds(), Event: v.Event, Pending: v.Pending}
	}
	return out
}

func faultMap(c sim.Counts) map[string]int {
	m := map[string]int{}
	for k, n := range c {
		if n > 0 {
			m[sim.Kind(k).String()] = n
		}
	}
	return m
}

// Summarize folds results into a summary, in seed order whatever order they come in, so that
// a campaign, its shards merged, and its resumption all give the same summary.
func Summarize(head Summary, results []Result, wall time.Duration) Summary {
	rs := append([]Result(nil), results...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Seed < rs[j].Seed })
	s := head
	s.FailingSeeds, s.Capsules, s.Violations = []uint64{}, []string{}, []Violation{}
	s.Faults, s.Sometimes = map[string]int{}, map[string]int{}
	for name := range head.Sometimes { // names reached by no run stay listed, at zero
		s.Sometimes[name] = 0
	}
	s.Wall = wall.Seconds()
	h := sim.NewHasher()
	var virtual time.Duration
	for _, r := range rs {
		s.SeedsRun++
		s.Events += r.Events
		virtual += time.Duration(r.Virtual * float64(time.Second))
		s.Ops += r.Ops
		s.Unknown += r.Unknown
		for k, n := range r.Faults {
			s.Faults[k] += n
		}
		for _, name := range r.Reached {
			s.Sometimes[name]++
		}
		h.Uint64(r.Seed)
		h.String(r.TraceHash)
		if v := r.Violation; v != nil {
			s.Failures++
			if len(s.FailingSeeds) < listLimit {
				s.FailingSeeds = append(s.FailingSeeds, r.Seed)
				s.Violations = append(s.Violations, *v)
				if v.Capsule != "" {
					s.Capsules = append(s.Capsules, v.Capsule)
				}
			}
		}
	}
	s.Virtual = virtual.Seconds()
	s.CampaignHash = fmt.Sprintf("%016x", h.Sum())
	return s
}
