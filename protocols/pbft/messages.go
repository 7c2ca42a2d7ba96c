package pbft

import (
	"fmt"
	"slices"
	"strings"

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
	op, ok := node.OpOf[kv.Op](r)
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

// App is the replicated service: a key-value store, and the last request each client had
// executed with its result, so that a retried request is answered, not executed again. Both
// are kept sorted (by key, by client): the service is small, is copied whole at every
// checkpoint, and is digested in a fixed order.
type App struct {
	Store []Cell
	Last  []LastReply
}

// Cell is one key of the store.
type Cell struct {
	Key   string
	Value int
}

// LastReply is the last request a client had executed, and its result.
type LastReply struct {
	Client node.ClientID
	Seq    int
	Result kv.Result
}

// get returns the value of key.
func (a *App) get(key string) (int, bool) {
	i, ok := slices.BinarySearchFunc(a.Store, key, func(c Cell, k string) int { return strings.Compare(c.Key, k) })
	if !ok {
		return 0, false
	}
	return a.Store[i].Value, true
}

func (a *App) set(key string, v int) {
	i, ok := slices.BinarySearchFunc(a.Store, key, func(c Cell, k string) int { return strings.Compare(c.Key, k) })
	if ok {
		a.Store[i].Value = v
		return
	}
	a.Store = slices.Insert(a.Store, i, Cell{Key: key, Value: v})
}

// last returns client c's last executed request.
func (a *App) last(c node.ClientID) (LastReply, bool) {
	i, ok := slices.BinarySearchFunc(a.Last, c, func(l LastReply, c node.ClientID) int { return int(l.Client) - int(c) })
	if !ok {
		return LastReply{}, false
	}
	return a.Last[i], true
}

func (a *App) setLast(l LastReply) {
	i, ok := slices.BinarySearchFunc(a.Last, l.Client, func(x LastReply, c node.ClientID) int { return int(x.Client) - int(c) })
	if ok {
		a.Last[i] = l
		return
	}
	a.Last = slices.Insert(a.Last, i, l)
}

// digest is the state digest of checkpoints.
func (a *App) digest() Digest {
	h := newFNV()
	for _, c := range a.Store {
		h.str(c.Key)
		h.word(uint64(c.Value))
	}
	for _, l := range a.Last {
		h.word(uint64(l.Client))
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

// clone returns a copy of the app that shares nothing with it.
func (a *App) clone() App {
	return App{Store: slices.Clone(a.Store), Last: slices.Clone(a.Last)}
}

// execute applies request r: a null request does nothing, and a request its client already
// had executed is not executed again. reply says whether the client gets an answer (the
// result of r, or of its earlier execution).
func (a *App) execute(r Request) (res kv.Result, reply bool) {
	if r.Client == 0 {
		return kv.Result{}, false
	}
	if last, ok := a.last(r.Client); ok && last.Seq >= r.Seq {
		return last.Result, last.Seq == r.Seq
	}
	cell := map[string]int{} // kv.Apply's store: the one key the operation touches
	if v, ok := a.get(r.Op.Key); ok {
		cell[r.Op.Key] = v
	}
	res = kv.Apply(cell, r.Op)
	if v, ok := cell[r.Op.Key]; ok {
		a.set(r.Op.Key, v)
	}
	a.setLast(LastReply{Client: r.Client, Seq: r.Seq, Result: res})
	return res, true
}
