package pbft

import (
	"slices"

	"github.com/replica-io/replica/protocols/node"
)

// startViewChange moves the replica to view v (section 4.4): it stops taking part in the
// normal case of its old view and tells everyone what it prepared.
func (r *Replica) startViewChange(env node.Env, v int) {
	if v < r.view || v == r.view && r.changing {
		return
	}
	r.setView(v)
	r.changing = true
	r.persistView(env)
	env.CancelTimer(timerView)
	r.sendViewChange(env)
}

// sendViewChange broadcasts the replica's VIEW-CHANGE for its view.
func (r *Replica) sendViewChange(env node.Env) {
	vc := ViewChange{View: r.view, Stable: r.low, Replica: r.id}
	for s := r.low.Seq + 1; s <= r.low.Seq+r.window; s++ {
		if e := r.log[s]; e != nil && e.Prepared {
			vc.Prepared = append(vc.Prepared, e.Cert)
		}
	}
	r.viewChanges[r.id] = vc
	r.timerFor = 0
	env.Broadcast(vc)
	r.awaitNewView(env)
	r.tryNewView(env)
}

// awaitNewView starts the wait for the NEW-VIEW once 2f+1 replicas are changing to the
// view (section 4.5.2): a faulty new primary may never send it, and then the replica moves
// on to the next view. Waiting for 2f+1 first keeps a replica from running through views on
// its own, ahead of the others, whom it could then never meet in a view. A replica that
// changes to a higher view has given up on this one too, so it counts.
func (r *Replica) awaitNewView(env node.Env) {
	if !r.changing || r.timerFor == r.view {
		return
	}
	count := 0
	for _, vc := range r.viewChanges {
		if vc.View >= r.view {
			count++
		}
	}
	if count >= r.quorum {
		r.timerFor = r.view
		env.SetTimer(timerView, r.timeout(), r.timeout())
	}
}

// onViewChange keeps each replica's latest VIEW-CHANGE. A replica that sees f+1 replicas
// (one of them correct) move past its view follows them, to the lowest of their views, so
// that a view change cannot stall for want of replicas whose timers have not fired yet.
func (r *Replica) onViewChange(env node.Env, from node.ID, m ViewChange) {
	if m.Replica != from || !r.validViewChange(m) {
		return
	}
	if old, ok := r.viewChanges[from]; ok && old.View >= m.View {
		return
	}
	r.viewChanges[from] = m
	var ahead []int
	for id, vc := range r.viewChanges {
		if id != r.id && vc.View > r.view {
			ahead = append(ahead, vc.View)
		}
	}
	if len(ahead) >= r.f+1 {
		r.startViewChange(env, slices.Min(ahead))
	}
	r.awaitNewView(env)
	r.tryNewView(env)
}

// newViewQuorum is how many VIEW-CHANGEs a NEW-VIEW needs: 2f+1, so that it includes one
// from a correct replica among those that prepared each committed request.
func (r *Replica) newViewQuorum() int {
	if r.cfg.Bug == BugViewChangeQuorum {
		return 2 * r.f // the seeded bug: 2f VIEW-CHANGEs may all come from replicas that missed it
	}
	return r.quorum
}

// tryNewView is the new primary's part: with enough VIEW-CHANGEs for its view, it sends
// NEW-VIEW and starts the view.
func (r *Replica) tryNewView(env node.Env) {
	if !r.changing || r.primary(r.view) != r.id {
		return
	}
	nv := NewView{View: r.view}
	for id := node.ID(1); int(id) <= r.cfg.N; id++ {
		if vc, ok := r.viewChanges[id]; ok && vc.View == r.view {
			nv.ViewChanges = append(nv.ViewChanges, vc)
		}
	}
	if len(nv.ViewChanges) < r.newViewQuorum() {
		return
	}
	env.Broadcast(nv)
	r.enterView(env, nv)
}

// onNewView starts the view of a valid NEW-VIEW, unless the replica is already past it.
func (r *Replica) onNewView(env node.Env, m NewView) {
	if m.View < r.view || m.View == r.view && !r.changing || !r.validNewView(m) {
		return
	}
	r.enterView(env, m)
}

func (r *Replica) validNewView(m NewView) bool {
	seen := map[node.ID]bool{}
	for _, vc := range m.ViewChanges {
		if vc.View != m.View || seen[vc.Replica] || !r.validViewChange(vc) {
			return false
		}
		seen[vc.Replica] = true
	}
	return len(seen) >= r.newViewQuorum()
}

// validViewChange checks what a VIEW-CHANGE proves: its stable checkpoint has 2f+1 signers,
// and each certificate 2f PREPAREs from backups of its view, for the request it names,
// within the window above the checkpoint.
func (r *Replica) validViewChange(m ViewChange) bool {
	if m.View < 1 || m.Replica < 1 || int(m.Replica) > r.cfg.N || m.Stable.Seq < 0 || m.Stable.Seq%r.k != 0 {
		return false
	}
	if m.Stable.Seq > 0 && m.Stable.Proof.Count() < r.quorum {
		return false
	}
	for _, c := range m.Prepared {
		if c.View >= m.View || c.Seq <= m.Stable.Seq || c.Seq > m.Stable.Seq+r.window ||
			c.Digest != digestOf(c.Req) || c.Prepares.Count() < 2*r.f || c.Prepares.Has(r.primary(c.View)) {
			return false
		}
	}
	return true
}

// enterView starts the view of NEW-VIEW m. Every replica computes the view's pre-prepares
// from m's VIEW-CHANGEs (the paper's set O, which backups check by computing it too): from
// the highest stable checkpoint among them, each sequence number up to the highest prepared
// one gets the request of its highest-view certificate, or a null request.
func (r *Replica) enterView(env node.Env, m NewView) {
	r.setView(m.View)
	r.changing, r.newView = false, m
	r.persistView(env)
	stable, top := r.low, 0
	for _, vc := range m.ViewChanges {
		if vc.Stable.Seq > stable.Seq {
			stable = vc.Stable
		}
		for _, c := range vc.Prepared {
			top = max(top, c.Seq)
		}
	}
	r.adoptStable(env, stable)
	r.next = max(top, r.low.Seq)
	var o []PrePrepare
	for s := r.low.Seq + 1; s <= r.low.Seq+r.window; s++ {
		if s > top {
			delete(r.log, s) // never prepared anywhere: the new primary numbers it afresh
			continue
		}
		pp := PrePrepare{View: m.View, Seq: s}
		if c, ok := highestCertificate(m.ViewChanges, s); ok {
			pp.Req = c.Req
		}
		pp.Digest = digestOf(pp.Req)
		o = append(o, pp)
	}
	for _, pp := range o {
		r.accept(env, pp)
		if r.primary(m.View) != r.id {
			p := Prepare{View: m.View, Seq: pp.Seq, Digest: pp.Digest}
			env.Broadcast(p)
			r.onPrepare(env, r.id, p)
		}
	}
	for _, pp := range o { // with the votes that came before the NEW-VIEW
		if e := r.log[pp.Seq]; e != nil {
			r.advance(env, e)
		}
	}
	env.CancelTimer(timerView)
	if len(r.pending) > 0 {
		env.SetTimer(timerView, r.timeout(), r.timeout())
	}
	r.proposePending(env)
}

// highestCertificate returns the certificate for sequence number s of the highest view
// among vcs.
func highestCertificate(vcs []ViewChange, s int) (Certificate, bool) {
	var best Certificate
	found := false
	for _, vc := range vcs {
		for _, c := range vc.Prepared {
			if c.Seq == s && (!found || c.View > best.View) {
				best, found = c, true
			}
		}
	}
	return best, found
}
