package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/guide/counter"
	"github.com/replica-io/replica/cmd/replica/cli"
	"github.com/replica-io/replica/scenarios"
)

func TestMain(m *testing.M) {
	scenarios.Register(counter.Protocol)
	os.Exit(m.Run())
}

func replica(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(args, &out, &errb)
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
	var x struct{ Violation *struct{ Capsule string } }
	if err := json.Unmarshal([]byte(out), &x); code != 1 || err != nil || x.Violation == nil {
		t.Fatalf("explore: exit %d, %v: %s", code, err, out)
	}
	if code, out := replica(t, "replay", x.Violation.Capsule); code != 1 {
		t.Errorf("replay of the explorer's capsule: exit %d: %s", code, out)
	}
}
