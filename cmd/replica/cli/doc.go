// Package cli is the replica command line as a library: list, run, replay, shrink, show,
// explore and merge, for the reference protocols and for every protocol, scenario and plain
// model a program registers with package scenarios before it calls Main.
//
// A user's own binary is five lines:
//
//	func main() {
//		scenarios.Register(mine.Protocol)
//		os.Exit(cli.Main(os.Args[1:]))
//	}
//
// Exit status, the same for every command:
//
//	0    no violation
//	1    a violation found, reproduced (replay) or still holding (shrink; with -json, 0 and
//	     the report says it), or coverage that fell short
//	2    bad usage or input: a one-line error names the problem
//	3    incomplete: an exploration stopped by a budget or -timeout before it had seen every
//	     state, or campaign runs that used up their event budget before their end
//	130  a campaign interrupted (SIGINT): its summary so far, and how to resume it
//
// show exits 0 whatever the run it shows; replay and shrink are the commands whose status
// says whether a capsule fails.
package cli
