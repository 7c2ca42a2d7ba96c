package paxos

import "github.com/replica-io/replica/protocols/node"

// summary is the cluster as guided search sees it (Protocol.Abstract): how many proposers
// are at work and in which phase, and the relations Paxos's safety turns on — a proposer
// counting the promise of an acceptor that has since promised a higher ballot, a proposer
// driving a ballot through phase 2 that an acceptor has promised to ignore, more than one
// value accepted. It counts, rather than names, so that which node proposes and which round
// a run reached do not matter.
type summary struct {
	Active     int // proposers in phase 1 or 2
	Phase2     int // of those, in phase 2
	Superseded int // active proposers that counted the promise of an acceptor now promising higher
	Overtaken  int // proposers in phase 2 whose ballot an acceptor that is up has promised to ignore
	Values     int // distinct values accepted by acceptors that are up
	Decided    int // nodes that decided
}

func abstract(w node.World) any {
	var s summary
	var values []Value
	promised := map[node.ID]Ballot{}
	for id := node.ID(1); int(id) <= w.Config().N; id++ {
		st, ok := w.State(id).(*Node[Value])
		if !ok || st == nil {
			continue // which nodes are down is the fault schedule's business, not the protocol's state
		}
		promised[id] = st.acc.Promised
		if st.acc.Value != 0 && !containsValue(values, st.acc.Value) {
			values = append(values, st.acc.Value)
		}
		if st.decided != 0 {
			s.Decided++
		}
	}
	for _, st := range node.States[*Node[Value]](w) {
		if st.phase == 0 {
			continue
		}
		s.Active++
		superseded, overtaken := false, false
		for id := node.ID(1); int(id) <= w.Config().N; id++ {
			p, up := promised[id]
			if !up || !st.ballot.Less(p) {
				continue
			}
			overtaken = true
			superseded = superseded || st.promises.Has(id)
		}
		if superseded {
			s.Superseded++
		}
		if st.phase == 2 {
			s.Phase2++
			if overtaken {
				s.Overtaken++
			}
		}
	}
	s.Values = len(values)
	return s
}

func containsValue(vs []Value, v Value) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}
