package pbft

import "github.com/replica-io/replica/protocols/node"

// mutators alter what a Byzantine replica sends, ByzzFuzz-style: small changes to the fields
// the replica signs itself (a view or sequence number off by one, another digest, a result).
// None forges what others signed: a certificate can be left out, never made up, and a client
// request can be replaced only by the null request, which anyone may propose.
var mutators = []node.Mutator{
	{Name: "seq", Mutate: mutateSeq},
	{Name: "view", Mutate: mutateView},
	node.MutatorOf("null-request", mutateNullRequest),
	{Name: "digest", Mutate: mutateDigest},
	node.MutatorOf("checkpoint", mutateCheckpoint),
	node.MutatorOf("forget-prepared", mutateForgetPrepared),
	node.MutatorOf("reply", mutateReply),
}

// nudge moves x by one, up or down.
func nudge(x int, choose func(int) int) int {
	if choose(2) == 0 && x > 0 {
		return x - 1
	}
	return x + 1
}

// mutateSeq bumps the sequence number of a pre-prepare or a vote: the primary that assigns a
// request a second number is the one ByzzFuzz caught splitting a PBFT implementation.
func mutateSeq(m node.Message, choose func(int) int) (node.Message, bool) {
	switch m := m.(type) {
	case PrePrepare:
		m.Seq = nudge(m.Seq, choose)
		return m, true
	case Prepare:
		m.Seq = nudge(m.Seq, choose)
		return m, true
	case Commit:
		m.Seq = nudge(m.Seq, choose)
		return m, true
	}
	return nil, false
}

func mutateView(m node.Message, choose func(int) int) (node.Message, bool) {
	switch m := m.(type) {
	case PrePrepare:
		m.View = nudge(m.View, choose)
		return m, true
	case Prepare:
		m.View = nudge(m.View, choose)
		return m, true
	case Commit:
		m.View = nudge(m.View, choose)
		return m, true
	case ViewChange:
		m.View = nudge(m.View, choose)
		return m, true
	}
	return nil, false
}

// mutateNullRequest turns a pre-prepare into one of the null request at the same number: a
// message valid on its own, which makes an equivocating primary's second version.
func mutateNullRequest(pp PrePrepare, choose func(int) int) (node.Message, bool) {
	if pp.Req.Client == 0 {
		return nil, false
	}
	pp.Req = Request{}
	pp.Digest = digestOf(pp.Req)
	return pp, true
}

// mutateDigest makes a vote for another digest: the null request's, or one nobody has.
func mutateDigest(m node.Message, choose func(int) int) (node.Message, bool) {
	other := func(d Digest) Digest {
		if null := digestOf(Request{}); choose(2) == 0 && d != null {
			return null
		}
		return d + 1
	}
	switch m := m.(type) {
	case Prepare:
		m.Digest = other(m.Digest)
		return m, true
	case Commit:
		m.Digest = other(m.Digest)
		return m, true
	}
	return nil, false
}

func mutateCheckpoint(cp Checkpoint, choose func(int) int) (node.Message, bool) {
	cp.State++
	return cp, true
}

// mutateForgetPrepared leaves the certificates out of a VIEW-CHANGE: lying by omission,
// which no signature can prevent, and which a quorum of 2f+1 VIEW-CHANGEs must outvote.
func mutateForgetPrepared(vc ViewChange, choose func(int) int) (node.Message, bool) {
	if len(vc.Prepared) == 0 {
		return nil, false
	}
	vc.Prepared = nil
	return vc, true
}

// mutateReply changes the result a client gets: f+1 matching replies must outvote it.
func mutateReply(r Reply, choose func(int) int) (node.Message, bool) {
	r.Result.Value = nudge(r.Result.Value, choose)
	return r, true
}
