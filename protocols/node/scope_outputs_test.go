package node

import (
	"reflect"
	"testing"
	"time"
)

// outputsWorld is a world of outputs only, with memos or without.
type outputsWorld struct {
	outs  []Output
	memos map[string]any // nil: a world without memos
}

func (w *outputsWorld) Config() Config                { return Config{N: 1} }
func (w *outputsWorld) Now() time.Duration            { return 0 }
func (w *outputsWorld) State(id ID) Node              { return nil }
func (w *outputsWorld) Correct(id ID) bool            { return true }
func (w *outputsWorld) Outputs() []Output             { return w.outs }
func (w *outputsWorld) NewOutputs() []Output          { return w.outs[len(w.outs)-1:] }
func (w *outputsWorld) History() []Op                 { return nil }
func (w *outputsWorld) Up(id ID) bool                 { return true }
func (w *outputsWorld) Healed() (bool, time.Duration) { return false, 0 }

type memoOutputsWorld struct{ outputsWorld }

func (w *memoOutputsWorld) Memo(key string, init func() any) any {
	v, ok := w.memos[key]
	if !ok && init != nil {
		v = init()
		w.memos[key] = v
	}
	return v
}

// A scoped view's outputs, kept step by step in a world with memos (the world's own list while
// every output is the component's, a filtered copy from the first that is not), are at every
// step those of a world without memos, which filters all of them again: at the root and
// below it, with outputs of other components, of the root wrapped in an AtPath, and plain.
func TestScopedOutputsKeptStepByStep(t *testing.T) {
	steps := []Output{
		{Node: 1, Value: 1}, {Node: 2, Value: 2},
		{Node: 1, Path: "a", Value: 3},
		{Node: 3, Value: 4},
		{Node: 2, Value: AtPath{Path: "a", Value: 5}},
		{Node: 1, Value: AtPath{Path: "", Value: 6}},
		{Node: 1, Path: "a", Value: 7},
	}
	for _, path := range []string{"", "a"} {
		memo := &memoOutputsWorld{outputsWorld{memos: map[string]any{}}}
		plain := &outputsWorld{}
		for i, o := range steps {
			memo.outs = append(memo.outs, o)
			plain.outs = append(plain.outs, o)
			viaView, viaScoper := Scope(memo, path).Outputs(), ScopeTo(path).Of(memo).Outputs()
			want := Scope(plain, path).Outputs()
			if !sameOutputs(viaView, want) || !sameOutputs(viaScoper, want) {
				t.Fatalf("path %q after step %d: kept %v and %v, filtered %v", path, i, viaView, viaScoper, want)
			}
		}
	}
}

// sameOutputs compares lists of outputs, an empty list and none alike.
func sameOutputs(a, b []Output) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}
