// Package simtest makes a protocol's property tests short: a seeded campaign in one call, a
// rapid property whose failing fault schedule rapid shrinks by itself, and a Go fuzz target.
//
//	func TestPaxos(t *testing.T) {
//		spec, _ := scenarios.Resolve("paxos", "", "crash-restart", 0, 0)
//		simtest.Run(t, spec, simtest.Seeds(300)) // 300 seeded runs, every property checked
//		simtest.Check(t, spec)                   // rapid draws every choice of a run
//	}
//
// Every driver differs only in its chooser (see sim.Chooser). Run uses the seeded chooser of
// campaigns, so a failing seed is the same failure `replica run -seed-start` finds. Check
// hands every choice to rapid: each Choose is an integer rapid draws in range, each Flip a
// few coin tosses that all come up heads about as often as the fault profile asks. Rapid
// shrinks its draws toward zero, and zero is every choice's benign answer (no fault, the
// shortest delay, the first option), so rapid's shrinking removes faults and events from a
// failing schedule by itself, and keeps it in its fail file (testdata/rapid/<Test>/...),
// which the next `go test` replays first. Fuzz lets Go's fuzzer choose: each input is a seed
// and a prefix of choices that overrides the first choices of the seed's run.
//
// A scenario is anything with a Config() sim.Config method: a resolved scenarios.Spec, or a
// hand-built configuration wrapped by Of. A Spec also knows how to write its failures as
// replay capsules; Run then saves the first failing seed's capsule, and Check the failure
// rapid shrank, under the test's artifact directory (kept with `go test -artifacts`), ready
// for `replica show` and `replica shrink`.
//
// Every run is watched (sim.Watched): one that has not finished after SeedTimeout (default a
// minute; a step that loops without end) fails its test as a violation of sim.PropHang that
// names the event, the node and the frame where it loops, as `replica run` reports it, and
// the test function returns; no further run is started.
package simtest
