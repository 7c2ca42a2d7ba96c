package cli

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The README's command-line synopsis is what users read first; a flag added to a command and
// not to the synopsis, or one the synopsis still shows after it went, makes it untrue. This
// test holds the two together: for each command of the synopsis, the flags it shows are the
// flags the command's -h lists.
func TestReadmeSynopsisNamesEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	synopsis := readmeSynopsis(t, string(readme))
	if len(synopsis) < 8 {
		t.Fatalf("found %d commands in the README's synopsis, want the whole command line: %v", len(synopsis), synopsis)
	}
	helpFlag := regexp.MustCompile(`(?m)^  -([a-z][a-z-]*)`)
	for cmd, shown := range synopsis {
		var out bytes.Buffer
		args := append(strings.Fields(cmd), "-h")
		if code := Run(args, &out, &out); code != 0 {
			t.Errorf("replica %s -h: exit %d: %s", cmd, code, firstLine(out.String()))
			continue
		}
		defined := flagNames(helpFlag, out.String())
		if missing := minus(defined, shown); len(missing) > 0 {
			t.Errorf("README's synopsis of %q lacks %v", cmd, missing)
		}
		if extra := minus(shown, defined); len(extra) > 0 {
			t.Errorf("README's synopsis of %q shows %v, which the command does not have", cmd, extra)
		}
	}
}

// readmeSynopsis returns, for each command of the fenced block under "## Command line", the
// flags its lines show. A line starting with "replica" opens a command (its words up to the
// first flag or argument); indented lines continue it.
func readmeSynopsis(t *testing.T, readme string) map[string][]string {
	_, rest, ok := strings.Cut(readme, "## Command line\n")
	if !ok {
		t.Fatal(`README.md has no "## Command line" section`)
	}
	_, rest, ok = strings.Cut(rest, "```\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the README's command line section has no fenced synopsis")
	}
	flag := regexp.MustCompile(`\[-([a-z][a-z-]*)`)
	out := map[string][]string{}
	cmd := ""
	for _, line := range strings.Split(block, "\n") {
		if rest, ok := strings.CutPrefix(line, "replica "); ok {
			var words []string
			for _, w := range strings.Fields(rest) {
				if w != strings.ToLower(w) || strings.ContainsAny(w, "[-|.") {
					break // an argument (CAPSULE, FILE|DIR) or the first flag
				}
				words = append(words, w)
			}
			cmd = strings.Join(words, " ")
			out[cmd] = nil
		}
		if cmd != "" {
			out[cmd] = append(out[cmd], flagNames(flag, line)...)
		}
	}
	return out
}

func flagNames(re *regexp.Regexp, s string) []string {
	var names []string
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// minus returns the names of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
