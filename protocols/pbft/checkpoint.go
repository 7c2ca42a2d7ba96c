package pbft

import (
	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// checkpoint sends the replica's CHECKPOINT for the sequence number it just executed, and
// keeps its state there until the checkpoint is stable (for replicas that fall behind).
func (r *Replica) checkpoint(env node.Env) {
	app := r.app.clone()
	r.snapshots[r.executed] = app
	env.Store(keyCheckpoint, execRecord{Executed: r.executed, App: app})
	env.Sync()
	cp := Checkpoint{Seq: r.executed, State: app.digest()}
	env.Broadcast(cp)
	r.onCheckpoint(env, r.id, cp)
}

// onCheckpoint counts CHECKPOINTs in the window; 2f+1 matching ones make a checkpoint stable.
func (r *Replica) onCheckpoint(env node.Env, from node.ID, m Checkpoint) {
	if m.Seq <= r.low.Seq || m.Seq > r.low.Seq+r.window || m.Seq%r.k != 0 {
		return
	}
	t := r.checkpoints[m.Seq]
	if t == nil {
		t = &quorum.Tally[Digest]{}
		r.checkpoints[m.Seq] = t
	}
	if t.Add(from, m.State) && t.Count(m.State) >= r.quorum {
		r.adoptStable(env, Stable{Seq: m.Seq, State: m.State, Proof: t.Voters(m.State)})
		r.proposePending(env) // the window moved: there may be room for waiting requests
	}
}

// adoptStable makes st the stable checkpoint and collects the garbage below it (section
// 4.3): log entries, checkpoint votes and snapshots. A replica that has not executed up to st
// gets the state from a peer (see onStatus). It proposes nothing: a primary that adopts a
// checkpoint in the middle of starting a view must not number requests before the view's
// own pre-prepares are in place.
func (r *Replica) adoptStable(env node.Env, st Stable) {
	if st.Seq <= r.low.Seq {
		return
	}
	r.low = st
	r.lowApp, r.lowKnown = App{}, false
	if app, ok := r.snapshots[st.Seq]; ok && app.digest() == st.State {
		r.lowApp, r.lowKnown = app, true
	}
	for s := range r.log { // deleting while ranging is safe, and the order does not matter
		if s <= st.Seq {
			delete(r.log, s)
		}
	}
	for s := range r.checkpoints {
		if s <= st.Seq {
			delete(r.checkpoints, s)
		}
	}
	for s := range r.snapshots {
		if s <= st.Seq {
			delete(r.snapshots, s)
		}
	}
	env.Store(keyStable, stableRecord{Stable: r.low, App: r.lowApp, Known: r.lowKnown})
	env.Sync()
	r.next = max(r.next, r.low.Seq)
}

// onStatus answers a peer's STATUS with what it lacks: the state of the stable checkpoint if
// it is behind it, how this replica's view began or its VIEW-CHANGE if the peer is behind in
// views, else this replica's messages for the sequence numbers the peer has not executed.
func (r *Replica) onStatus(env node.Env, from node.ID, m Status) {
	if m.Low < r.low.Seq || m.Executed < r.low.Seq && r.lowKnown {
		env.Send(from, Transfer{Stable: r.low, App: r.lowApp})
	}
	switch {
	case m.View > r.view || m.View == r.view && r.changing && !m.Changing:
		return // the peer is ahead: its answer to this replica's STATUS brings it along
	case r.changing:
		if vc, ok := r.viewChanges[r.id]; ok {
			env.Send(from, vc)
		}
		return
	case m.View < r.view || m.Changing:
		if r.view > 0 && r.newView.View == r.view {
			env.Send(from, r.newView)
		}
		return
	}
	for s := max(m.Executed, r.low.Seq) + 1; s <= r.low.Seq+r.window; s++ {
		e := r.log[s]
		if e == nil || !e.Accepted || e.View != r.view {
			continue
		}
		switch {
		case r.primary(r.view) == r.id:
			env.Send(from, PrePrepare{View: e.View, Seq: s, Digest: e.Digest, Req: e.Req})
		default:
			env.Send(from, Prepare{View: e.View, Seq: s, Digest: e.Digest})
		}
		if e.Committed {
			env.Send(from, Commit{View: e.View, Seq: s, Digest: e.Digest})
		}
	}
	for s := r.low.Seq + r.k; s <= r.executed; s += r.k {
		if app, ok := r.snapshots[s]; ok && s > m.Low {
			env.Send(from, Checkpoint{Seq: s, State: app.digest()})
		}
	}
}

// onTransfer brings a replica up to a stable checkpoint it has not reached: it adopts the
// checkpoint on the strength of its proof (2f+1 signers), and the state if it had not
// executed that far and the state matches the checkpoint's digest.
func (r *Replica) onTransfer(env node.Env, m Transfer) {
	st := m.Stable
	if st.Seq <= r.low.Seq && st.Seq <= r.executed || st.Seq%r.k != 0 || st.Proof.Count() < r.quorum {
		return
	}
	state := m.App.digest() == st.State
	if st.Seq > r.executed {
		if !state {
			return
		}
		r.executed, r.app = st.Seq, m.App.clone()
		r.persistExec(env)
		r.transfers++
	}
	r.adoptStable(env, st)
	if st.Seq == r.low.Seq && !r.lowKnown && state {
		r.lowApp, r.lowKnown = m.App.clone(), true
		env.Store(keyStable, stableRecord{Stable: r.low, App: r.lowApp, Known: true})
		env.Sync()
	}
	r.progress(env)
	r.executeReady(env)
	r.proposePending(env)
}

// What a replica keeps in durable storage, besides one record per log slot.
type (
	viewRecord struct {
		View     int
		Changing bool
	}
	execRecord struct {
		Executed int
		App      App
	}
	stableRecord struct {
		Stable Stable
		App    App
		Known  bool
	}
)

// slotKey is the storage key of sequence number s: the window's slots are reused, so that
// storage stays bounded too.
func (r *Replica) slotKey(s int) string { return r.slots[s%r.window] }

// persist syncs an entry before the replica acts on it: a replica that forgot a pre-prepare
// it accepted, or a certificate it prepared, could contradict itself after a restart.
func (r *Replica) persist(env node.Env, e *entry) {
	env.Store(r.slotKey(e.Seq), e.record)
	env.Sync()
}

func (r *Replica) persistView(env node.Env) {
	env.Store(keyView, viewRecord{View: r.view, Changing: r.changing})
	env.Sync()
}

func (r *Replica) persistExec(env node.Env) {
	env.Store(keyExec, execRecord{Executed: r.executed, App: r.app})
	env.Sync()
}

// recover reloads what a restarted replica had synced, and counts its own votes again.
func (r *Replica) recover(env node.Env) {
	if sr, ok := node.Load[stableRecord](env, keyStable); ok {
		r.low, r.lowApp, r.lowKnown = sr.Stable, sr.App, sr.Known
	}
	if er, ok := node.Load[execRecord](env, keyExec); ok {
		r.executed, r.app = er.Executed, er.App
	}
	if vr, ok := node.Load[viewRecord](env, keyView); ok {
		r.view, r.changing = vr.View, vr.Changing
	}
	if cp, ok := node.Load[execRecord](env, keyCheckpoint); ok { // its last checkpoint, which may not be stable yet
		if cp.Executed > r.low.Seq {
			r.snapshots[cp.Executed] = cp.App
			r.checkpoints[cp.Executed] = &quorum.Tally[Digest]{}
			r.checkpoints[cp.Executed].Add(r.id, cp.App.digest())
		}
	}
	r.next = r.low.Seq
	for i := 0; i < r.window; i++ {
		rec, ok := node.Load[record](env, r.slots[i])
		if !ok {
			continue
		}
		if rec.Seq <= r.low.Seq || rec.Seq > r.low.Seq+r.window {
			continue
		}
		e := &entry{record: rec}
		r.log[rec.Seq] = e
		if !rec.Accepted || rec.View != r.view || r.changing {
			continue
		}
		if r.primary(r.view) == r.id {
			r.next = max(r.next, rec.Seq)
		} else {
			e.prepares.Add(r.id, rec.Digest)
		}
		if rec.Committed {
			e.commits.Add(r.id, rec.Digest)
		}
	}
}
