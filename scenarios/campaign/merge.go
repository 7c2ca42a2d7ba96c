package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Merged is the campaign that results files add up to.
type Merged struct {
	Report
	// Files are the results files read, in order.
	Files []string
	// Notes are what the merge left out or doubts, one line each: a last line still being
	// written, two different traces of one seed.
	Notes []string
	// Campaign is the campaign the results belong to (without its seeds).
	Campaign *Campaign
}

// ResultsFiles expands what a user names as results files: a file, a directory (every
// *.jsonl file in it), or a glob pattern (for a shell-less container, `merge
// '/results/shard-*.jsonl'`). A name that matches nothing is an error.
func ResultsFiles(names []string) ([]string, error) {
	var files []string
	for _, name := range names {
		st, err := os.Stat(name)
		switch {
		case err == nil && st.IsDir():
			found, _ := filepath.Glob(filepath.Join(globEscape(name), "*.jsonl"))
			if len(found) == 0 {
				return nil, fmt.Errorf("%s: a directory without results files (*.jsonl)", name)
			}
			files = append(files, found...)
		case err == nil:
			files = append(files, name)
		case strings.ContainsAny(name, "*?["):
			found, gerr := filepath.Glob(name)
			if gerr != nil {
				return nil, fmt.Errorf("%s: %v", name, gerr)
			}
			if len(found) == 0 {
				return nil, fmt.Errorf("%s: no file matches", name)
			}
			files = append(files, found...)
		default:
			return nil, fmt.Errorf("%s: %v", name, pathError(err))
		}
	}
	return files, nil
}

// globEscape quotes the pattern characters of a directory name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Merge folds results files (of shards, or of interrupted and resumed runs; see
// ResultsFiles for what names may be) into the report of their campaign: the very report a
// run of the whole campaign gives, its wall time aside, because a summary is folded in seed
// order whatever order the results come in. Files of different campaigns are refused; a seed
// found twice counts once (with a note if its two traces differ, which would mean the runs
// are not deterministic); a last line still being written is left out, with a note.
func Merge(names []string) (*Merged, error) {
	if len(names) == 0 {
		return nil, errors.New("want at least one results file (written by replica run -results)")
	}
	files, err := ResultsFiles(names)
	if err != nil {
		return nil, err
	}
	m := &Merged{Files: files}
	var id ID
	var results []Result
	hashes := map[uint64]string{}
	commits := map[string]bool{}
	firstKnown := false
	for _, path := range files {
		lines, partial, err := ReadResultsFile(path, true)
		if err != nil {
			return nil, err
		}
		if partial {
			m.Notes = append(m.Notes, fmt.Sprintf("%s: the last line is incomplete (still being written?): left out", path))
		}
		for _, l := range lines {
			if id.Protocol == "" {
				id = l.Campaign
			}
			if !l.Campaign.Equal(id) {
				return nil, fmt.Errorf("%s holds results of %s, the files before it of %s: not one campaign", path, l.Campaign, id)
			}
			if l.FirstSeed != nil && (!firstKnown || *l.FirstSeed < m.FirstSeed) {
				m.FirstSeed, firstKnown = *l.FirstSeed, true
			}
			commits[l.Commit] = true
			if h, seen := hashes[l.Seed]; seen {
				if h != l.TraceHash {
					m.Notes = append(m.Notes, fmt.Sprintf("warning: seed %d has two different traces (%s, %s): the runs are not deterministic", l.Seed, h, l.TraceHash))
				}
				continue
			}
			hashes[l.Seed] = l.TraceHash
			results = append(results, l.Result)
		}
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no results in %d %s", len(files), plural(len(files), "file", "files"))
	}
	if m.Campaign, err = id.Campaign(); err != nil {
		return nil, fmt.Errorf("results of %s: %v", id, err)
	}
	m.Summary = Summarize(m.Campaign.Head(), results, 0)
	m.Campaign.Detail(&m.Summary, DetailLimit)
	for _, r := range results {
		m.Seeds = append(m.Seeds, r.Seed)
	}
	slices.Sort(m.Seeds)
	if !firstKnown { // results written before lines carried their campaign's first seed
		m.FirstSeed = m.Seeds[0]
	}
	m.RunsToFirstFailure = RunsToFirstFailure(m.FirstSeed, results)
	if len(commits) == 1 {
		for c := range commits {
			m.Commit = c
		}
	}
	return m, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
