package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/replica-io/replica/scenarios/campaign"
)

func init() {
	register(command{name: "merge", summary: "combine the results files of a sharded campaign into one summary", run: runMerge})
}

func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", "[-json] FILES...", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object, the same summary `replica run -json` prints")
	files, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(stderr, "replica merge", "want at least one results file (written by replica run -results)")
	}
	var id campaignID
	var results []campaign.Result
	hashes := map[uint64]string{}
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return usageError(stderr, "replica merge", "%v", err)
		}
		lines, err := readResults(path, f)
		f.Close()
		if err != nil {
			return usageError(stderr, "replica merge", "%v", err)
		}
		for _, l := range lines {
			if id.Protocol == "" {
				id = l.Campaign
			}
			if !l.Campaign.equal(id) {
				return usageError(stderr, "replica merge", "%s holds results of %s, the files before it of %s: not one campaign", path, l.Campaign, id)
			}
			if h, seen := hashes[l.Seed]; seen {
				// A seed run twice (an overlap of shards, a resumed run): keep the first,
				// but two different traces of one seed mean the runs are not deterministic.
				if h != l.TraceHash {
					fmt.Fprintf(stderr, "replica merge: warning: seed %d has two different traces (%s, %s): the runs are not deterministic\n", l.Seed, h, l.TraceHash)
				}
				continue
			}
			hashes[l.Seed] = l.TraceHash
			results = append(results, l.Result)
		}
	}
	if len(results) == 0 {
		return usageError(stderr, "replica merge", "no results in %d files", len(files))
	}
	c, err := id.campaign()
	if err != nil {
		return usageError(stderr, "replica merge", "results of %s: %v", id, err)
	}
	spec := c.Spec
	sum := campaign.Summarize(c.Head(), results, 0)
	sum.Wall = 0 // unknown: the shards ran apart
	c.Detail(&sum, campaign.DetailLimit)
	if *asJSON {
		printJSON(stdout, sum)
	} else {
		seeds := make([]uint64, 0, len(results))
		for _, r := range results {
			seeds = append(seeds, r.Seed)
		}
		sortSeeds(seeds)
		fmt.Fprintf(stdout, "merged %d files: %d distinct seeds\n", len(files), len(seeds))
		printSummary(stdout, spec, seeds, sum)
	}
	if sum.Failed() {
		return 1
	}
	return 0
}
