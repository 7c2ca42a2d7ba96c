package links

import (
	"fmt"
	"slices"
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// BugNoDedup is the seeded bug: the receiver delivers every copy of a message it gets.
const BugNoDedup = "no-dedup"

// The messages of the protocol.
type (
	// Data carries one of the user's messages: the Seq-th the sender's incarnation Epoch sent
	// to this receiver. Resent marks a retransmission. Ack acknowledges, on the way, what the
	// sender has received from the receiver.
	Data struct {
		Epoch, Seq int
		Resent     bool
		// Floor is the sender's oldest message for this receiver that it still holds: it
		// has given up on those below (see MaxUnacked).
		Floor int
		Ack   Ack
		Msg   node.Message
	}
	// Ack acknowledges every message of the receiver's incarnation Epoch numbered up to Low,
	// and those in Above. Epoch zero acknowledges nothing.
	Ack struct {
		Epoch, Low int
		Above      []int
	}
)

func (d Data) String() string {
	re := ""
	if d.Resent {
		re = " resent"
	}
	return fmt.Sprintf("DATA(%d.%d%s: %v)", d.Epoch, d.Seq, re, summary(d.Msg))
}
func (a Ack) String() string { return fmt.Sprintf("ACK(%d.%d%v)", a.Epoch, a.Low, a.Above) }

// Carried and Carry let the adversary reach the user's message inside a DATA.
func (d Data) Carried() node.Message             { return d.Msg }
func (d Data) Carry(m node.Message) node.Message { d.Msg = m; return d }

func summary(m node.Message) string {
	if s, ok := m.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%+v", m)
}

// Tuning.
const (
	keyEpoch     = "epoch"
	timerResend  = "resend"
	resendEvery  = 40 * time.Millisecond
	resendJitter = 20 * time.Millisecond
	// Acknowledgements ride on the next DATA to the same peer; what has not left within
	// ackDelay goes out on its own.
	timerAck = "ack"
	ackDelay = 5 * time.Millisecond
	// Window is how many unacknowledged messages per peer one retransmission round resends.
	Window = 32
	// MaxUnacked bounds the messages a node holds for one peer. A peer that acknowledges
	// nothing while this many pile up is down or cut off; the oldest is given up, and the
	// receiver told so (Floor), so that memory stays bounded on both sides. The layers above
	// recover what they need of it (Paxos proposers retry, the log catches up).
	MaxUnacked = 128
)

// outbox is what a node keeps of the messages it sent one peer.
type outbox struct {
	next    int    // the sequence number of the next message
	unacked []Data // in sequence order
	quiet   int    // retransmission rounds since the peer last acknowledged anything
}

// inbox is what a node knows of one sender's messages: the sender's latest incarnation, and
// which of its sequence numbers were delivered (all up to Low, and Above).
type inbox struct {
	Epoch int
	Low   int
	Above []int // sorted, all > Low+1
	Owed  bool  // received something not acknowledged yet
	// Delivered counts the deliveries of this incarnation's messages, Resent those that came
	// by retransmission: what the properties read (Delivered = Low + len(Above) exactly
	// when none was delivered twice).
	Delivered, Resent int
	// Skipped counts the numbers below Low the sender gave up on: never delivered.
	Skipped int
}

// distinct is how many distinct messages of the sender's incarnation were delivered.
func (b *inbox) distinct() int { return b.Low + len(b.Above) - b.Skipped }

// skipTo takes the sender's word that it will never send anything below floor again.
func (b *inbox) skipTo(floor int) {
	for b.Low < floor-1 {
		b.Low++
		if i, found := slices.BinarySearch(b.Above, b.Low); found {
			b.Above = slices.Delete(b.Above, i, i+1)
		} else {
			b.Skipped++
		}
	}
	for len(b.Above) > 0 && b.Above[0] == b.Low+1 {
		b.Low++
		b.Above = b.Above[1:]
	}
}

// ack is what the inbox acknowledges.
func (b *inbox) ack() Ack { return Ack{Epoch: b.Epoch, Low: b.Low, Above: slices.Clone(b.Above)} }

func (b *inbox) has(seq int) bool { return seq <= b.Low || slices.Contains(b.Above, seq) }

func (b *inbox) add(seq int) {
	if i, found := slices.BinarySearch(b.Above, seq); !found {
		b.Above = slices.Insert(b.Above, i, seq)
	}
	for len(b.Above) > 0 && b.Above[0] == b.Low+1 {
		b.Low++
		b.Above = b.Above[1:]
	}
}

// Links is one node's end of the perfect links to every node.
type Links struct {
	cfg    node.Config
	epoch  int
	out    []outbox // out[p]: to node p
	in     []inbox  // in[p]: from node p
	armed  bool     // the retransmission timer is set
	acking bool     // the acknowledgement timer is set
	round  int      // retransmission rounds so far
}

// New returns node id's links.
func New(cfg node.Config, id node.ID) node.Node {
	return &Links{cfg: cfg, out: make([]outbox, cfg.N+1), in: make([]inbox, cfg.N+1)}
}

// Start begins a new incarnation: its epoch, one above the last, is synced before anything is
// sent with it, so that receivers never mistake this incarnation's messages for the last's.
func (l *Links) Start(env node.Env) {
	last, _ := node.Load[int](env, keyEpoch)
	l.epoch = last + 1
	env.Store(keyEpoch, l.epoch)
	env.Sync()
}

// Request sends the user's message (a LinkSend).
func (l *Links) Request(env node.Env, req node.Request) {
	s, ok := node.OpOf[node.LinkSend](req)
	if !ok || s.To < 1 || int(s.To) > l.cfg.N {
		return
	}
	box := &l.out[s.To]
	box.next++
	d := Data{Epoch: l.epoch, Seq: box.next, Msg: s.Msg}
	if len(box.unacked) == MaxUnacked {
		box.unacked = slices.Delete(box.unacked, 0, 1) // give up the oldest
	}
	box.unacked = append(box.unacked, d)
	l.send(env, s.To, d)
	l.arm(env)
}

// send sends DATA with the acknowledgement owed to its receiver.
func (l *Links) send(env node.Env, to node.ID, d Data) {
	if b := &l.in[to]; b.Epoch > 0 {
		d.Ack, b.Owed = b.ack(), false
	}
	d.Floor = d.Seq
	if box := &l.out[to]; len(box.unacked) > 0 {
		d.Floor = box.unacked[0].Seq
	}
	env.Send(to, d)
}

func (l *Links) arm(env node.Env) {
	if !l.armed {
		l.armed = true
		env.SetTimer(timerResend, resendEvery, resendEvery+resendJitter)
	}
}

// Receive delivers DATA, and forgets what acknowledgements acknowledge.
func (l *Links) Receive(env node.Env, from node.ID, m node.Message) {
	if from < 1 || int(from) > l.cfg.N {
		return
	}
	switch m := m.(type) {
	case Data:
		l.onAck(from, m.Ack)
		l.onData(env, from, m)
	case Ack:
		l.onAck(from, m)
	}
}

func (l *Links) onData(env node.Env, from node.ID, d Data) {
	b := &l.in[from]
	switch {
	case d.Seq < 1 || d.Epoch < b.Epoch:
		return // from an incarnation that has since restarted: no one waits for its answer
	case d.Epoch > b.Epoch:
		*b = inbox{Epoch: d.Epoch} // the sender restarted: its numbering starts again
	}
	l.owe(env, b) // every copy: the last acknowledgement may have been lost
	b.skipTo(min(d.Floor, d.Seq))
	if b.has(d.Seq) && l.cfg.Bug != BugNoDedup {
		return // PL2: delivered once
	}
	b.add(d.Seq)
	b.Delivered++
	if d.Resent {
		b.Resent++
	}
	node.Indicate(env, node.LinkDeliver{From: from, Msg: d.Msg})
}

// owe notes an acknowledgement to send: with the next DATA to the peer, or on its own soon.
func (l *Links) owe(env node.Env, b *inbox) {
	b.Owed = true
	if !l.acking {
		l.acking = true
		env.SetTimer(timerAck, ackDelay, ackDelay)
	}
}

func (l *Links) onAck(from node.ID, a Ack) {
	if a.Epoch != l.epoch {
		return
	}
	box := &l.out[from]
	n := len(box.unacked)
	box.unacked = slices.DeleteFunc(box.unacked, func(d Data) bool { return d.Seq <= a.Low || slices.Contains(a.Above, d.Seq) })
	if len(box.unacked) < n {
		box.quiet = 0
	}
}

// Timer resends the oldest unacknowledged messages to every peer, Window at most each, until
// everything is acknowledged (PL1). A peer that has acknowledged nothing for a while (it is
// down, or cut off) is tried less and less often, down to one round in eight.
func (l *Links) Timer(env node.Env, name string) {
	if name == timerAck {
		l.acking = false
		for p := range l.in {
			if b := &l.in[p]; b.Owed {
				b.Owed = false
				env.Send(node.ID(p), b.ack())
			}
		}
		return
	}
	if name != timerResend {
		return
	}
	l.armed = false
	l.round++
	for p := range l.out {
		box := &l.out[p]
		if len(box.unacked) == 0 {
			continue
		}
		box.quiet++
		if l.round%(1<<min(box.quiet-1, 3)) != 0 {
			continue
		}
		for i, d := range box.unacked {
			if i == Window {
				break
			}
			d.Resent = true
			l.send(env, node.ID(p), d)
		}
	}
	if l.Unacked() > 0 {
		l.arm(env)
	}
}

// Duplicates returns, for the first sender whose messages the node delivered more often than
// there are distinct ones in that sender's incarnation, the sender and the two counts.
func (l *Links) Duplicates() (from node.ID, deliveries, distinct int, ok bool) {
	for p := range l.in {
		if b := &l.in[p]; b.Delivered > b.distinct() {
			return node.ID(p), b.Delivered, b.distinct(), true
		}
	}
	return 0, 0, 0, false
}

// Redelivered reports whether the node delivered a message that came by retransmission.
func (l *Links) Redelivered() bool {
	for p := range l.in {
		if l.in[p].Resent > 0 {
			return true
		}
	}
	return false
}

// Highest returns the incarnation of sender p whose messages the node delivers, and the
// highest sequence number it delivered of them (zero: none).
func (l *Links) Highest(p node.ID) (epoch, seq int) {
	b := &l.in[p]
	seq = b.Low
	if len(b.Above) > 0 {
		seq = b.Above[len(b.Above)-1]
	}
	return b.Epoch, seq
}

// Issued is how many messages the node has numbered for peer p in its incarnation.
func (l *Links) Issued(p node.ID) int { return l.out[p].next }

// Epoch is the node's incarnation.
func (l *Links) Epoch() int { return l.epoch }

// Unacked is the number of messages the node holds unacknowledged, to every peer.
func (l *Links) Unacked() int {
	n := 0
	for _, b := range l.out {
		n += len(b.unacked)
	}
	return n
}

// UnackedTo is the number of messages the node holds unacknowledged for peer p.
func (l *Links) UnackedTo(p node.ID) int { return len(l.out[p].unacked) }

// Size counts the messages kept for retransmission and the out-of-order sequence numbers
// remembered.
func (l *Links) Size() int {
	n := l.Unacked()
	for _, b := range l.in {
		n += len(b.Above)
	}
	return n
}
