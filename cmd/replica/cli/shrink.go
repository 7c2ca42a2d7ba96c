package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/replica-io/replica/scenarios/shrink"
	"github.com/replica-io/replica/sim/capsule"
)

func init() {
	register(command{name: "shrink", summary: "minimize a failing capsule while the same property keeps failing", run: runShrink})
}

// shrinkReport is what `replica shrink -json` prints.
type shrinkReport struct {
	Capsule        string  `json:"capsule"`
	From           string  `json:"from"`
	Property       string  `json:"property"`
	EventsBefore   int     `json:"events_before"`
	EventsAfter    int     `json:"events_after"`
	FaultsBefore   int     `json:"faults_before"`
	FaultsAfter    int     `json:"faults_after"`
	RequestsBefore int     `json:"requests_before"`
	RequestsAfter  int     `json:"requests_after"`
	NodesBefore    int     `json:"nodes_before"`
	NodesAfter     int     `json:"nodes_after"`
	ClientsBefore  int     `json:"clients_before"`
	ClientsAfter   int     `json:"clients_after"`
	Choices        int     `json:"choices"`
	Runs           int     `json:"runs"`
	Complete       bool    `json:"complete"`
	Hung           bool    `json:"hung,omitempty"` // a candidate run did not finish, which ended the search
	StillViolated  bool    `json:"still_violated"`
	Wall           float64 `json:"wall_seconds"`
}

func runShrink(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("shrink", "CAPSULE [-o OUT] [-timeout D] [-json]\n\n"+
		"Exit status 1: the shrunk capsule still violates the property, as replay of it would say\n"+
		"(with -json, 0: the report says it in still_violated).", stderr)
	out := fs.String("o", "", "where to write the shrunk capsule (default: CAPSULE with .min.capsule)")
	timeout := fs.Duration("timeout", time.Minute, "stop shrinking after this much wall time and keep the smallest failure found")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "shrink", "want exactly one capsule file, got %d arguments", len(pos))
	}
	if *timeout <= 0 {
		return usageError(stderr, "shrink", "-timeout %v: must be positive", *timeout)
	}
	tuneCampaignGC() // shrinking is a campaign of candidate runs
	path := pos[0]
	if *out == "" {
		*out = strings.TrimSuffix(path, ".capsule") + ".min.capsule"
	}
	c, err := capsule.Read(path)
	if err != nil {
		return usageError(stderr, "shrink", "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	status := newStatusLine(stderr)
	opt := shrink.Options{Deadline: start.Add(*timeout), Progress: func(s shrink.Status) {
		left := time.Until(start.Add(*timeout)).Round(time.Second)
		status.show("shrinking: %d runs (%.0f/s), now %s; %s; at most %v left",
			s.Runs, float64(s.Runs)/max(time.Since(start).Seconds(), 1e-9), s.Best, s.Stage, left)
	}}
	res, err := shrink.Capsule(ctx, c, opt)
	status.clear()
	if err != nil {
		return usageError(stderr, "shrink", "capsule %s: %v", path, err)
	}
	min := res.Capsule(c.Seed)
	if err := capsule.Write(*out, min); err != nil {
		return usageError(stderr, "shrink", "%v", err)
	}
	rep := shrinkReport{
		Capsule: *out, From: path, Property: res.Property,
		EventsBefore: res.Before.Events, EventsAfter: res.After.Events,
		FaultsBefore: res.Before.Faults, FaultsAfter: res.After.Faults,
		RequestsBefore: res.Before.Requests, RequestsAfter: res.After.Requests,
		NodesBefore: res.Before.Nodes, NodesAfter: res.After.Nodes,
		ClientsBefore: res.Before.Clients, ClientsAfter: res.After.Clients,
		Choices: len(min.Choices), Runs: res.Runs, Complete: res.Complete, Hung: res.Hung, Wall: time.Since(start).Seconds(),
		StillViolated: res.Property != "",
	}
	if *asJSON {
		// A script reads the verdict from the report; exit status 0 says the report is whole.
		printJSON(stdout, rep)
		return 0
	}
	fmt.Fprintf(stdout, "shrunk %s (%s seed %d): %s still violated\n", path, res.Spec.Name(), c.Seed, res.Property)
	row := func(what string, a, b int) { fmt.Fprintf(stdout, "  %-9s %5d -> %d\n", what, a, b) }
	row("events", rep.EventsBefore, rep.EventsAfter)
	row("faults", rep.FaultsBefore, rep.FaultsAfter)
	row("requests", rep.RequestsBefore, rep.RequestsAfter)
	row("nodes", rep.NodesBefore, rep.NodesAfter)
	row("clients", rep.ClientsBefore, rep.ClientsAfter)
	done := "no smaller failure is left among the edits tried"
	switch {
	case res.Hung:
		done = "stopped early: a run with edited choices did not finish (a step loops without end, which the recorded run did not reach); the result is the smallest failure found so far"
	case !res.Complete:
		done = "stopped early (-timeout or interrupt): the result is the smallest failure found so far"
	}
	fmt.Fprintf(stdout, "  %d runs in %.2fs; %s\n", rep.Runs, rep.Wall, done)
	fmt.Fprintf(stdout, "  capsule %s  (%s show %s)\n", *out, prog, *out)
	return 1 // the violation still holds, as replay of the shrunk capsule reports it
}
