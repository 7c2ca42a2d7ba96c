package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A command is one subcommand: it parses its own flags from args and returns the exit status
// (see doc.go).
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order "replica help" prints them.
var commands []command

func register(c command) { commands = append(commands, c) }

// Main runs the command line on args (without the program name) with the process's standard
// output and error, and returns the exit status: the whole of a main function is
//
//	os.Exit(cli.Main(os.Args[1:]))
//
// after registering the program's own protocols, scenarios and models (scenarios.Register).
func Main(args []string) int {
	return RunAs(programName(os.Args[0]), args, os.Stdout, os.Stderr)
}

// prog is the program's name in usage lines, errors and hints: "replica", or under Main
// the name of the binary, so that a hint printed by a user's own command line (one that
// registers their protocol) is a command they can run. RunAs sets it.
var prog = "replica"

// programName is the base name of the binary at path, without a Windows ".exe".
func programName(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".exe")
	if name == "" || name == "." || name == string(filepath.Separator) {
		return "replica"
	}
	return name
}

// Run is Main with its output streams given, for tests, under the name "replica".
func Run(args []string, stdout, stderr io.Writer) int { return RunAs("replica", args, stdout, stderr) }

// RunAs is Run for a command line named program: a test of a user's own command line that
// compares what it prints with their documentation, say. One program name holds at a time.
func RunAs(program string, args []string, stdout, stderr io.Writer) int {
	prog = program
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s: no command given (run '%s help' for the list)\n", prog, prog)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q (run '%s help')\n", prog, args[0], prog)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> [flags]\n", prog)
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Run '%s <command> -h' for a command's flags.\n", prog)
	fmt.Fprintln(w, "Exit status: 0 no violation, 1 violation found, 2 bad usage or input, 3 incomplete (an")
	fmt.Fprintln(w, "exploration stopped by a budget or -timeout, or campaign runs that used up their event")
	fmt.Fprintln(w, "budget before their end), 130 a campaign interrupted (it says how to resume).")
}
