package cli

import (
	"flag"
	"fmt"
	"io"
	"time"
)

// statusLine is a one-line status of long work (a shrink, a campaign under a time budget),
// redrawn in place at most five times a second on a terminal and never shown otherwise.
type statusLine struct {
	w     io.Writer
	on    bool
	last  time.Time
	shown bool
}

func newStatusLine(w io.Writer) *statusLine { return &statusLine{w: w, on: isTerminal(w)} }

// show redraws the line, unless it was drawn less than 200ms ago.
func (s *statusLine) show(format string, args ...any) {
	if !s.on || time.Since(s.last) < 200*time.Millisecond {
		return
	}
	s.last = time.Now()
	fmt.Fprintf(s.w, "\r\033[K"+format, args...)
	s.shown = true
}

// clear erases the line before other output.
func (s *statusLine) clear() {
	if s.shown {
		fmt.Fprint(s.w, "\r\033[K")
		s.shown = false
	}
}

// parseInterspersed parses flags that may come before or after the positional arguments
// (`replica show CAPSULE -format jsonl`), which the flag package alone stops at. It
// returns the positional arguments, or (nil, exit status, false) as parse does.
func parseInterspersed(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, int, bool) {
	var pos []string
	for {
		if code, ok := parse(fs, args, stderr); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
