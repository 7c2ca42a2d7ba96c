package raft

import "github.com/replica-io/replica/protocols/node"

// summary is the cluster as guided search sees it (Protocol.Abstract), in the terms of the
// Raft paper's safety argument (§5.4) rather than its numbers: how many servers lead, how
// many terms the servers' last entries span, how many indexes two logs disagree at, and
// whether a leader holds entries of an earlier term that it has not committed (the situation
// of Figure 8), or a server outside the leader's term holds a later last entry than the
// leader's entries. Which server is which, and which term a run reached, do not matter.
type summary struct {
	Leaders   int
	Down      int
	LastTerms int  // distinct terms of the up servers' last entries (at most 3)
	Conflicts int  // indexes at which two up servers hold entries of different terms (at most 3)
	OldTail   bool // a leader's log holds, past its commit index, entries of an earlier term
	// Exposed is how many servers hold a leader's entry at an index where another up
	// server's log holds an entry of a later term (0: no such index): a server that could
	// still win an election and overwrite the leader's entry, which the leader must not
	// count as committed however many servers store it (Figure 8).
	Exposed int
}

func abstract(w node.World) any {
	var s summary
	var up []*Node
	for id := node.ID(1); int(id) <= w.Config().N; id++ {
		st, ok := w.State(id).(*Node)
		if !ok || st == nil {
			s.Down++
			continue
		}
		up = append(up, st)
	}
	var terms []int
	for _, st := range up {
		t := st.log.LastTerm()
		seen := false
		for _, x := range terms {
			seen = seen || x == t
		}
		if !seen {
			terms = append(terms, t)
		}
		if st.role != Leader {
			continue
		}
		s.Leaders++
		for i := max(st.commit, st.log.Base) + 1; i <= st.log.Last(); i++ {
			if st.log.At(i).Term < st.term {
				s.OldTail = true
				break
			}
		}
		for _, o := range up {
			if j := newerAt(o, st); o != st && j > 0 {
				n := 0
				for _, x := range up {
					if x.log.Has(j, st.log.At(j).Term) {
						n++
					}
				}
				s.Exposed = max(s.Exposed, n)
			}
		}
	}
	s.LastTerms = min(len(terms), 3)
	s.Conflicts = conflicts(up, 3)
	return s
}

// conflicts counts, up to limit, the indexes at which two of the servers' logs hold entries
// of different terms.
func conflicts(servers []*Node, limit int) int {
	n := 0
	for i, a := range servers {
		for _, b := range servers[i+1:] {
			lo := max(a.log.Base, b.log.Base) + 1
			for j := min(a.log.Last(), b.log.Last()); j >= lo; j-- {
				if a.log.At(j).Term != b.log.At(j).Term {
					n++ // by Log Matching, every index below disagrees too, or agrees from there on
					if n >= limit {
						return n
					}
					break
				}
			}
		}
	}
	return n
}

// newerAt returns the first index past their common prefix at which a's log disagrees with
// leader's and holds an entry of a later term there, or 0.
func newerAt(a, leader *Node) int {
	lo := max(a.log.Base, leader.log.Base) + 1
	for j := lo; j <= min(a.log.Last(), leader.log.Last()); j++ {
		if ta, tl := a.log.At(j).Term, leader.log.At(j).Term; ta != tl {
			if ta > tl {
				return j
			}
			return 0
		}
	}
	return 0
}
