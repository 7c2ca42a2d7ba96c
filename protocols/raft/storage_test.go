package raft

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/replica-io/replica/protocols/node"
)

// diskEnv is just enough of an Env to store and load: a map, copied in and out.
type diskEnv struct {
	node.Env
	disk map[string]any
}

func (e *diskEnv) Store(key string, v any)     { e.disk[key] = copyMsg(v) }
func (e *diskEnv) Load(key string) (any, bool) { v, ok := e.disk[key]; return copyMsg(v), ok }

// Whatever a log goes through (appends, conflicting suffixes replaced, compaction, a snapshot
// installed over it), reading it back from storage gives the same log, and compaction leaves
// no segment that only holds compacted entries.
func TestStoredLogReadsBack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		env := &diskEnv{disk: map[string]any{}}
		n := &Node{}
		term := 1
		entry := func() Entry { return Entry{Term: term, Type: Command, Seq: rapid.IntRange(0, 9).Draw(t, "seq")} }
		for step := range rapid.IntRange(1, 40).Draw(t, "steps") {
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 0: // append a few entries
				from := n.log.Last() + 1
				for range rapid.IntRange(1, 20).Draw(t, "count") {
					n.log.Append(entry())
				}
				n.saveLog(env, from)
			case 1: // a new leader's entries replace a suffix
				if n.log.Last() > n.log.Base {
					i := rapid.IntRange(n.log.Base+1, n.log.Last()).Draw(t, "conflict")
					term++
					n.log.TruncateAfter(i - 1)
					n.log.Append(entry())
					n.saveLog(env, i)
				}
			case 2: // compact up to some entry
				if n.log.Last() > n.log.Base {
					i := rapid.IntRange(n.log.Base+1, n.log.Last()).Draw(t, "compact")
					base := n.log.Base
					tm, _ := n.log.Term(i)
					n.log.Compact(i, tm)
					n.saveLog(env, n.log.Last()+1)
					dropSegments(env, base+1, n.log.Base)
				}
			case 3: // a snapshot beyond the log replaces it
				base := n.log.Base
				term++
				n.log = Log{Base: n.log.Last() + rapid.IntRange(1, 40).Draw(t, "ahead"), BaseTerm: term}
				n.saveLog(env, n.log.Last()+1)
				dropSegments(env, base+1, n.log.Base)
			}
			got := n.loadLog(env, Snapshot{})
			if diff := cmp.Diff(n.log, got, cmp.Comparer(func(a, b []Entry) bool { return cmp.Equal(append([]Entry{}, a...), append([]Entry{}, b...)) })); diff != "" {
				t.Fatalf("step %d: the log read back differs (-kept +read):\n%s", step, diff)
			}
			for key, v := range env.disk {
				if s, ok := v.(segment); ok && len(s.Entries) > 0 && s.First+len(s.Entries)-1 <= n.log.Base-segmentSize {
					t.Fatalf("step %d: segment %s holds only compacted entries (up to %d, base %d)", step, key, s.First+len(s.Entries)-1, n.log.Base)
				}
			}
		}
	})
}
