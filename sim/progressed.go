package sim

// Progressed reports whether nothing is pending, as Pending would list it, without building
// the list: the liveness checker asks after every step once faults heal, and needs the list
// itself only when the run fails.
func (w *World) Progressed() bool {
	if w.proto.Progress != nil && len(w.proto.Progress(w)) > 0 {
		return false
	}
	_, ops := w.workload()
	for _, c := range w.clients {
		if c.done >= ops && c.op < 0 {
			continue
		}
		if !w.answeredSinceHeal(c) {
			return false
		}
	}
	return true
}
