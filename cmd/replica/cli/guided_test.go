package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRunGuided: -guided runs a guided search and says what it kept; -json reports runs to
// the first failure for random and guided campaigns alike, and findability in both.
func TestRunGuided(t *testing.T) {
	dir := t.TempDir()
	for _, guided := range []bool{false, true} {
		args := []string{"run", "-protocol", "paxos", "-bug", "no-retry", "-seeds", "30", "-seed-start", "5", "-json", "-out", dir}
		if guided {
			args = append(args, "-guided")
		}
		code, out, errOut := replica(t, args...)
		if code != 1 {
			t.Fatalf("%v: exit %d, want 1: %s", args, code, errOut)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		runs, ok := rep["runs_to_first_failure"].(float64)
		seeds := rep["failing_seeds"].([]any)
		if !ok || runs != seeds[0].(float64)-5+1 {
			t.Errorf("guided=%v: runs_to_first_failure %v, first failing seed %v", guided, rep["runs_to_first_failure"], seeds[0])
		}
		if f, ok := rep["findability"].(map[string]any); !ok || f["runs_for_99_percent"].(float64) < 1 {
			t.Errorf("guided=%v: findability %v", guided, rep["findability"])
		}
		if _, ok := rep["guided"]; ok != guided {
			t.Errorf("guided=%v: the report's guided section is there: %v", guided, ok)
		}
	}
	code, out, _ := replica(t, "run", "-protocol", "paxos", "-seeds", "20", "-guided", "-out", dir)
	if code != 0 || !strings.Contains(out, "guided: a corpus of") || !strings.Contains(out, "findability: no failure in 20 runs") {
		t.Errorf("text summary of a guided campaign (exit %d):\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"run", "-guided", "-shard", "0/2"},
		{"run", "-guided-corpus", dir},
	} {
		if code, _, errOut := replica(t, bad...); code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: exit %d, want 2 with one line: %q", bad, code, errOut)
		}
	}
}
