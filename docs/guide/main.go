// Command guide is Replica_IO's command line with the guide's counter registered beside the
// reference protocols: `go run . list`, `go run . run -protocol counter -bug unsynced-vote`,
// and every other command, for the counter as for the built-in ones.
package main

import (
	"os"

	"example.com/guide/counter"
	"github.com/replica-io/replica/cmd/replica/cli"
	"github.com/replica-io/replica/scenarios"
)

func main() {
	scenarios.Register(counter.Protocol)
	os.Exit(cli.Main(os.Args[1:]))
}
