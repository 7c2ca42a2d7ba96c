package explore

import (
	"errors"
	"math"
	"math/bits"
)

// checkProgress checks that from every reachable state some progress state is reachable.
// It stores the state graph (states numbered in breadth-first order, edges as successor
// numbers), marks every state that can reach a progress state by searching the graph
// backwards from the progress states, and reports the first unmarked state in
// breadth-first order, so with a shortest path, the same for any number of workers. It
// returns nil if ctx stops it first.
func (e *engine[S]) checkProgress() (*ProgressResult, error) {
	pm := e.m.(ProgressModel[S])
	index := newFPIndex()
	var (
		states         []S
		parent, action []int32 // for the path to a stuck state
		start          []int32 // edges[start[i]:start[i+1]] are the successors of state i
		edges          []int32
		ok             []bool // whether a progress state is reachable from state i
	)
	add := func(s S, from, a int) int32 {
		n := int32(len(states))
		i, isNew := index.add(e.m.Fingerprint(s), n)
		if isNew {
			states = append(states, s)
			parent, action = append(parent, int32(from)), append(action, int32(a))
		}
		return i
	}
	inits, err := e.initial()
	if err != nil {
		return nil, err
	}
	for i, s := range inits {
		add(s, -1, i)
	}
	var from int
	sl := e.watch.slot("progress")
	yield := func(a int, s S) bool {
		edges = append(edges, add(e.normal(s), from, a))
		return true
	}
	for from = 0; from < len(states); from++ {
		if e.stopped.Load() || (from%blockLen == 0 && e.outOfMemory(nil, blockLen)) {
			return nil, nil
		}
		if len(states) >= math.MaxInt32 || len(edges) >= math.MaxInt32-1<<16 {
			return nil, errors.New("explore: state graph too large for the progress check")
		}
		start = append(start, int32(len(edges)))
		ok = append(ok, pm.Progress(states[from]))
		sl.begin(states[from], 0)
		e.m.Next(states[from], yield)
		sl.end()
		states[from] = *new(S) // only its number is needed from now on
	}
	start = append(start, int32(len(edges)))

	// Reverse the edges, then search backwards from the progress states.
	rstart := make([]int32, len(states)+1)
	for _, t := range edges {
		rstart[t+1]++
	}
	for i := 1; i < len(rstart); i++ {
		rstart[i] += rstart[i-1]
	}
	redges := make([]int32, len(edges))
	fill := append([]int32(nil), rstart[:len(states)]...)
	for s := range states {
		for _, t := range edges[start[s]:start[s+1]] {
			redges[fill[t]] = int32(s)
			fill[t]++
		}
	}
	var queue []int32
	for i := range ok {
		if ok[i] {
			queue = append(queue, int32(i))
		}
	}
	for len(queue) > 0 {
		t := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, s := range redges[rstart[t]:rstart[t+1]] {
			if !ok[s] {
				ok[s] = true
				queue = append(queue, s)
			}
		}
	}
	for i := range ok {
		if !ok[i] {
			p := treePath(parent, action, i)
			p, err := e.concrete(e.watch, p)
			if err != nil {
				return nil, err
			}
			return &ProgressResult{Stuck: &p}, nil
		}
	}
	return &ProgressResult{}, nil
}

// treePath returns the path to state i in a search tree given by parents and actions.
func treePath(parent, action []int32, i int) Path {
	var rev []int
	for ; parent[i] >= 0; i = int(parent[i]) {
		rev = append(rev, int(action[i]))
	}
	p := Path{Init: int(action[i]), Actions: make([]int, 0, len(rev))}
	for j := len(rev) - 1; j >= 0; j-- {
		p.Actions = append(p.Actions, rev[j])
	}
	return p
}

// fpIndex maps fingerprints to state numbers: open addressing with linear probing, like
// fpSet but with a number beside each key, for one goroutine.
type fpIndex struct {
	keys    []uint64
	vals    []int32
	shift   uint
	n       int
	zero    int32 // the number of fingerprint 0, or -1
	zeroSet bool
}

func newFPIndex() *fpIndex {
	const n = 1 << 10
	return &fpIndex{keys: make([]uint64, n), vals: make([]int32, n), shift: 64 - 10}
}

// add returns the number stored for fp and false, or stores v and returns it and true.
func (x *fpIndex) add(fp uint64, v int32) (int32, bool) {
	if fp == 0 {
		if x.zeroSet {
			return x.zero, false
		}
		x.zero, x.zeroSet = v, true
		return v, true
	}
	if (x.n+1)*maxLoadDen > len(x.keys)*maxLoadNum {
		x.grow()
	}
	mask := uint64(len(x.keys) - 1)
	i := (fp * fibonacci) >> x.shift
	for ; x.keys[i] != 0; i = (i + 1) & mask {
		if x.keys[i] == fp {
			return x.vals[i], false
		}
	}
	x.keys[i], x.vals[i] = fp, v
	x.n++
	return v, true
}

func (x *fpIndex) grow() {
	keys, vals := x.keys, x.vals
	size := 2 * len(keys)
	x.keys, x.vals = make([]uint64, size), make([]int32, size)
	x.shift = uint(64 - bits.TrailingZeros(uint(size)))
	mask := uint64(size - 1)
	for j, fp := range keys {
		if fp != 0 {
			i := (fp * fibonacci) >> x.shift
			for x.keys[i] != 0 {
				i = (i + 1) & mask
			}
			x.keys[i], x.vals[i] = fp, vals[j]
		}
	}
}
