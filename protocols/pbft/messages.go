package pbft

import (
	"fmt"
	"sort"

	"github.com/replica-io/replica/protocols/kv"
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Digest is a collision-resistant hash in the paper; here, FNV-1a over the fields of what
// it digests, which is all the simulated adversary needs (it never searches for collisions).
type Digest uint64

func (d Digest) String() string { return fmt.Sprintf("%04x", uint64(d)&0xffff) }

// The messages of the protocol. The sender of a message is the authenticated channel's; the
// messages that are forwarded inside others (VIEW-CHANGE inside NEW-VIEW) name their signer,
// and a certificate names the replicas whose signed messages it gathers.
type (
	// PrePrepare assigns request Req, of digest Digest, sequence number Seq in View.
	PrePrepare struct {
		View, Seq int
		Digest    Digest
		Req       Request
	}
	// Prepare and Commit vote for (View, Seq, Digest).
	Prepare struct {
		View, Seq int
		Digest    Digest
	}
	Commit struct {
		View, Seq int
		Digest    Digest
	}
	// Checkpoint says the sender's service state after executing Seq has digest State.
	Checkpoint struct {
		Seq   int
		State Digest
	}
	// ViewChange moves its signer Replica to View, with its stable checkpoint and a
	// certificate for each request it prepared above it.
	ViewChange struct {
		View     int
		Stable   Stable
		Prepared []Certificate
		Replica  node.ID
	}
	// NewView starts View: the VIEW-CHANGEs it is made of determine its pre-prepares.
	NewView struct {
		View        int
		ViewChanges []ViewChange
	}
	// Forward passes a client's request from a backup to the primary.
	Forward struct{ Req Request }
	// Status tells peers where the sender stands, so that they send it what it lacks.
	Status struct {
		View          int
		Changing      bool
		Executed, Low int
	}
	// Transfer brings a replica that fell behind the stable checkpoint up to it.
	Transfer struct {
		Stable Stable
		App    App
	}
)

// Stable is a stable checkpoint with its proof: the replicas whose matching CHECKPOINTs
// made it stable.
type Stable struct {
	Seq   int
	State Digest
	Proof quorum.Votes
}

// Certificate proves that Req was prepared at Seq in View: the primary's pre-prepare and
// PREPAREs from the backups in Prepares.
type Certificate struct {
	View, Seq int
	Digest    Digest
	Req       Request
	Prepares  quorum.Votes
}

// Reply is a replica's answer to a client: the result, and the view, which tells the
// client who the primary is.
type Reply struct {
	View   int
	Result kv.Result
}

func (m PrePrepare) String() string {
	return fmt.Sprintf("PRE-PREPARE(v%d #%d %s %s)", m.View, m.Seq, m.Digest, reqString(m.Req))
}
func (m Prepare) String() string { return fmt.Sprintf("PREPARE(v%d #%d %s)", m.View, m.Seq, m.Digest) }
func (m Commit) String() string  { return fmt.Sprintf("COMMIT(v%d #%d %s)", m.View, m.Seq, m.Digest) }
func (m Checkpoint) String() string {
	return fmt.Sprintf("CHECKPOINT(#%d %s)", m.Seq, m.State)
}
func (m ViewChange) String() string {
	s := fmt.Sprintf("VIEW-CHANGE(v%d n%d stable #%d, prepared", m.View, m.Replica, m.Stable.Seq)
	for _, c := range m.Prepared {
		s += fmt.Sprintf(" #%d:v%d:%s", c.Seq, c.View, c.Digest)
	}
	return s + ")"
}
func (m NewView) String() string {
	s := fmt.Sprintf("NEW-VIEW(v%d from", m.View)
	for _, vc := range m.ViewChanges {
		s += fmt.Sprintf(" n%d", vc.Replica)
	}
	return s + ")"
}
func (m Forward) String() string { return "FORWARD(" + reqString(m.Req) + ")" }
func (m Status) String() string {
	return fmt.Sprintf("STATUS(v%d changing=%v executed #%d low #%d)", m.View, m.Changing, m.Executed, m.Low)
}
func (m Transfer) String() string {
	return fmt.Sprintf("TRANSFER(#%d %s)", m.Stable.Seq, m.Stable.State)
}
func (r Reply) String() string { return fmt.Sprintf("REPLY(v%d %v)", r.View, r.Result) }

func reqString(r Request) string {
	if r.Client == 0 {
		return "null"
	}
	return fmt.Sprintf("c%d.%d:%v", r.Client, r.Seq, r.Op)
}

// Request is a client's request as replicas order it: node.Request with its operation
// typed, so that messages are plain values. The null request, which fills gaps in a new
// view, has client 0.
type Request struct {
	Client node.ClientID
	Seq    int
	Op     kv.Op
}

// clientRequest converts what a client submitted; ok is false for anything but a
// key-value operation of a real client.
func clientRequest(r node.Request) (Request, bool) {
	op, ok := r.Op.(kv.Op)
	return Request{Client: r.Client, Seq: r.Seq, Op: op}, ok && r.Client > 0
}

// toClient is the request as its client knows it, for replies.
func (r Request) toClient() node.Request {
	return node.Request{Client: r.Client, Seq: r.Seq, Op: r.Op}
}

// fnv is FNV-1a over 64-bit words and strings: the digests of requests and states.
type fnv uint64

func newFNV() fnv { return 14695981039346656037 }

func (h *fnv) word(x uint64) {
	for range 8 {
		*h = (*h ^ fnv(x&0xff)) * 1099511628211
		x >>= 8
	}
}

func (h *fnv) str(s string) {
	h.word(uint64(len(s)))
	for i := 0; i < len(s); i++ {
		*h = (*h ^ fnv(s[i])) * 1099511628211
	}
}

// digestOf is the digest of a request.
func digestOf(r Request) Digest {
	h := newFNV()
	h.word(uint64(r.Client))
	h.word(uint64(r.Seq))
	h.word(uint64(r.Op.Kind))
	h.str(r.Op.Key)
	h.word(uint64(r.Op.Value))
	h.word(uint64(r.Op.Expect))
	return Digest(h)
}

// App is the replicated service: a key-value store, and the last request executed for each
// client with its result, so that a retried request is answered, not executed again.
type App struct {
	Store map[string]int
	Last  map[node.ClientID]LastReply
}

// LastReply is the last request a client had executed, and its result.
type LastReply struct {
	Seq    int
	Result kv.Result
}

func newApp() App {
	return App{Store: map[string]int{}, Last: map[node.ClientID]LastReply{}}
}

// digest is the state digest of checkpoints: over the store and the replies, in key order.
func (a App) digest() Digest {
	h := newFNV()
	keys := make([]string, 0, len(a.Store))
	for k := range a.Store {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.str(k)
		h.word(uint64(a.Store[k]))
	}
	clients := make([]int, 0, len(a.Last))
	for c := range a.Last {
		clients = append(clients, int(c))
	}
	sort.Ints(clients)
	for _, c := range clients {
		l := a.Last[node.ClientID(c)]
		h.word(uint64(c))
		h.word(uint64(l.Seq))
		h.word(uint64(l.Result.Value))
		if l.Result.OK {
			h.word(1)
		} else {
			h.word(0)
		}
	}
	return Digest(h)
}

// clone returns a copy of the app that shares no maps with it.
func (a App) clone() App {
	c := App{Store: make(map[string]int, len(a.Store)), Last: make(map[node.ClientID]LastReply, len(a.Last))}
	for k, v := range a.Store {
		c.Store[k] = v
	}
	for k, v := range a.Last {
		c.Last[k] = v
	}
	return c
}

// execute applies request r: a null request does nothing, and a request its client already
// had executed is not executed again.
func (a App) execute(r Request) (kv.Result, bool) {
	if r.Client == 0 {
		return kv.Result{}, false
	}
	if last, ok := a.Last[r.Client]; ok && last.Seq >= r.Seq {
		return last.Result, last.Seq == r.Seq
	}
	res := kv.Apply(a.Store, r.Op)
	a.Last[r.Client] = LastReply{Seq: r.Seq, Result: res}
	return res, true
}
