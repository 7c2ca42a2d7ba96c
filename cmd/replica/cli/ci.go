package cli

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/replica-io/replica/scenarios"
	"github.com/replica-io/replica/scenarios/campaign"
	"github.com/replica-io/replica/sim/capsule"
)

// corpusResult is the outcome of one regression capsule re-run against the campaign.
type corpusResult struct {
	Capsule   string         `json:"capsule"`
	Recorded  string         `json:"recorded_property,omitempty"`
	Variant   string         `json:"variant"`
	Events    int            `json:"events"`
	Violation *violationJSON `json:"violation,omitempty"`
}

// runCorpus re-runs every capsule of the campaign's protocol under dir against the
// campaign's variant (its -bug, or the correct protocol): the schedules that once found a
// bug are the first thing every campaign tries. Capsules of other protocols are skipped.
func runCorpus(dir string, spec *scenarios.Spec) ([]corpusResult, error) {
	paths, err := scenarios.Corpus(dir)
	if err != nil {
		return nil, fmt.Errorf("-corpus %s: %v", dir, err)
	}
	var out []corpusResult
	for _, path := range paths {
		c, err := capsule.Read(path)
		if err != nil {
			return nil, err
		}
		if c.Protocol != spec.Protocol.Name {
			continue
		}
		r, err := scenarios.ReplayAs(c, spec.Bug)
		if err != nil {
			return nil, fmt.Errorf("capsule %s: %v", path, err)
		}
		variant := spec.Protocol.Name
		if spec.Bug != "" {
			variant += "/" + spec.Bug
		}
		out = append(out, corpusResult{Capsule: path, Recorded: c.Property, Variant: variant, Events: r.Events,
			Violation: newViolationJSON(r.Violation)})
	}
	return out, nil
}

func printCorpus(w io.Writer, rs []corpusResult) {
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

// JUnit XML, as CI systems read it: one test case per scenario (the campaign), one per
// corpus capsule; a failure names the seed, the property and the capsule.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       float64         `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Time    float64       `xml:"time,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
	Out     string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// writeJUnit writes the campaign's report as JUnit XML to path.
func writeJUnit(path string, spec *scenarios.Spec, fl *fleet, s campaign.Summary) error {
	suite := junitSuite{Name: "replica run " + spec.Name(), Time: s.Wall}
	suite.Properties = []junitProperty{
		{"protocol", s.Protocol}, {"bug", s.Bug}, {"scenario", s.Scenario},
		{"n", fmt.Sprint(s.N)}, {"first_seed", fmt.Sprint(fl.first)}, {"seeds_run", fmt.Sprint(s.SeedsRun)},
		{"campaign_hash", s.CampaignHash},
	}
	if fl.commit != "" {
		suite.Properties = append(suite.Properties, junitProperty{"commit", fl.commit})
	}
	if fl.ff.shard != "" {
		suite.Properties = append(suite.Properties, junitProperty{"shard", fl.ff.shard})
	}
	main := junitCase{Class: "replica." + s.Protocol, Name: spec.Name(), Time: s.Wall,
		Out: fmt.Sprintf("%d seeds, %d failures, %d events; faults: %s; campaign hash %s",
			s.SeedsRun, s.Failures, s.Events, countsLine(s.Faults), s.CampaignHash)}
	if s.Failures > 0 {
		v := s.Violations[0]
		msg := fmt.Sprintf("%d of %d seeds failed; first: seed %d: %s violated: %s", s.Failures, s.SeedsRun,
			v.Seed, v.Property, v.Message)
		if v.Capsule != "" {
			msg += "; capsule " + v.Capsule
		}
		var body strings.Builder
		for _, v := range s.Violations {
			fmt.Fprintf(&body, "seed %d: %s violated at %.3fs (event %d): %s\n", v.Seed, v.Property, v.Time, v.Event, v.Message)
			if v.Capsule != "" {
				fmt.Fprintf(&body, "  capsule %s (replica replay %s; replica shrink %s)\n", v.Capsule, v.Capsule, v.Capsule)
			}
		}
		main.Failure = &junitFailure{Message: msg, Type: v.Property, Body: body.String()}
	}
	suite.Cases = append(suite.Cases, main)
	for _, r := range fl.corpus {
		jc := junitCase{Class: "replica.corpus", Name: r.Capsule}
		if v := r.Violation; v != nil {
			jc.Failure = &junitFailure{Type: v.Property,
				Message: fmt.Sprintf("corpus capsule %s fails %s against %s: %s", r.Capsule, v.Property, r.Variant, v.Message),
				Body:    fmt.Sprintf("replica replay %s\n", r.Capsule)}
		}
		suite.Cases = append(suite.Cases, jc)
	}
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
	}
	doc := junitSuites{Name: "replica", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time,
		Suites: []junitSuite{suite}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}
