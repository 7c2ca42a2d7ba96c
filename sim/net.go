package sim

import (
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// delay draws a one-way message delay from the profile's distribution. A choice of zero is
// the minimum delay, so shrinking a run makes its network faster, not slower.
func (w *World) delay() time.Duration {
	d := w.profile.Delay
	if d.Typical <= 0 {
		return d.Min
	}
	if !w.live && d.TailProb > 0 && d.Tail > 2*d.Typical && w.choose.Flip(Network, d.TailProb) {
		w.fault(KindDelayTail)
		return 2*d.Typical + w.pick(Network, d.Tail-2*d.Typical)
	}
	return d.Min + w.pick(Network, 2*d.Typical-d.Min)
}

// pick draws a duration in [0, span] in steps of 100µs.
func (w *World) pick(p Purpose, span time.Duration) time.Duration {
	const step = 100 * time.Microsecond
	if span < step {
		return 0
	}
	return time.Duration(w.choose.Choose(p, int(span/step)+1)) * step
}

// send puts m on the network from node from to node to: the network may drop or duplicate it,
// and delays each copy.
func (w *World) send(from, to node.ID, m node.Message) {
	m = cloneAny(m)
	mid := w.trace.newMsg()
	w.choose.sending(mid)
	w.recordMsg(Send, from, to, mid, m)
	if to == from { // loopback never fails
		w.enqueue(from, to, mid, m, w.profile.Delay.Min)
		return
	}
	if !w.live && w.profile.Drop > 0 && w.choose.Flip(Network, w.profile.Drop) {
		w.fault(KindDrop)
		w.recordMsg(Dropped, to, from, mid, m)
		return
	}
	copies := 1
	if !w.live && w.profile.Duplicate > 0 && w.choose.Flip(Network, w.profile.Duplicate) {
		w.fault(KindDuplicate)
		w.recordMsg(Dup, to, from, mid, m)
		copies = 2
	}
	for i := range copies {
		if i > 0 && !w.ownCopies {
			m = cloneAny(m) // each copy is its own: a receiver may change what it got
		}
		w.enqueue(from, to, mid, m, w.delay())
	}
}

// enqueue schedules the arrival of m (message number mid) after d, keeping each link in order
// unless the profile lets it reorder.
func (w *World) enqueue(from, to node.ID, mid int, m node.Message, d time.Duration) {
	at := w.now + d
	last := w.lastArrival[from][to]
	if at < last {
		if w.profile.Reorder {
			w.fault(KindReorder)
		} else {
			at = last
		}
	}
	w.lastArrival[from][to] = max(last, at)
	w.inFlight[to]++
	w.nodes[to-1].changes++
	w.schedule(event{at: at, kind: evDeliver, node: to, from: from, msg: m, mid: mid})
}

// deliver hands a message that arrived to its node, unless a partition or a crash is in
// the way.
func (w *World) deliver(e *event) {
	w.inFlight[e.node]--
	s := w.slot(e.node)
	switch {
	case w.cut[e.from][e.node]:
		w.fault(KindBlocked)
		w.recordMsg(Blocked, e.node, e.from, e.mid, e.msg)
	case !s.up:
		w.recordMsg(Lost, e.node, e.from, e.mid, e.msg)
	default:
		w.receive(s, e.from, e.mid, e.msg)
	}
}

// partition cuts the links for which cut(from, to) is true, on top of the profile's fixed
// cut links.
func (w *World) partition(k Kind, desc string, cut func(from, to node.ID) bool) {
	for _, a := range w.ids {
		for _, b := range w.ids {
			w.cut[a][b] = a != b && cut(a, b)
		}
	}
	w.cutFixed()
	w.fault(k)
	w.partitionOn = true
	w.partitionInc++
	w.record(Partition, 0, 0, 0, desc)
	w.schedule(event{at: w.now + 1 + w.pick(Faults, w.profile.Down), kind: evHealPartition, inc: w.partitionInc})
}

// cutFixed cuts the profile's fixed links, which stay cut until the fault phase ends.
func (w *World) cutFixed() {
	if w.live {
		return
	}
	for _, l := range w.profile.Cut {
		w.cut[l.From][l.To] = true
	}
}

// partitioned reports whether a drawn partition is in place (beyond the fixed cut links).
func (w *World) partitioned() bool { return w.partitionOn }

// heal ends the drawn partition, back to the fixed cut links (none once faults heal).
func (w *World) heal() {
	if !w.partitionOn && (!w.live || len(w.profile.Cut) == 0) {
		return
	}
	w.partitionOn = false
	for _, row := range w.cut {
		clear(row)
	}
	w.cutFixed()
	w.fault(KindHeal)
	w.record(Heal, 0, 0, 0, nil)
}
