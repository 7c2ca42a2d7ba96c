package cli

import (
	"fmt"
	"io"

	"github.com/replica-io/replica/scenarios/campaign"
)

func init() {
	register(command{name: "merge", summary: "combine the results files of a sharded campaign into one summary", run: runMerge})
}

func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", "[-json] FILE|DIR|PATTERN...", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object: the summary that "+prog+" run -json prints for the whole campaign")
	names, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	m, err := campaign.Merge(names)
	if err != nil {
		return usageError(stderr, "merge", "%v", err)
	}
	for _, n := range m.Notes {
		fmt.Fprintf(stderr, "%s merge: %s\n", prog, n)
	}
	if *asJSON {
		printJSON(stdout, m.Report)
	} else {
		fmt.Fprintf(stdout, "merged %d files: %d distinct seeds\n", len(m.Files), len(m.Seeds))
		printSummary(stdout, m.Campaign.Spec, m.Seeds, m.Summary, false, searchLines(m.Report))
	}
	return campaignExitCode(m.Summary, m.Failed())
}
