// Command replica runs fault-injection campaigns, replays and shrinks failures, and explores
// protocols exhaustively. Run "replica help" for the list of subcommands.
//
// The whole command line is the package cmd/replica/cli; a program of one's own that registers
// its protocols and calls cli.Main gets every command for them too (see docs/GUIDE.md).
package main

import (
	"os"

	"github.com/replica-io/replica/cmd/replica/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
