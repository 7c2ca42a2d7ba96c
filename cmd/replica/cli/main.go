package cli

import (
	"fmt"
	"io"
	"os"
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
func Main(args []string) int { return Run(args, os.Stdout, os.Stderr) }

// Run is Main with its output streams given, for tests.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "replica: no command given (run 'replica help' for the list)")
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
	fmt.Fprintf(stderr, "replica: unknown command %q (run 'replica help')\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: replica <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'replica <command> -h' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 no violation, 1 violation found, 2 bad usage or input, 3 incomplete (an")
	fmt.Fprintln(w, "exploration stopped by a budget or -timeout, or campaign runs that used up their event")
	fmt.Fprintln(w, "budget before their end), 130 a campaign interrupted (it says how to resume).")
}
