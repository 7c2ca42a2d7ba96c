package pbft

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// Executed is a replica's output for each sequence number it executes: what agreement and
// validity are checked on.
type Executed struct {
	Seq    int
	Digest Digest
	Req    Request
}

func (e Executed) String() string {
	return fmt.Sprintf("executed #%d %s %s", e.Seq, e.Digest, reqString(e.Req))
}

// record is what a replica keeps durably about one sequence number: the pre-prepare it
// accepted, and the certificate it prepared, if any.
type record struct {
	Seq       int
	View      int    // the view of the accepted pre-prepare
	Digest    Digest // and its request
	Req       Request
	Accepted  bool // a pre-prepare is accepted for (View, Seq)
	Committed bool // this replica sent COMMIT for it
	Cert      Certificate
	Prepared  bool // Cert holds this replica's latest prepared certificate for Seq
}

// entry is a sequence number in the log: the record, and the votes of the current view.
type entry struct {
	record
	prepares, commits quorum.Tally[Digest]
}

// reqKey names a client request.
type reqKey struct {
	Client node.ClientID
	Seq    int
}

// Replica is one PBFT replica.
type Replica struct {
	cfg       node.Config
	id        node.ID
	f, quorum int
	k, window int      // checkpoint interval, log window
	slots     []string // the storage keys of the window's slots

	view     int
	changing bool // moving to view: waiting for its NEW-VIEW
	attempt  int  // view changes without progress: each doubles the timeout
	timerFor int  // the view whose NEW-VIEW the view-change timer waits for

	next int            // as primary: the last sequence number assigned in this view
	log  map[int]*entry // sequence numbers in (low, low+window]

	executed int
	app      App

	low         Stable                        // the last stable checkpoint
	lowApp      App                           // the service state at it, for state transfer,
	lowKnown    bool                          // if known (a checkpoint adopted on proof alone has none)
	checkpoints map[int]*quorum.Tally[Digest] // CHECKPOINT votes above low
	snapshots   map[int]App                   // own state at checkpoints above low
	viewChanges map[node.ID]ViewChange        // the latest VIEW-CHANGE of each replica
	newView     NewView                       // how the current view began (view 0: none)
	pending     map[reqKey]Request            // client requests seen, not executed yet
	transfers   int                           // state transfers received (for coverage)
	lastStatus  int                           // executed at the last status period
	idle        int                           // status periods since the last STATUS sent
}

// Storage keys and timers.
const (
	keyView       = "view"
	keyExec       = "exec"
	keyStable     = "stable"
	keyCheckpoint = "checkpoint"
	timerView     = "view-change"
	timerState    = "status"
)

// Timing: the status period, a few round trips while the replica is stalled and a slow
// heartbeat otherwise; the view-change timeout, long enough for a request to commit under
// normal delays.
const (
	statusMin   = 60 * time.Millisecond
	statusMax   = 100 * time.Millisecond
	heartbeat   = 5 // the idle status period, in status periods
	viewTimeout = 100 * time.Millisecond
	maxBackoff  = 3 // the view-change timeout stops doubling after this many failed attempts
)

// New returns replica id of a cluster configured by cfg.
func New(cfg node.Config, id node.ID) node.Node {
	f := quorum.MaxByzantine(cfg.N)
	k := cfg.Param("checkpoint", 4)
	slots := make([]string, 2*k)
	for i := range slots {
		slots[i] = "log/" + strconv.Itoa(i)
	}
	return &Replica{
		cfg: cfg, id: id, f: f, quorum: quorum.Byzantine(cfg.N, f), k: k, window: 2 * k, slots: slots,
		log: map[int]*entry{}, lowKnown: true,
		checkpoints: map[int]*quorum.Tally[Digest]{}, snapshots: map[int]App{},
		viewChanges: map[node.ID]ViewChange{}, pending: map[reqKey]Request{},
	}
}

// primary is the primary of view v.
func (r *Replica) primary(v int) node.ID { return node.ID(v%r.cfg.N + 1) }

func (r *Replica) isPrimary() bool { return r.primary(r.view) == r.id && !r.changing }

// Start recovers what the replica promised and executed, then resumes: a replica that
// crashed in the middle of a view change sends its VIEW-CHANGE again.
func (r *Replica) Start(env node.Env) {
	r.recover(env)
	env.SetTimer(timerState, statusMin, statusMax)
	if r.changing {
		r.sendViewChange(env)
	}
}

// Request is a client's request: the primary orders it; a backup passes it on and starts
// watching the primary.
func (r *Replica) Request(env node.Env, nreq node.Request) {
	req, ok := clientRequest(nreq)
	if !ok || r.answered(env, req) {
		return
	}
	r.watch(env, req)
	if r.isPrimary() {
		r.propose(env, req)
		return
	}
	env.Send(r.primary(r.view), Forward{Req: req})
}

// answered replies to a request that was already executed, from the last reply kept for its
// client, and reports whether the request is done.
func (r *Replica) answered(env node.Env, req Request) bool {
	last, ok := r.app.last(req.Client)
	if !ok || last.Seq < req.Seq {
		return false
	}
	if last.Seq == req.Seq {
		env.Reply(req.toClient(), Reply{View: r.view, Result: last.Result})
	}
	return true
}

// watch remembers a request until it executes; while one waits, the view-change timer runs.
func (r *Replica) watch(env node.Env, req Request) {
	r.pending[reqKey{req.Client, req.Seq}] = req
	if len(r.pending) == 1 && !r.changing {
		env.SetTimer(timerView, r.timeout(), r.timeout())
	}
}

// timeout is the current view-change timeout, doubled for each failed attempt.
func (r *Replica) timeout() time.Duration { return viewTimeout << min(r.attempt, maxBackoff) }

// Receive dispatches a message.
func (r *Replica) Receive(env node.Env, from node.ID, m node.Message) {
	if from < 1 || int(from) > r.cfg.N {
		return
	}
	switch m := m.(type) {
	case PrePrepare:
		r.onPrePrepare(env, from, m)
	case Prepare:
		r.onPrepare(env, from, m)
	case Commit:
		r.onCommit(env, from, m)
	case Checkpoint:
		r.onCheckpoint(env, from, m)
	case ViewChange:
		r.onViewChange(env, from, m)
	case NewView:
		r.onNewView(env, m)
	case Forward:
		r.onForward(env, m)
	case Status:
		r.onStatus(env, from, m)
	case Transfer:
		r.onTransfer(env, m)
	}
}

// Timer handles the status period and the view-change timeout.
func (r *Replica) Timer(env node.Env, name string) {
	switch name {
	case timerState:
		r.status(env)
	case timerView:
		if r.changing || len(r.pending) > 0 {
			r.attempt++
			r.startViewChange(env, r.view+1)
		}
	}
}

// status tells the peers where the replica stands, so that they send what it lacks (see
// onStatus): every period while it is stalled (it waits for something and executed nothing
// since the last period), and as a heartbeat otherwise, so that a replica that missed
// everything learns that it did.
func (r *Replica) status(env node.Env) {
	stalled := r.executed == r.lastStatus && r.waiting()
	r.idle++
	if stalled || r.idle >= heartbeat {
		r.idle = 0
		env.Broadcast(Status{View: r.view, Changing: r.changing, Executed: r.executed, Low: r.low.Seq})
	}
	r.lastStatus = r.executed
	env.SetTimer(timerState, statusMin, statusMax)
}

// waiting reports whether the replica waits for something: a view to begin, a request to
// execute, log entries or a stable checkpoint beyond what it executed.
func (r *Replica) waiting() bool {
	if r.changing || len(r.pending) > 0 || r.executed < r.low.Seq {
		return true
	}
	for s := range r.log {
		if s > r.executed {
			return true
		}
	}
	for s := range r.checkpoints {
		if s > r.executed {
			return true
		}
	}
	return false
}

// onForward is a backup passing on a client's request: the primary orders it, and every
// replica watches it (a Byzantine primary might never order it).
func (r *Replica) onForward(env node.Env, m Forward) {
	if m.Req.Client == 0 || r.answered(env, m.Req) {
		return
	}
	r.watch(env, m.Req)
	if r.isPrimary() {
		r.propose(env, m.Req)
	}
}

// propose assigns req the next sequence number, if the log window has room; otherwise it
// waits in pending until a checkpoint makes room.
func (r *Replica) propose(env node.Env, req Request) {
	d := digestOf(req)
	for s := r.executed + 1; s <= r.next; s++ {
		if e := r.log[s]; e != nil && e.Accepted && e.View == r.view && e.Digest == d {
			return // already ordered in this view
		}
	}
	if r.next >= r.low.Seq+r.window {
		return
	}
	r.next++
	pp := PrePrepare{View: r.view, Seq: r.next, Digest: d, Req: req}
	r.accept(env, pp)
	env.Broadcast(pp)
}

// proposePending orders the waiting requests, in a fixed order.
func (r *Replica) proposePending(env node.Env) {
	if !r.isPrimary() {
		return
	}
	for _, req := range r.pendingRequests() {
		r.propose(env, req)
	}
}

// entry returns the log entry of sequence number s, creating it; nil if s is outside the
// window.
func (r *Replica) entry(s int) *entry {
	if s <= r.low.Seq || s > r.low.Seq+r.window {
		return nil
	}
	e := r.log[s]
	if e == nil {
		e = &entry{record: record{Seq: s}}
		r.log[s] = e
	}
	return e
}

// onPrePrepare is a backup's acceptance test (section 4.2): the primary's message, in this
// view, with the right digest, in the window, and no other digest accepted for (v, n).
func (r *Replica) onPrePrepare(env node.Env, from node.ID, m PrePrepare) {
	if m.View != r.view || r.changing || from != r.primary(m.View) || m.Digest != digestOf(m.Req) {
		return
	}
	e := r.entry(m.Seq)
	if e == nil {
		return
	}
	if e.Accepted && e.View == m.View {
		if e.Digest == m.Digest {
			return // a retransmission
		}
		if r.cfg.Bug != BugNoDigestCheck {
			return // the primary assigned two requests one number: it is faulty
		}
		// The seeded bug: the replica takes the second request for the same (v, n) too,
		// and prepares it as if it were the first.
	}
	r.accept(env, m)
	env.Broadcast(Prepare{View: m.View, Seq: m.Seq, Digest: m.Digest})
	r.onPrepare(env, r.id, Prepare{View: m.View, Seq: m.Seq, Digest: m.Digest})
}

// accept logs pre-prepare m durably.
func (r *Replica) accept(env node.Env, m PrePrepare) {
	e := r.entry(m.Seq)
	if r.primary(m.View) == r.id && e.Accepted && e.View == m.View && e.Digest != m.Digest {
		// A correct primary never numbers two requests alike: that is what a faulty one does.
		panic(fmt.Sprintf("primary n%d numbered #%d twice in view %d (%s, then %s)", r.id, m.Seq, m.View, e.Digest, m.Digest))
	}
	e.View, e.Digest, e.Req, e.Accepted, e.Committed = m.View, m.Digest, m.Req, true, false
	r.persist(env, e)
	if r.primary(m.View) == r.id {
		r.next = max(r.next, m.Seq)
	}
}

// onPrepare counts a backup's PREPARE; the primary's own pre-prepare stands for its vote.
// Votes of the view the replica is changing to count already: the replicas that started it
// first vote before this replica gets its NEW-VIEW.
func (r *Replica) onPrepare(env node.Env, from node.ID, m Prepare) {
	if m.View != r.view || from == r.primary(m.View) {
		return
	}
	if e := r.entry(m.Seq); e != nil && e.prepares.Add(from, m.Digest) {
		r.advance(env, e)
	}
}

func (r *Replica) onCommit(env node.Env, from node.ID, m Commit) {
	if m.View != r.view {
		return
	}
	if e := r.entry(m.Seq); e != nil && e.commits.Add(from, m.Digest) {
		r.advance(env, e)
	}
}

// prepared: the pre-prepare and 2f matching PREPAREs from backups.
func (r *Replica) prepared(e *entry) bool {
	return e.Accepted && e.View == r.view && !r.changing && e.prepares.Count(e.Digest) >= 2*r.f
}

// setView moves the replica to view v; the votes it counted belong to the old view.
func (r *Replica) setView(v int) {
	if v == r.view {
		return
	}
	r.view = v
	for _, e := range r.log {
		e.prepares, e.commits = quorum.Tally[Digest]{}, quorum.Tally[Digest]{}
	}
}

// advance moves entry e on: once prepared, the replica keeps its certificate and commits;
// once 2f+1 replicas committed, the request can execute.
func (r *Replica) advance(env node.Env, e *entry) {
	if !r.prepared(e) {
		return
	}
	if !e.Committed {
		e.Committed = true
		e.Cert = Certificate{View: e.View, Seq: e.Seq, Digest: e.Digest, Req: e.Req, Prepares: e.prepares.Voters(e.Digest)}
		e.Prepared = true
		r.persist(env, e)
		c := Commit{View: e.View, Seq: e.Seq, Digest: e.Digest}
		env.Broadcast(c)
		r.onCommit(env, r.id, c)
		return
	}
	r.executeReady(env)
}

// committed: prepared, and 2f+1 matching COMMITs.
func (r *Replica) committed(e *entry) bool {
	return e != nil && r.prepared(e) && e.Committed && e.commits.Count(e.Digest) >= r.quorum
}

// executeReady executes committed requests in sequence order.
func (r *Replica) executeReady(env node.Env) {
	for {
		e := r.log[r.executed+1]
		if !r.committed(e) {
			return
		}
		r.execute(env, e)
	}
}

// execute runs entry e's request, answers its client and, every K numbers, checkpoints.
func (r *Replica) execute(env node.Env, e *entry) {
	r.executed = e.Seq
	res, ok := r.app.execute(e.Req)
	r.persistExec(env)
	env.Output(Executed{Seq: e.Seq, Digest: e.Digest, Req: e.Req})
	if ok {
		env.Reply(e.Req.toClient(), Reply{View: r.view, Result: res})
	}
	r.progress(env)
	if r.executed%r.k == 0 {
		r.checkpoint(env)
	}
}

// progress forgets the requests that executed and, as work got done, resets the view-change
// timer and its backoff.
func (r *Replica) progress(env node.Env) {
	for k := range r.pending { // deleting while ranging is safe, and the order does not matter
		if last, ok := r.app.last(k.Client); ok && last.Seq >= k.Seq {
			delete(r.pending, k)
		}
	}
	r.attempt = 0
	if len(r.pending) == 0 {
		env.CancelTimer(timerView)
	} else if !r.changing {
		env.SetTimer(timerView, r.timeout(), r.timeout())
	}
}

// Result reads a reply for clients.
var Result = node.ReplyReader(func(rep Reply) (any, bool, node.ID) { return rep.Result, true, 0 })

// pendingRequests lists the requests waiting to execute, by client and number.
func (r *Replica) pendingRequests() []Request {
	reqs := make([]Request, 0, len(r.pending))
	for _, req := range r.pending {
		reqs = append(reqs, req)
	}
	slices.SortFunc(reqs, func(a, b Request) int {
		if a.Client != b.Client {
			return int(a.Client) - int(b.Client)
		}
		return a.Seq - b.Seq
	})
	return reqs
}
