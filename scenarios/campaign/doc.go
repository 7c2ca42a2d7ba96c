// Package campaign runs a scenario over many seeds and sums up what happened: how many runs
// failed and why, how often each fault kind fired, which sometimes-properties were reached,
// and a campaign hash that identifies the whole campaign's traces at a glance.
//
// Seeds run in parallel on -workers goroutines, each run alone in its own world, and results
// are folded in seed order, so that the summary does not depend on the number of workers or
// on scheduling. Each result is handed to the caller as soon as its seed finishes (a results
// file, a progress line), so that an interrupted campaign loses nothing. Failing seeds are
// written as replay capsules.
//
// A Plan says which seeds to run and what becomes of their results: a shard of a campaign
// split over machines (Shard), a results file that keeps every result as a JSON line the
// moment it comes (Line), a resumed run that skips the seeds such a file holds, a wall-time
// budget, a regression corpus re-run first (RunCorpus), a JUnit report (WriteJUnit), a guided
// campaign's corpus directory (GuidedCorpus).
// Campaign.Prepare checks a plan, its output paths among it, before the first seed;
// Runner.Run carries it out and returns the Report that `replica run -json` prints. Merge
// folds results files back into the report of their whole campaign:
//
//	r, err := (&campaign.Campaign{Spec: spec}).Prepare(campaign.Plan{Count: 1000,
//		Shard: campaign.Shard{I: 0, N: 4}, Results: "shard-0.jsonl"})
//	...
//	report, err := r.Run(ctx)
//	...
//	merged, err := campaign.Merge([]string{"shard-*.jsonl"}) // == the unsharded report
//
// A guided campaign (Campaign.Guided) runs the same number of runs as a search: after the
// first few, each run mutates an earlier one that reached new coverage (see guided.go and
// sim.Search). It is as deterministic as a random one, resumes from its results file, and keeps
// its corpus beside the regression capsules when asked to. Every report says after how many
// runs the first failure came (RunsToFirstFailure), and how many runs without one a fixed
// version needs for 99% confidence (Findability).
//
// Every run is watched (sim.Watched, Campaign.SeedTimeout): a seed that has not finished in
// time is a violation of PropHang naming the event, the node and the protocol's frame where
// it loops, its stack as the details (HungResult). The campaign then starts no more seeds, as
// the stuck goroutine cannot be stopped (Summary.StoppedByHang), counts the hung runs apart
// (Summary.Hung: their counts are missing), and does not judge its coverage.
package campaign
