package sim

import (
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// evKind is what an event does when its time comes.
type evKind uint8

const (
	evDeliver       evKind = iota // a message reaches a node
	evTimer                       // a node's timer fires
	evRequest                     // a client's request reaches a node
	evReply                       // a node's reply reaches a client
	evClientNext                  // a client submits its next operation
	evClientTimeout               // a client stops waiting for a reply
	evClientRetry                 // a client tries again after a node declined
	evFaultTick                   // the fault scheduler draws a fault
	evRestart                     // a crashed node comes back
	evResume                      // a paused node goes on
	evHealPartition               // a partition ends
	evLiveness                    // the fault phase ends: heal everything, demand progress
)

// event is one scheduled happening. Events are ordered by time, then by the order in which
// they were scheduled (seq), which makes the order total and deterministic.
type event struct {
	at   time.Duration
	seq  uint64
	kind evKind
	node node.ID // the node it happens at
	from node.ID // the sender of a message
	inc  uint64  // the incarnation of node (timers) or of the partition (heals) it belongs to
	gen  uint64  // the timer's or client wait's generation, to skip cancelled ones
	cl   int     // the client's index
	name string  // the timer's name
	msg  any     // the message, request or reply
}

// queue is a binary min-heap of events by (at, seq).
type queue []event

func (q queue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *queue) push(e event) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() event {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = event{} // release references
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
