package raft

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// The properties of Figure 3 of the Raft paper, checked after every step of a run.

// electionSafety: at most one leader is elected in a term. It reads the Elected outputs, so
// that two leaders of one term are caught even when they never coexist.
func electionSafety(w node.World) error {
	return pastOutputs(w, "raft/election-safety", func(past *history, o node.Output, e Elected) error {
		if first, ok := past.leaders[e.Term]; ok && first != o.Node {
			return fmt.Errorf("n%d and n%d were both elected leader of term %d", first, o.Node, e.Term)
		}
		past.leaders[e.Term] = o.Node
		return nil
	})
}

// stateMachineSafety: no two applications of one log index differ, whichever nodes made them
// and whenever (a node that crashed and recovered applies its log again).
func stateMachineSafety(w node.World) error {
	return pastOutputs(w, "raft/state-machine-safety", func(past *history, o node.Output, a Applied) error {
		if a.Index < past.base {
			return fmt.Errorf("n%d %s, an index that the synced snapshot of every server covers: no server restarts below it", o.Node, a)
		}
		for past.base+len(past.applied) <= a.Index {
			past.applied = append(past.applied, appliedBy{})
		}
		if b := past.applied[a.Index-past.base]; b.node != 0 && b.Applied != a {
			if b.node == o.Node { // one node applied two entries at one index: say what came between
				if between := node.Between(w, o.Node, b.at, o.Time); between != "" {
					return fmt.Errorf("n%d %s, then %s, then %s", o.Node, b.Applied, between, a)
				}
			}
			return fmt.Errorf("n%d %s, but n%d had %s", o.Node, a, b.node, b.Applied)
		}
		past.applied[a.Index-past.base] = appliedBy{a, o.Node, o.Time}
		if len(past.applied) >= past.forgetAt {
			past.forget(w)
		}
		return nil
	})
}

// history is what the safety properties remember of a run's outputs: the leader of each term,
// and the first application of each index from base on (applied[i-base]).
type history struct {
	leaders  map[int]node.ID
	applied  []appliedBy
	base     int
	forgetAt int // the length of applied at which to look for indices to let go of
}

// forgetEvery is how many indices the record of first applications grows by between looks
// for a prefix to let go of.
const forgetEvery = 1024

// forget lets go of the first applications of the indices that no server can apply again, so
// that an hour-long run does not remember every index it ever applied. A server applies index
// i only above what it has applied, and it restarts from its synced snapshot, which only grows
// (a compaction or an installed snapshot is synced in the step that makes it; a refused sync
// halts the server); so no server applies an index again that every server's synced snapshot
// covers. Where a server can restart below its synced snapshot (the no-checksum bug believes
// an altered read), or the world does not show its storage, it keeps everything.
func (past *history) forget(w node.World) {
	past.forgetAt = len(past.applied) + forgetEvery
	d, ok := w.(interface {
		Durable(id node.ID, key string) (any, bool)
	})
	if !ok || w.Config().Bug == BugNoChecksum {
		return
	}
	floor := -1
	for id := node.ID(1); int(id) <= w.Config().N; id++ {
		v, _ := d.Durable(id, keySnapshot)
		s, ok := v.(Snapshot)
		if !ok {
			return // a server without a snapshot may apply from the first index
		}
		if floor < 0 || s.Index < floor {
			floor = s.Index
		}
	}
	drop := min(floor+1-past.base, len(past.applied))
	if drop <= 0 {
		return
	}
	kept := copy(past.applied, past.applied[drop:])
	clear(past.applied[kept:])
	past.applied = past.applied[:kept]
	past.base += drop
	past.forgetAt = len(past.applied) + forgetEvery
}

type appliedBy struct {
	Applied
	node node.ID
	at   time.Duration
}

// pastOutputs runs check on the latest step's outputs, with what the property remembers of
// the earlier ones: the simulator keeps that memory for the run (node.Memo), and the property
// never reads the run's outputs whole, so that Raft runs streamed (node.Protocol.Streamed).
// Where the world keeps no memory for properties (the explorer's states), it rebuilds it from
// the earlier outputs first.
func pastOutputs[T any](w node.World, key string, check func(past *history, o node.Output, v T) error) error {
	past, ok := node.Memo(w, key, func() *history { return &history{leaders: map[int]node.ID{}} })
	visit := func(o node.Output) error {
		if v, ok := o.Value.(T); ok {
			return check(past, o, v)
		}
		return nil
	}
	fresh := w.NewOutputs()
	if !ok {
		past = &history{leaders: map[int]node.ID{}}
		all := w.Outputs()
		for _, o := range all[:len(all)-len(fresh)] {
			_ = visit(o) // earlier steps were checked when they happened
		}
	}
	for _, o := range fresh {
		if err := visit(o); err != nil {
			return err
		}
	}
	return nil
}

// logMatching: if two logs hold an entry with the same index and term, the logs are identical
// up to that index (§5.3). Compacted prefixes are not compared (only the snapshot's last term).
// Entries are compared by term: two different entries with one index and term can only come
// from two leaders of one term, which election safety reports.
func logMatching(w node.World) error {
	var buf [64]*Node
	up := upNodes(w, &buf)
	// Where the world remembers the logs it last compared, only pairs with a log that changed
	// since need comparing again: a step changes one node's log at most.
	var changed [64]bool
	seen, _ := node.Memo(w, "raft/log-matching", func() *[64]logVersion { return new([64]logVersion) })
	for _, n := range up {
		v := versionOf(n)
		changed[n.id-1] = seen == nil || seen[n.id-1] != v
		if seen != nil {
			seen[n.id-1] = v
		}
	}
	for i, a := range up {
		for _, b := range up[i+1:] {
			if !changed[a.id-1] && !changed[b.id-1] {
				continue
			}
			if err := matchLogs(a, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// logVersion identifies a log's contents: entries are never changed in place, and a log that
// loses entries gets fresh memory for the next ones (Log.TruncateAfter, Log.Compact), so the
// same first entry's address, base and length mean the same entries.
type logVersion struct {
	base, last int
	first      *Entry
}

func versionOf(n *Node) logVersion {
	v := logVersion{base: n.log.Base, last: n.log.Last()}
	if len(n.log.Entries) > 0 {
		v.first = &n.log.Entries[0]
	}
	return v
}

func matchLogs(a, b *Node) error {
	lo := max(a.log.Base, b.log.Base)
	i := min(a.log.Last(), b.log.Last())
	for ; i >= lo; i-- { // the highest index where both hold the same term
		if termAt(a, i) == termAt(b, i) {
			break
		}
	}
	if i <= lo {
		return nil
	}
	// Entries lo+1..i of both logs, side by side.
	ea, eb := a.log.Entries[lo-a.log.Base:i-a.log.Base], b.log.Entries[lo-b.log.Base:i-b.log.Base]
	for k := range ea {
		if ea[k].Term != eb[k].Term {
			j := lo + 1 + k
			return fmt.Errorf("n%d and n%d hold the same entry (term %d) at index %d, but differ at index %d: %s",
				a.id, b.id, termAt(a, i), i, j, describeAt(a, b, j))
		}
	}
	if termAt(a, lo) != termAt(b, lo) {
		return fmt.Errorf("n%d and n%d hold the same entry (term %d) at index %d, but differ at index %d: %s",
			a.id, b.id, termAt(a, i), i, lo, describeAt(a, b, lo))
	}
	return nil
}

// termAt is the term of entry i, which must be in [Base, Last].
func termAt(n *Node, i int) int {
	if i == n.log.Base {
		return n.log.BaseTerm
	}
	return n.log.Entries[i-n.log.Base-1].Term
}

func describeAt(a, b *Node, j int) string {
	show := func(n *Node) string {
		if j > n.log.Base {
			return n.log.At(j).String()
		}
		return fmt.Sprintf("snapshot t%d", n.log.BaseTerm)
	}
	return fmt.Sprintf("n%d has %s, n%d has %s", a.id, show(a), b.id, show(b))
}

// leaderCompleteness: an entry committed in a term is in the log of every leader of a later
// term (§5.4). A node's commit index was learned in its current term or before, so whatever a
// node with a lower term than a leader's knows to be committed must be in that leader's log.
func leaderCompleteness(w node.World) error {
	var buf [64]*Node
	nodes := upNodes(w, &buf)
	if err := electable(w, nodes); err != nil {
		return err
	}
	for _, l := range nodes {
		if l.role != Leader {
			continue
		}
		for _, a := range nodes {
			if a.term >= l.term {
				continue
			}
			for i := max(a.log.Base+1, l.log.Base+1); i <= a.commit; i++ {
				if i > l.log.Last() {
					return fmt.Errorf("leader n%d of term %d lacks entry %d (%s), which n%d knows committed",
						l.id, l.term, i, a.log.At(i), a.id)
				}
				if l.log.At(i) != a.log.At(i) {
					return fmt.Errorf("leader n%d of term %d has %s at index %d, where n%d knows %s committed",
						l.id, l.term, l.log.At(i), i, a.id, a.log.At(i))
				}
			}
		}
	}
	return nil
}

// electable is leader completeness in its strong form, the heart of its proof (§5.4.3): a
// server whose log lacks an entry some server knows committed cannot win an election, because
// a majority of its configuration holds logs more up-to-date than its own and would refuse
// it. A violation is reported as soon as such a leader becomes possible, without waiting for
// the run to elect it. Servers that are down are left out: they vote for no one.
func electable(w node.World, nodes []*Node) error {
	for _, a := range nodes {
		k := a.commit
		for _, c := range nodes {
			if c == a || !c.members.Has(c.id) || k <= c.log.Base || k <= a.log.Base && k <= c.log.Last() {
				continue // c cannot campaign, or holds k in its snapshot, or a holds it only in its own
			}
			if k <= c.log.Last() && termAt(c, k) == termAt(a, k) {
				continue // c holds the committed entry (and so, by log matching, all before it)
			}
			votes := 0
			for _, v := range nodes {
				if c.members.Has(v.id) && (v == c || v.log.UpToDate(c.log.Last(), c.log.LastTerm())) {
					votes++
				}
			}
			if votes >= c.members.Majority() {
				return fmt.Errorf("n%d lacks entry %d (t%d), which n%d knows committed, yet %d servers of its configuration %s would vote for it",
					c.id, k, termAt(a, k), a.id, votes, c.members)
			}
		}
	}
	return nil
}

// upNodes collects the states of the nodes that are up into buf, without allocating.
func upNodes(w node.World, buf *[64]*Node) []*Node {
	out := buf[:0]
	for id, n := node.ID(1), w.Config().N; int(id) <= n; id++ {
		if n, ok := node.StateOf[*Node](w, id); ok {
			out = append(out, n)
		}
	}
	return out
}

// progress, demanded once faults heal: a leader is in office, has committed an entry of its
// own term, and a majority of its configuration follows it. (The simulator adds that every
// client has had an operation answered.)
func progress(w node.World) []string {
	var buf [64]*Node
	nodes := upNodes(w, &buf)
	for _, l := range nodes {
		if l.role != Leader || l.commit < l.termStart || !l.members.Has(l.id) {
			continue
		}
		following := 0
		for _, a := range nodes {
			if l.members.Has(a.id) && a.term == l.term && a.leader == l.id {
				following++
			}
		}
		if following >= l.members.Majority() {
			return nil
		}
	}
	return []string{"no leader with an entry of its term committed and a majority of its configuration following"}
}

// advance measures progress for the fault-phase watchdog of scenarios that promise it:
// client operations completed (a client invokes its next operation only once the last one is
// done, so the history grows exactly then). Until the cluster has committed anything, its
// election rounds count too: electing a first leader is all a new cluster can do. Later
// elections do not: a cluster that keeps electing leaders without serving its clients is
// stuck, which is what partial connectivity does to Raft without Pre-Vote and CheckQuorum.
func advance(w node.World) int {
	var buf [64]*Node
	commit, term := 0, 0
	for _, n := range upNodes(w, &buf) {
		commit, term = max(commit, n.commit), max(term, n.term)
	}
	if commit == 0 {
		return node.OpCount(w) + term
	}
	return node.OpCount(w)
}

// coverage records notable events in a node's state, each noted once per incarnation as a
// Noted output, for the sometimes-properties.
type coverage uint16

const (
	seenCompact     coverage = 1 << iota // the node compacted its log into a snapshot
	seenInstall                          // a follower installed the leader's snapshot
	seenReadIndex                        // a read was served by ReadIndex
	seenDedup                            // a retried request was answered from its session
	seenBacktrack                        // a leader skipped a whole term when a follower refused
	seenTransfer                         // a leadership transfer started an election
	seenCheckQuorum                      // a leader stepped down for want of a majority
	seenLeaseKept                        // a server refused a (pre-)vote within a leader's lease
)

var coverageNames = [...]string{"log-compacted", "snapshot-installed", "read-index", "retry-deduplicated",
	"fast-backtrack", "leadership-transferred", "check-quorum-step-down", "lease-kept-leader"}

// Noted is an output saying that something notable happened at a node for the first time in
// its incarnation: what coverage (sometimes-properties) counts.
type Noted struct{ What string }

func (o Noted) String() string { return "noted " + o.What }

// note records c, with an output the first time.
func (n *Node) note(env node.Env, c coverage) {
	if n.seen&c != 0 {
		return
	}
	n.seen |= c
	for i := range coverageNames {
		if c == 1<<i {
			env.Output(Noted{What: coverageNames[i]})
		}
	}
}

// sometimes are the coverage properties: the first two must happen in every campaign; the
// others say which parts of the protocol a campaign exercised.
var sometimes = func() []node.Sometimes {
	s := []node.Sometimes{
		{Name: "leader-elected", Required: true, Reached: func(w node.World) bool {
			return node.AnyNew(w, func(Elected) bool { return true })
		}},
		{Name: "command-applied", Required: true, Reached: func(w node.World) bool {
			return node.AnyNew(w, func(a Applied) bool { return a.Type == Command })
		}},
		{Name: "configuration-changed", Reached: func(w node.World) bool {
			return node.AnyNew(w, func(a Applied) bool { return a.Type == Config })
		}},
	}
	for _, name := range coverageNames {
		s = append(s, node.Sometimes{Name: name, Reached: func(w node.World) bool {
			return node.AnyNew(w, func(n Noted) bool { return n.What == name })
		}})
	}
	return s
}()
