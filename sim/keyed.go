package sim

// Keyed is a Chooser that wants to know which event each of its choices belongs to. Before
// the world dispatches an event it calls Event with the event's key, which names the event by
// its cause — its kind, node and peer, timer, client and message — rather than by when it
// happens or how many events came before it. A shrinker keys its choices by it, so that
// removing one fault edits the choices of one event without shifting those of every later
// one. Choices made before the first event (boots, the clients' start, swarm and skew draws)
// come before any call to Event.
type Keyed interface {
	Chooser
	Event(key uint64)
}

// eventKey is the key of event e (see Keyed): everything that says what the event is, and
// nothing that says when it happens (its time, its sequence number, the generation of a
// timer or the incarnation of a node).
func eventKey(e event) uint64 {
	h := hasherPool.Get().(*Hasher) // see HashOf: a hasher of its own would be an allocation per event
	*h = NewHasher()
	h.Uint64(uint64(e.kind) + 1)
	h.Uint64(uint64(e.node)<<32 | uint64(e.from))
	h.Int(e.cl)
	h.String(e.name)
	switch e.kind { // a request or a reply is hashed as the value it was when boxed in msg
	case evRequest:
		h.Value(e.request())
	case evReply:
		h.Value(e.reply())
	default:
		h.Value(e.msg)
	}
	sum := h.Sum()
	hasherPool.Put(h)
	return sum
}

// newRecorder records the choices of c (or not, when off).
func newRecorder(c Chooser, off bool) recorder {
	r := recorder{inner: c, off: off}
	if g, ok := c.(*Guided); ok {
		r.guided = g
	} else if k, ok := c.(Keyed); ok {
		r.keyed = k
	}
	return r
}

// sending tells a guided chooser which message the next network choices are for.
func (r *recorder) sending(mid int) {
	if r.guided != nil {
		r.guided.msg = int32(mid)
	}
}

// announce tells a Keyed chooser which event comes next.
func (r *recorder) announce(e *event) {
	if r.guided != nil {
		r.guided.event(*e)
		return
	}
	if r.keyed != nil {
		r.keyed.Event(eventKey(*e))
	}
}
