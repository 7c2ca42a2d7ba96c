// Package campaign runs a scenario over many seeds and sums up what happened: how many runs
// failed and why, how often each fault kind fired, which sometimes-properties were reached,
// and a campaign hash that identifies the whole campaign's traces at a glance.
//
// Seeds run in parallel on -workers goroutines, each run alone in its own world, and results
// are folded in seed order, so that the summary does not depend on the number of workers or
// on scheduling. Each result is handed to the caller as soon as its seed finishes (a results
// file, a progress line), so that an interrupted campaign loses nothing. Failing seeds are
// written as replay capsules.
package campaign
