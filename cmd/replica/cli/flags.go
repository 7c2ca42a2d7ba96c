package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/replica-io/replica/internal/machine"
)

// newFlags returns a flag set that reports errors itself, as one line, so that every bad
// flag gets the same treatment: a one-line error naming the problem, and exit status 2.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every error; we print -h only
	usages[fs] = func() {
		fmt.Fprintf(stderr, "usage: %s %s %s\n\n", prog, name, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// setFlags returns the names of the flags given on the command line, so that a flag whose
// zero value means "the default" can still refuse an explicit zero (-n 0).
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// usages holds each flag set's help printer.
var usages = map[*flag.FlagSet]func(){}

// parse parses args; it returns (exit status, false) when the command should stop: 0 after
// -h, 2 after a bad flag.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		usages[fs]()
		return 0, false
	}
	if err != nil {
		return usageError(stderr, fs.Name(), "%s", firstLine(err.Error())), false
	}
	return 0, true
}

// usageError prints a one-line error, headed by the command ("run", "capsule fix"), and
// returns exit status 2.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s %s: %s\n", prog, cmd, firstLine(fmt.Sprintf(format, args...)))
	return 2
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// addWatchMemory adds -max-memory to a command whose runs go under the run watchdog
// (sim.Watched); apply it with sim.WatchMemory after parsing. The default is the machine's
// safe share, as explore's.
func addWatchMemory(fs *flag.FlagSet) *memoryFlag {
	m := memoryFlag(machine.SafeMemory())
	fs.Var(&m, "max-memory", "a step that takes memory without end is stopped (a violation of no-hang) once the process holds more than `SIZE`, "+
		"e.g. 4GiB (default: "+formatSize(int64(m))+", a safe share of this machine)")
	return &m
}
