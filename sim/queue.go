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
	mid  int     // the message's number in the trace (see Entry.Msg)
}

// queue holds the scheduled events: a 4-ary min-heap of small keys, ordered by (at, seq),
// over a slab of events. Only the keys move while the heap reorders, and they hold no
// pointers, so reordering costs no garbage-collector write barriers; a popped event's slot
// is reused by the next push. Four children per key make the heap half as deep as a binary
// one, and a key moves into the hole left above it rather than being swapped at every level:
// a calm Paxos run pops some fifty events from a heap of ten to twenty, and the binary heap's
// swaps were a twentieth of its instructions. (The order of events is (at, seq), which is
// total: any heap pops them in the same order.)
type queue struct {
	keys []qkey
	slab []event
	free []int32
}

type qkey struct {
	at  time.Duration
	seq uint64
	i   int32 // the event's index in slab
}

func (a qkey) less(b qkey) bool { return a.at < b.at || a.at == b.at && a.seq < b.seq }

// len is the number of events scheduled; next the time of the earliest.
func (q *queue) len() int            { return len(q.keys) }
func (q *queue) next() time.Duration { return q.keys[0].at }

func (q *queue) push(e event) {
	var i int32
	if n := len(q.free); n > 0 {
		i, q.free = q.free[n-1], q.free[:n-1]
		q.slab[i] = e
	} else {
		i = int32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	q.keys = append(q.keys, qkey{e.at, e.seq, i})
	q.siftUp(len(q.keys) - 1)
}

// popSlot removes the earliest event from the heap and returns its slot in the slab, which
// stays the event's until freeSlot: the loop dispatches the event where it lies, without
// copying it out (a hundred bytes, twice).
func (q *queue) popSlot() int32 {
	h := q.keys
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	q.keys = h[:last]
	q.siftDown(0)
	return top.i
}

// freeSlot lets a push reuse slot i. The slot keeps its event (and the message) until then:
// clearing it here cost a write of the whole event, through the garbage collector's write
// barrier while it marks, for every event. What free slots hold is bounded by the most events
// ever queued at once.
func (q *queue) freeSlot(i int32) { q.free = append(q.free, i) }

// siftUp moves the key at j up to its place.
func (q *queue) siftUp(j int) {
	h := q.keys
	k := h[j]
	for j > 0 {
		p := (j - 1) / 4
		if !k.less(h[p]) {
			break
		}
		h[j] = h[p]
		j = p
	}
	h[j] = k
}

// siftDown moves the key at j down to its place.
func (q *queue) siftDown(j int) {
	h := q.keys
	n := len(h)
	if j >= n {
		return
	}
	k := h[j]
	for {
		c := 4*j + 1
		if c >= n {
			break
		}
		m := c // the least of j's children
		if c+4 <= n {
			kids := h[c : c+4 : c+4] // all four: no bounds to check one by one
			b := 0
			if kids[1].less(kids[b]) {
				b = 1
			}
			if kids[2].less(kids[b]) {
				b = 2
			}
			if kids[3].less(kids[b]) {
				b = 3
			}
			m = c + b
		} else {
			for d := c + 1; d < n; d++ {
				if h[d].less(h[m]) {
					m = d
				}
			}
		}
		if !h[m].less(k) {
			break
		}
		h[j] = h[m]
		j = m
	}
	h[j] = k
}
