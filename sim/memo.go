package sim

// Memo returns what a property keeps under key for the run, made by init the first time it is
// asked for. Properties (node.Invariant) are functions of the world called after every step;
// one that judges each new output against all that came before (was another entry applied at
// this index?) keeps its index of the past here, rather than rescanning every output of the
// run at every step. The value lives as long as the run, and no longer. With a nil init, Memo
// only looks: it returns nil where nothing is kept under key yet.
//
// Properties find Memo through an interface assertion on node.World, and fall back to
// scanning where the world does not offer it (the explorer's states, a test's cluster).
func (w *World) Memo(key string, init func() any) any {
	if w.memo == nil {
		w.memo = map[string]any{}
	}
	v, ok := w.memo[key]
	if !ok && init != nil {
		v = init()
		w.memo[key] = v
	}
	return v
}
