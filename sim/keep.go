package sim

import (
	"fmt"

	"github.com/replica-io/replica/protocols/node"
)

// What a run keeps of its outputs and its clients' history.
//
// By default a run keeps both whole: node.World.Outputs and History list everything since the
// run began. A protocol whose properties never read them whole (node.Protocol.Streamed) runs
// streamed instead, unless the run keeps a full trace or has an observer (replays, timelines,
// the viewer, guided runs: short runs that show everything): the world forgets each step's
// outputs when the next step begins, and forgets the operations of the history that the
// linearizability checker has judged (ForgetHistory), so that the memory of an hour-long run
// does not grow with its length.

// streams reports whether a run of cfg runs streamed (see above).
func streams(cfg Config) bool {
	return cfg.Protocol.Streamed && cfg.Trace != TraceFull && cfg.Observer == nil
}

// Streaming reports whether the run forgets its outputs and judged history (see
// node.Protocol.Streamed).
func (w *World) Streaming() bool { return w.streamed }

// forgetOutputs drops the outputs of the steps before the one about to begin.
func (w *World) forgetOutputs() {
	w.outBase += len(w.outputs)
	for _, o := range w.outputs {
		if w.outForgot == nil {
			w.outForgot = map[string]int{}
		}
		w.outForgot[outputPath(o)]++
	}
	clear(w.outputs) // the values they hold are garbage now
	w.outputs = w.outputs[:0]
	w.newOut = 0
}

// OutputCount is the number of outputs of the run so far, forgotten ones included.
func (w *World) OutputCount() int { return w.outBase + len(w.outputs) }

// OutputCountAt is the number of outputs of the run so far that the component at path made,
// forgotten ones included: what a scoped world (node.Scope) counts in a streamed run, where
// it cannot list them.
func (w *World) OutputCountAt(path string) int {
	n := w.outForgot[path]
	for _, o := range w.outputs {
		if outputPath(o) == path {
			n++
		}
	}
	return n
}

// outputPath is the path of the component that made o, as node.Scope reads it.
func outputPath(o node.Output) string {
	if o.Path == "" {
		o.Path, _ = node.SplitOutput(o.Value)
	}
	return o.Path
}

// OpCount is the number of operations the clients have invoked so far, forgotten ones
// included.
func (w *World) OpCount() int { return w.histBase + len(w.history) }

// HistoryBase is the number of the first operation History still holds: how many operations
// the run has forgotten.
func (w *World) HistoryBase() int { return w.histBase }

// AnsweredOps is the number of operations answered so far.
func (w *World) AnsweredOps() int { return w.answered }

// FirstPendingOp is the number of the first operation a client still waits for, or OpCount
// when none is pending: every operation before it has its outcome (answered, or given up).
func (w *World) FirstPendingOp() int {
	first := w.OpCount()
	for _, c := range w.clients {
		if c.op >= 0 {
			first = min(first, c.op)
		}
	}
	return first
}

// ForgetHistory lets a streamed run drop the operations before number n of its history, which
// a checker has judged; a run that is not streamed keeps them all. It never drops an operation
// a client still waits for, nor one invoked once the fault phase was over (the liveness phase
// asks which clients were answered since the faults healed).
func (w *World) ForgetHistory(n int) {
	if !w.streamed {
		return
	}
	n = min(n, w.FirstPendingOp())
	cut := n - w.histBase
	for cut > 0 && w.cfg.Liveness > 0 && w.history[cut-1].Call >= w.cfg.Faults {
		cut--
	}
	if cut <= 0 {
		return
	}
	for _, op := range w.history[:cut] {
		if !op.Done {
			w.forgotUnknown++
		}
	}
	kept := copy(w.history, w.history[cut:])
	clear(w.history[kept:])
	w.history = w.history[:kept]
	w.histBase += cut
}

// historyOp is operation number i of the history, which the world still holds.
func (w *World) historyOp(i int) node.Op { return w.history[i-w.histBase] }

// allOutputs is Outputs. A streamed run refuses, rather than answer with the latest step's
// outputs as if they were all.
func (w *World) allOutputs() []node.Output {
	if !w.streamed {
		return w.outputs
	}
	panic(fmt.Sprintf("protocol %s is Streamed (node.Protocol.Streamed): its run keeps only the latest step's outputs, "+
		"but a property asked for all of them (read World.NewOutputs and remember what you need, or count with node.OutputCount)",
		w.proto.Name))
}
