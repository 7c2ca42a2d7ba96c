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
// Exit status: 0 no violation, 1 a violation found (or reproduced), 2 bad usage or input (a
// one-line error names the problem), 3 an exploration stopped before it was complete, 130
// interrupted.
package cli
