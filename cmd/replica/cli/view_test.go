package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPageCommands: show -format html and view write a capsule's page, where they are told
// or beside a copy of the capsule, and exit 0 once it is written; bad input is one line and 2.
func TestPageCommands(t *testing.T) {
	orig, err := os.ReadFile(noPersistCapsule(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cap := filepath.Join(dir, "seed.capsule")
	if err := os.WriteFile(cap, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	isPage := func(what, page string) {
		t.Helper()
		if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, `id="replica-data"`) ||
			!strings.Contains(page, "agreement violated") || strings.Contains(page, `src="http`) {
			t.Errorf("%s is not the capsule's page: %.200s", what, page)
		}
	}
	out := filepath.Join(dir, "out.html")
	if code, _, errs := cli("show", "-format", "html", "-o", out, cap); code != 0 {
		t.Fatalf("show -format html -o exited %d: %s", code, errs)
	}
	page, _ := os.ReadFile(out)
	isPage("show -format html -o", string(page))
	code, stdout, errs := cli("show", cap, "-format", "html")
	if code != 0 {
		t.Fatalf("show -format html exited %d: %s", code, errs)
	}
	isPage("show -format html to standard output", stdout)
	code, stdout, errs = cli("view", cap)
	want := filepath.Join(dir, "seed.html")
	if code != 0 || strings.TrimSpace(stdout) != want {
		t.Fatalf("view exited %d, printed %q (%s), want the path %s", code, stdout, errs, want)
	}
	page, _ = os.ReadFile(want)
	isPage("view's page", string(page))
	for _, args := range [][]string{
		{"view"},
		{"view", cap, cap},
		{"view", filepath.Join(dir, "none.capsule")},
		{"view", "-o", filepath.Join(dir, "no", "such", "dir", "p.html"), cap},
		{"show", "-format", "html", filepath.Join(dir, "none.capsule")},
	} {
		code, _, errs := cli(args...)
		if code != 2 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, errs)
		}
	}
}
