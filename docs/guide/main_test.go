package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"example.com/guide/counter"
	"github.com/replica-io/replica/cmd/replica/cli"
	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/sim/simtest"
)

func TestMain(m *testing.M) {
	scenarios.Register(counter.Protocol)
	os.Exit(m.Run())
}

func replica(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.RunAs("guide", args, &out, &errb) // as `go run .` names it
	return code, out.String() + errb.String()
}

// Every command serves the counter: list it, find its bug, replay, shrink, show and explore.
func TestEveryCommandServesTheCounter(t *testing.T) {
	code, out := replica(t, "list", "-json")
	var l struct{ Protocols []struct{ Name string } }
	if err := json.Unmarshal([]byte(out), &l); code != 0 || err != nil || !strings.Contains(out, `"counter"`) {
		t.Fatalf("list -json: exit %d, %v: %s", code, err, out)
	}
	dir := t.TempDir()
	code, out = replica(t, "run", "-protocol", "counter", "-bug", counter.BugUnsyncedVote, "-seeds", "200", "-json", "-out", dir)
	var run struct{ Capsules []string }
	if err := json.Unmarshal([]byte(out), &run); code != 1 || err != nil || len(run.Capsules) == 0 {
		t.Fatalf("run: exit %d, %v: %s", code, err, out)
	}
	capsule := run.Capsules[0]
	if code, out := replica(t, "replay", capsule); code != 1 {
		t.Errorf("replay: exit %d: %s", code, out)
	}
	min := filepath.Join(dir, "min.capsule")
	if code, out := replica(t, "shrink", capsule, "-o", min); code != 1 {
		t.Errorf("shrink: exit %d: %s", code, out)
	}
	if code, out := replica(t, "show", min); code != 0 || !strings.Contains(out, "VIOLATION") {
		t.Errorf("show: exit %d: %s", code, out)
	}
	code, out = replica(t, "explore", "-protocol", "counter", "-bug", counter.BugUnsyncedVote, "-json", "-out", dir)
	var x struct {
		Violation *struct {
			Capsule string
			Steps   []string
			Message string
		}
	}
	if err := json.Unmarshal([]byte(out), &x); code != 1 || err != nil || x.Violation == nil {
		t.Fatalf("explore: exit %d, %v: %s", code, err, out)
	}
	want, message := guideViolation(t, "explore -protocol counter -bug unsynced-vote")
	if got := "commit-once violated: " + x.Violation.Message; got != message {
		t.Errorf("explore: the guide shows\n%s\nbut the explorer said\n%s", message, got)
	}
	if !slices.Equal(x.Violation.Steps, want) {
		t.Errorf("explore: the guide shows the path\n  %s\nbut the explorer found\n  %s",
			strings.Join(want, "\n  "), strings.Join(x.Violation.Steps, "\n  "))
	}
	if code, out := replica(t, "replay", x.Violation.Capsule); code != 1 {
		t.Errorf("replay of the explorer's capsule: exit %d: %s", code, out)
	}
}

// guideBlocks returns the commands of docs/GUIDE.md's examples, `$ go run . ARGS`, each with
// the lines the guide shows it printing, up to the next command or the end of the block.
func guideBlocks(t *testing.T) [][]string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "GUIDE.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]string
	in := false
	for _, line := range strings.Split(string(text), "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in
		case in && strings.HasPrefix(line, "$ go run . "):
			blocks = append(blocks, []string{strings.TrimPrefix(line, "$ go run . ")})
		case in && len(blocks) > 0 && !strings.HasPrefix(line, "$ "):
			if b := &blocks[len(blocks)-1]; len(*b) > 0 {
				*b = append(*b, line)
			}
		case strings.HasPrefix(line, "$ "):
			blocks = append(blocks, nil) // another program's command: not checked
		}
		if !in && len(blocks) > 0 && blocks[len(blocks)-1] != nil {
			blocks = append(blocks, nil)
		}
	}
	var out [][]string
	for _, b := range blocks {
		if len(b) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// shows reports whether out has a line the guide's line stands for: "..." in it stands for
// anything, and a line of "..." alone for any lines.
func shows(out, want string) bool {
	if strings.TrimSpace(want) == "..." || want == "" {
		return true
	}
	pieces := strings.Split(want, "...")
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, pieces[0]) {
			continue
		}
		rest, ok := line[len(pieces[0]):], true
		for _, p := range pieces[1:] {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok && (len(pieces) > 1 || rest == "") {
			return true
		}
	}
	return false
}

// What the guide shows `list` and `run` printing is what they print: a guide whose outputs
// went stale is a guide a newcomer cannot follow. (Explore's path is checked with the rest of
// the commands above.)
func TestTheGuideShowsWhatTheCommandsPrint(t *testing.T) {
	blocks := guideBlocks(t)
	t.Chdir(t.TempDir()) // run's capsules go under replica-out/, as in the guide
	checked := 0
	for _, b := range blocks {
		args := strings.Fields(b[0])
		if args[0] != "list" && args[0] != "run" {
			continue
		}
		checked++
		_, out := replica(t, args...)
		for _, want := range b[1:] {
			if !shows(out, want) {
				t.Errorf("go run . %s: the guide shows\n%s\nbut it printed:\n%s", b[0], want, out)
				break
			}
		}
	}
	if checked < 3 {
		t.Fatalf("found %d list and run examples in GUIDE.md, want 3: %q", checked, blocks)
	}
}

// guideViolation returns the steps of the violation the guide shows command printing, and
// the line that says what was violated.
func guideViolation(t *testing.T, command string) (steps []string, message string) {
	t.Helper()
	for _, b := range guideBlocks(t) {
		if b[0] != command {
			continue
		}
		in := false
		for _, line := range b[1:] {
			switch {
			case strings.HasPrefix(line, "VIOLATION"):
				in = true
			case in && strings.HasPrefix(line, "  "):
				steps = append(steps, strings.TrimSpace(line))
			case in:
				return steps, line
			}
		}
		return steps, ""
	}
	t.Fatalf("GUIDE.md shows no `go run . %s`", command)
	return nil, ""
}

// The guide's regression corpus: the shrunk unsynced-vote run still fails commit-once, and
// the correct counter passes its schedule.
func TestRegressions(t *testing.T) {
	simtest.Regressions(t, filepath.Join("testdata", "regressions"))
}
