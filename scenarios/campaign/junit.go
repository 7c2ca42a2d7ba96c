package campaign

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/replica-io/replica/sim"
)

// JUnit XML, as CI systems read it: one test case for the campaign, one per corpus capsule; a
// failure names the seed, the property and the capsule.
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

// WriteJUnit writes the report of the campaign called name (a spec's Name) as JUnit XML to
// path.
func WriteJUnit(path, name string, r Report) error {
	s := r.Summary
	suite := junitSuite{Name: "replica run " + name, Time: s.Wall}
	suite.Properties = []junitProperty{
		{"protocol", s.Protocol}, {"bug", s.Bug}, {"scenario", s.Scenario},
		{"n", fmt.Sprint(s.N)}, {"first_seed", fmt.Sprint(r.FirstSeed)}, {"seeds_run", fmt.Sprint(s.SeedsRun)},
		{"campaign_hash", s.CampaignHash},
	}
	if r.Commit != "" {
		suite.Properties = append(suite.Properties, junitProperty{"commit", r.Commit})
	}
	if r.Shard != "" {
		suite.Properties = append(suite.Properties, junitProperty{"shard", r.Shard})
	}
	main := junitCase{Class: "replica." + s.Protocol, Name: name, Time: s.Wall,
		Out: fmt.Sprintf("%d seeds, %d failures, %d events; faults: %s; campaign hash %s",
			s.SeedsRun, s.Failures, s.Events, CountsLine(s.Faults), s.CampaignHash)}
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
			if why, failed := CapsuleError(v.Capsule); failed {
				fmt.Fprintf(&body, "  no capsule: it could not be written: %s\n", why)
			} else if v.Capsule != "" {
				fmt.Fprintf(&body, "  capsule %s (replica replay %s; replica shrink %s)\n", v.Capsule, v.Capsule, v.Capsule)
			}
		}
		main.Failure = &junitFailure{Message: msg, Type: v.Property, Body: body.String()}
	}
	suite.Cases = append(suite.Cases, main)
	for _, c := range r.Corpus {
		jc := junitCase{Class: "replica.corpus", Name: c.Capsule}
		if v := c.Violation; v != nil {
			jc.Failure = &junitFailure{Type: v.Property,
				Message: fmt.Sprintf("corpus capsule %s fails %s against %s: %s", c.Capsule, v.Property, c.Variant, v.Message),
				Body:    fmt.Sprintf("replica replay %s\n", c.Capsule)}
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

// CountsLine lists fault counts in the simulator's fixed order of kinds: "drop 3, crash 1",
// or "none fired".
func CountsLine(m map[string]int) string {
	var parts []string
	for k := sim.Kind(0); k < sim.NumKinds; k++ {
		if n := m[k.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none fired"
	}
	return strings.Join(parts, ", ")
}
