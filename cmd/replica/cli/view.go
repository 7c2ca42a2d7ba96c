package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/replica-io/replica/scenarios/view"
)

func init() {
	register(command{name: "view", summary: "write a capsule's run as a page to step through (a space-time diagram) and print its path", run: runView})
}

func runView(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("view", "CAPSULE [-o FILE]", stderr)
	out := fs.String("o", "", "where to write the page (default: beside the capsule, with .html for .capsule; the system's temporary directory where that cannot be written)")
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "view", "want exactly one capsule file, got %d arguments", len(pos))
	}
	path := pos[0]
	page := *out
	if page == "" {
		page = strings.TrimSuffix(path, ".capsule") + ".html"
		if !writable(filepath.Dir(page)) {
			page = filepath.Join(os.TempDir(), filepath.Base(page))
		}
	}
	_, extra, err := view.WriteFile(path, page)
	if err != nil {
		return usageError(stderr, "view", "%v", err)
	}
	for _, e := range extra {
		fmt.Fprintf(stderr, "wrote %s beside the page\n", e)
	}
	fmt.Fprintln(stdout, page)
	return 0 // the page is written; it shows the violation, if there is one
}

// writable reports whether a file can be created in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".replica-view-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}
