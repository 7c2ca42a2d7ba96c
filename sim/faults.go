package sim

import (
	"fmt"
	"strings"

	"github.com/replica-io/replica/protocols/node"
)

// maxDown is how many nodes may be down at once under the profile (see DownBudget).
func (w *World) maxDown() int { return downBudget(w.cfg, w.profile) }

// down counts the nodes that are crashed or paused, or whose disk may take them down at any
// moment (see disks.impaired).
func (w *World) down() int {
	d := 0
	for _, s := range w.nodes {
		if !s.up || s.paused || w.disk != nil && w.disk.impaired(s) {
			d++
		}
	}
	return d
}

// nextFaultTick schedules the next draw of the fault scheduler.
func (w *World) nextFaultTick() {
	every := w.profile.FaultEvery
	if every <= 0 {
		return
	}
	w.schedule(event{at: w.now + every/2 + w.pick(Faults, every), kind: evFaultTick})
}

// faultTick draws one fault among the enabled kinds, by weight. A choice of zero is "no
// fault this time", so that shrinking removes faults.
func (w *World) faultTick() {
	if w.live {
		return
	}
	defer w.nextFaultTick()
	p := w.profile
	canDown := w.down() < w.maxDown()
	canCut := len(w.ids) >= 2 && !w.partitioned() // a partition needs two nodes
	kinds := []weighted{
		{gate(canDown, p.Crash), w.crashSome},
		{gate(canDown, p.Pause), w.pauseSome},
		{gate(canCut, p.Split), w.split},
		{gate(canCut, p.Isolate), w.isolate},
		{gate(canCut, p.OneWay), w.oneWay},
		{gate(canCut, p.Partial), w.partial},
	}
	kinds = append(kinds, w.diskFaults(canDown)...)
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	if total == 0 {
		return
	}
	v := w.choose.Choose(Faults, total+1)
	for _, k := range kinds {
		if v > 0 && v <= k.weight {
			k.do()
			return
		}
		v -= k.weight
	}
}

func gate(ok bool, weight int) int {
	if !ok {
		return 0
	}
	return weight
}

// pickNode draws one of the nodes that satisfy ok, or 0 if none does.
func (w *World) pickNode(ok func(s *slot) bool) node.ID {
	var cands []node.ID
	for _, s := range w.nodes {
		if ok(s) {
			cands = append(cands, s.id)
		}
	}
	if len(cands) == 0 {
		return 0
	}
	return cands[w.choose.Choose(Faults, len(cands))]
}

func (w *World) crashSome() {
	id := w.pickNode(func(s *slot) bool { return s.up && !s.paused })
	if id == 0 {
		return
	}
	w.crashFor(id)
}

// crashFor crashes node id and schedules its restart after a downtime.
func (w *World) crashFor(id node.ID) {
	w.crash(id)
	s := w.slot(id)
	s.restartAt = w.now + 1 + w.pick(Faults, w.profile.Down)
	w.schedule(event{at: s.restartAt, kind: evRestart, node: id, inc: s.inc})
}

// crash stops node id: its volatile state, timers and unsynced writes are lost.
func (w *World) crash(id node.ID) {
	w.fault(KindCrash)
	w.stepCore.crash(w.slot(id))
	if w.disk != nil {
		w.disk.crashed(w.slot(id))
	}
}

// restart boots node id again from what it had synced.
func (w *World) restart(e event) {
	s := w.slot(e.node)
	if s.up || s.permanent || e.inc != s.inc {
		return
	}
	w.fault(KindRestart)
	w.record(Restart, e.node, 0, 0, nil)
	w.boot(s)
}

// boot creates node s's protocol state and starts it.
func (w *World) boot(s *slot) { w.stepCore.boot(s, w.newState(s.id)) }

func (w *World) pauseSome() {
	id := w.pickNode(func(s *slot) bool { return s.up && !s.paused })
	if id == 0 {
		return
	}
	s := w.slot(id)
	s.paused = true
	s.resumeAt = w.now + 1 + w.pick(Faults, w.profile.Down)
	w.fault(KindPause)
	w.record(Pause, id, 0, 0, nil)
	w.schedule(event{at: s.resumeAt, kind: evResume, node: id, inc: s.inc})
}

func (w *World) resume(id node.ID) {
	s := w.slot(id)
	if !s.paused {
		return
	}
	s.paused = false
	w.fault(KindResume)
	w.record(Resume, id, 0, 0, nil)
}

// split cuts the cluster in two random, non-empty halves.
func (w *World) split() {
	side := make([]bool, len(w.ids)+1)
	in := 0
	for _, id := range w.ids {
		side[id] = w.choose.Choose(Faults, 2) == 1
		if side[id] {
			in++
		}
	}
	if in == 0 || in == len(w.ids) {
		side[w.ids[0]] = !side[w.ids[0]]
	}
	var a []string
	for _, id := range w.ids {
		if side[id] {
			a = append(a, fmt.Sprint(id))
		}
	}
	w.partition(KindPartitionSplit, "split {"+strings.Join(a, ",")+"} | rest",
		func(x, y node.ID) bool { return side[x] != side[y] })
}

// isolate cuts one node off from every other.
func (w *World) isolate() {
	id := w.ids[w.choose.Choose(Faults, len(w.ids))]
	w.partition(KindPartitionIsolate, fmt.Sprintf("isolate n%d", id),
		func(x, y node.ID) bool { return x == id || y == id })
}

// oneWay cuts one direction only: a node that can hear but not be heard, or the reverse.
func (w *World) oneWay() {
	id := w.ids[w.choose.Choose(Faults, len(w.ids))]
	if w.choose.Choose(Faults, 2) == 0 {
		w.partition(KindPartitionOneWay, fmt.Sprintf("n%d cannot send", id),
			func(x, y node.ID) bool { return x == id })
		return
	}
	w.partition(KindPartitionOneWay, fmt.Sprintf("n%d cannot receive", id),
		func(x, y node.ID) bool { return y == id })
}

// partial cuts a random set of links both ways, leaving the others: every node may still
// reach every other through some third node, the connectivity that defeats naive leader
// election.
func (w *World) partial() {
	n := len(w.ids)
	cut := make([][]bool, n+1)
	for i := range cut {
		cut[i] = make([]bool, n+1)
	}
	var links []string
	for _, a := range w.ids {
		for _, b := range w.ids {
			if a < b && w.choose.Choose(Faults, 2) == 1 {
				cut[a][b], cut[b][a] = true, true
				links = append(links, fmt.Sprintf("%d-%d", a, b))
			}
		}
	}
	if len(links) == 0 {
		cut[w.ids[0]][w.ids[1]], cut[w.ids[1]][w.ids[0]] = true, true
		links = append(links, fmt.Sprintf("%d-%d", w.ids[0], w.ids[1]))
	}
	w.partition(KindPartitionPartial, "cut "+strings.Join(links, " "),
		func(x, y node.ID) bool { return cut[x][y] })
}

// skewClocks draws each node's timer rate once, at the start of a run.
func (w *World) skewClocks() {
	const steps = 10
	for _, s := range w.nodes {
		v := w.choose.Choose(Faults, 2*steps+1) // 0: no skew; odd: faster; even: slower
		if v == 0 {
			continue
		}
		amount := w.profile.Skew * float64((v+1)/2) / steps
		if v%2 == 0 {
			amount = -amount
		}
		s.rate = 1 + amount
		w.fault(KindSkew)
		w.record(Skew, s.id, 0, 0, fmt.Sprintf("timer rate %.3f", s.rate))
	}
}

// heal ends the fault phase (TigerBeetle's liveness mode): partitions heal, paused nodes
// resume, a core of at least a quorum of nodes is restarted and kept up, nodes outside the
// core that are down stay down for good, and the network stops losing, duplicating and
// stretching messages. From now on the protocol must make progress.
func (w *World) startLiveness() {
	w.live = true
	w.healAt = w.now
	w.record(Phase, 0, 0, 0, "faults heal; liveness demanded")
	w.heal()
	if w.disk != nil {
		w.disk.heal()
	}
	for _, s := range w.nodes {
		if s.paused {
			w.resume(s.id)
		}
	}
	n := len(w.ids)
	q := min(n, quorumOf(w.cfg)+len(w.profile.Byzantine.Nodes)) // a quorum of correct nodes, beside the Byzantine ones
	size := q + w.choose.Choose(Faults, n-q+1)
	w.core = make([]bool, n)
	// Choose the core: the protocol's essential nodes, then the nodes that are up, in a drawn
	// order, then the others.
	var buf [node.MaxNodes]node.ID // the order on the stack: one allocation less per run
	order := w.drawOrder(buf[:0])
	picked := 0
	if w.proto.Essential != nil {
		for _, id := range w.proto.Essential(w.cfg.Cluster) {
			if id >= 1 && int(id) <= n && !w.core[id-1] {
				w.core[id-1] = true
				picked++
			}
		}
	}
	for pass := 0; pass < 2 && picked < size; pass++ {
		for _, id := range order {
			s := w.slot(id)
			if picked < size && !w.core[id-1] && (s.up == (pass == 0)) && !w.retired(s) {
				w.core[id-1] = true
				picked++
			}
		}
	}
	for _, s := range w.nodes {
		switch {
		case w.core[s.id-1] && !s.up:
			w.fault(KindRestart)
			w.record(Restart, s.id, 0, 0, nil)
			w.boot(s)
		case !w.core[s.id-1] && !s.up:
			s.permanent = true
		}
	}
}

// drawOrder appends to dst the node IDs in an order drawn from the fault stream.
func (w *World) drawOrder(dst []node.ID) []node.ID {
	order := append(dst, w.ids...)
	for i := len(order) - 1; i > 0; i-- {
		j := w.choose.Choose(Faults, i+1)
		order[i], order[j] = order[j], order[i]
	}
	return order
}

// retired reports whether node s's disk was replaced: it stays down for good.
func (w *World) retired(s *slot) bool { return w.disk != nil && w.disk.nodes[s.id-1].retired }
