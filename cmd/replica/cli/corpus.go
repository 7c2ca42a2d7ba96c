package cli

import (
	"fmt"
	"io"

	"github.com/replica-io/replica/scenarios/campaign"
)

func printCorpus(w io.Writer, rs []campaign.CorpusResult) {
	if len(rs) == 0 {
		return
	}
	failed := 0
	for _, r := range rs {
		if r.Violation != nil {
			failed++
		}
	}
	fmt.Fprintf(w, "corpus: %d capsules re-run against %s, %d failed\n", len(rs), rs[0].Variant, failed)
	for _, r := range rs {
		if v := r.Violation; v != nil {
			fmt.Fprintf(w, "FAIL corpus %s: %s violated at %.3fs (event %d): %s\n", r.Capsule, v.Property, v.Time, v.Event, v.Message)
		}
	}
}
