package campaign

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/replica-io/replica/scenarios"
)

// ID identifies the campaign a results line belongs to, so that merging and resuming refuse
// to mix campaigns, and a merge can rebuild the campaign's summary head.
type ID struct {
	Protocol      string            `json:"protocol"`
	Bug           string            `json:"bug,omitempty"`
	Scenario      string            `json:"scenario"`
	N             int               `json:"n"`
	F             int               `json:"f"`
	Options       map[string]string `json:"options,omitempty"`
	RequireFaults bool              `json:"require_faults,omitempty"`
	Guided        bool              `json:"guided,omitempty"`
}

// ID is the campaign's identity in results files.
func (c *Campaign) ID() ID {
	s := c.Spec
	return ID{Protocol: s.Protocol.Name, Bug: s.Bug, Scenario: s.Scenario.Name, N: s.Cluster.N,
		F: s.Cluster.F, Options: s.Options(), RequireFaults: c.RequireFaults, Guided: c.Guided}
}

func (id ID) String() string {
	s := id.Protocol
	if id.Bug != "" {
		s += "/" + id.Bug
	}
	s += fmt.Sprintf("@%s n=%d f=%d", id.Scenario, id.N, id.F)
	for _, k := range slices.Sorted(maps.Keys(id.Options)) {
		s += " " + k + "=" + id.Options[k]
	}
	if id.RequireFaults {
		s += " -require-faults"
	}
	if id.Guided {
		s += " -guided"
	}
	return s
}

// Equal reports whether two IDs name the same campaign.
func (id ID) Equal(o ID) bool { return id.String() == o.String() }

// Campaign rebuilds the campaign (without its seeds) that results of id belong to.
func (id ID) Campaign() (*Campaign, error) {
	s, err := scenarios.Resolve(id.Protocol, id.Bug, id.Scenario, id.N, id.F)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(id.Options)) { // the first bad option, the same every time
		v := id.Options[k]
		var err error
		switch k {
		case "faults":
			s.Faults, err = time.ParseDuration(v)
		case "clients":
			s.Clients, err = strconv.Atoi(v)
		case "ops":
			s.Ops, err = strconv.Atoi(v)
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("bad option %s=%s", k, v)
		}
	}
	return &Campaign{Spec: s, RequireFaults: id.RequireFaults, Guided: id.Guided}, nil
}

// Line is one line of a results file: a seed's result, the campaign it belongs to, and the
// campaign's first seed (and the commit it came from), so that a merge reports what the whole
// campaign's run reports.
type Line struct {
	Campaign  ID      `json:"campaign"`
	FirstSeed *uint64 `json:"first_seed,omitempty"`
	Commit    string  `json:"commit,omitempty"`
	Result
}

// ReadResults parses the lines of a results file named name. A last line without its newline
// that does not parse is a line still being written (or cut short by a kill): with partialOK
// it is left out and reported by partial; otherwise it is an error, as is every other line
// that does not parse.
func ReadResults(name string, r io.Reader, partialOK bool) (lines []Line, partial bool, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, false, err
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		var l Line
		if json.Unmarshal(data[i+1:], &l) != nil || !l.valid() {
			if !partialOK {
				return nil, false, fmt.Errorf("%s line %d: cut short (a results file still being written?)", name, bytes.Count(data, []byte("\n"))+1)
			}
			data, partial = data[:i+1], true
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || !l.valid() {
			return nil, false, fmt.Errorf("%s line %d: not a result line of replica run -results", name, n)
		}
		lines = append(lines, l)
	}
	return lines, partial, sc.Err()
}

func (l *Line) valid() bool { return l.Campaign.Protocol != "" && l.TraceHash != "" }

// ReadResultsFile reads the results file at path (see ReadResults).
func ReadResultsFile(path string, partialOK bool) ([]Line, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return ReadResults(path, f, partialOK)
}

// resultsFile appends results to a file, one JSON line each, the moment they come, so that an
// interrupted campaign loses nothing.
type resultsFile struct {
	path  string
	f     *os.File
	line  Line // the campaign's part of every line
	err   error
	lines int
}

func openResults(path string, line Line) (*resultsFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("-results %s: %v", path, pathError(err))
	}
	return &resultsFile{path: path, f: f, line: line}, nil
}

// add appends r; the first write error is kept, and later results are not written.
func (rf *resultsFile) add(r Result) {
	if rf.err != nil {
		return
	}
	l := rf.line
	l.Result = r
	b, err := json.Marshal(l)
	if err == nil {
		_, err = rf.f.Write(append(b, '\n'))
	}
	rf.err = err
	rf.lines++
}

func (rf *resultsFile) close() error {
	err := rf.f.Close()
	if rf.err != nil {
		return fmt.Errorf("-results %s: %v", rf.path, rf.err)
	}
	return err
}

// loadResumed reads a results file to resume: the results of id's campaign it holds, one per
// seed. A last line cut short by a kill is dropped, and cut from the file, so that appending
// starts on a fresh line. A missing file is a campaign not started yet.
// checkAppend refuses to append results of campaign id to a results file that holds another
// campaign's: the file would no longer merge, nor resume either campaign. The first line
// says whose results a file holds; a missing or empty file takes any.
func checkAppend(path string, id ID) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-results %s: %v", path, pathError(err))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		if json.Unmarshal(sc.Bytes(), &l) != nil || !l.valid() {
			return fmt.Errorf("-results %s: not a results file of replica run -results (its first line is not a result)", path)
		}
		if !l.Campaign.Equal(id) {
			return fmt.Errorf("-results %s: the file holds results of %s, not of %s: give each campaign a file of its own", path, l.Campaign, id)
		}
		return nil
	}
	return nil
}

func loadResumed(path string, id ID) (map[uint64]bool, []Result, error) {
	done := map[uint64]bool{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("-resume %s: %v", path, pathError(err))
	}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
		if err := os.Truncate(path, int64(len(data))); err != nil {
			return nil, nil, err
		}
	}
	lines, _, err := ReadResults(path, bytes.NewReader(data), false)
	if err != nil {
		return nil, nil, err
	}
	var results []Result
	for _, l := range lines {
		if !l.Campaign.Equal(id) {
			return nil, nil, fmt.Errorf("-resume %s: the file holds results of %s, not of %s", path, l.Campaign, id)
		}
		if !done[l.Seed] {
			done[l.Seed] = true
			results = append(results, l.Result)
		}
	}
	return done, results, nil
}
