package explore

import (
	"slices"
	"sync"
)

// Partial-order reduction by sleep sets (Godefroid, "Partial-Order Methods for the
// Verification of Concurrent Systems", 1996, chapter 5), in the breadth-first search.
//
// Where two independent transitions t and u are both enabled in s, the orders t·u and u·t
// reach one state. Having explored t from s, the search puts t to sleep in the successor by
// u: from s·u it does not take t, since s·t·u is the same state and is reached from s·t. A
// state's sleep set holds the transitions it skips; a successor by u inherits those asleep
// (and those already explored from its parent) that are independent of u.
//
// Sleep sets prune transitions, not states: every reachable state is still visited and
// checked, so a complete search with them stores exactly the states one without them does,
// and every invariant, sometimes-property and deadlock verdict is the same. What they save is
// the steps whose successors would have been duplicates.
//
// With a visited set, a state may be reached again with a sleep set that lacks a transition
// skipped when it was expanded; that transition must then be explored from it after all
// (Godefroid's Fig. 5.2). The table below keeps each state's sleep set (only the non-empty
// ones), collects the later arrivals of a level, and between levels, for a state not yet
// expanded narrows its sleep set, and for one already expanded schedules the transitions it
// now owes in the next level. Both are decided on one goroutine from intersections, which do
// not depend on the order of arrival, so the states found and the counts do not depend on the
// number of workers.

type sleepItem struct {
	id   uint64
	node int32
}

// revisit is a state reached again at a level, with the intersection of the sleep sets it
// arrived with.
type revisit[S any] struct {
	s     S
	sleep []sleepItem
}

const sleepShards = 64

type sleepTable[S any] struct {
	shards [sleepShards]sleepShard[S]
	// owed[fp] are the transitions a state already expanded owes, explored when it comes
	// up again in the level being expanded; written between levels only.
	owed map[uint64][]sleepItem
}

type sleepShard[S any] struct {
	mu      sync.Mutex
	sleep   map[uint64]sleepEntry
	revisit map[uint64]*revisit[S]
}

type sleepEntry struct {
	level int32
	sleep []sleepItem
}

func newSleepTable[S any]() *sleepTable[S] {
	t := &sleepTable[S]{owed: map[uint64][]sleepItem{}}
	for i := range t.shards {
		t.shards[i].sleep = map[uint64]sleepEntry{}
		t.shards[i].revisit = map[uint64]*revisit[S]{}
	}
	return t
}

func (t *sleepTable[S]) shard(fp uint64) *sleepShard[S] { return &t.shards[(fp*fibonacci)>>58] }

// get returns the sleep set a state is expanded with.
func (t *sleepTable[S]) get(fp uint64) []sleepItem {
	sh := t.shard(fp)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.sleep[fp].sleep
}

// arrive stores a successor reached at level with its sleep set: insert adds its
// fingerprint to the visited set and says whether it was new. Both happen under the shard's
// lock, so that a state's sleep set is stored before anyone else can find the state visited:
// a state found visited with no sleep set stored has none.
func (t *sleepTable[S]) arrive(fp uint64, s S, sleep []sleepItem, level int, insert func() bool) (isNew bool) {
	sh := t.shard(fp)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if insert() {
		if len(sleep) > 0 {
			sh.sleep[fp] = sleepEntry{int32(level), sleep}
		}
		return true
	}
	if r := sh.revisit[fp]; r != nil {
		r.sleep = intersect(r.sleep, sleep)
		return false
	}
	if e, ok := sh.sleep[fp]; ok && !subset(e.sleep, sleep) {
		r := &revisit[S]{sleep: sleep}
		if int(e.level) != level {
			r.s = s // expanded already: kept to explore what it owes; else only narrowed
		}
		sh.revisit[fp] = r
	} // else nothing is asleep there that is not asleep here too
	return false
}

// settle decides a level's revisits (see the comment at the top) and returns the states
// that owe transitions, to expand in the next level.
func (t *sleepTable[S]) settle(level int) []S {
	clear(t.owed)
	var again []S
	for i := range t.shards {
		sh := &t.shards[i]
		for fp, r := range sh.revisit {
			e, ok := sh.sleep[fp]
			if !ok {
				continue // expanded, or to be, with nothing asleep
			}
			if int(e.level) == level { // not expanded yet: it skips only what all arrivals skip
				e.sleep = intersect(e.sleep, r.sleep)
			} else {
				owed := minus(e.sleep, r.sleep)
				if len(owed) == 0 {
					continue
				}
				e.sleep = intersect(e.sleep, r.sleep)
				t.owed[fp] = owed
				again = append(again, r.s)
			}
			if len(e.sleep) == 0 {
				delete(sh.sleep, fp)
			} else {
				sh.sleep[fp] = e
			}
		}
		clear(sh.revisit)
	}
	return again
}

// bytes estimates the table's memory.
func (t *sleepTable[S]) bytes() int64 {
	var n int64
	for i := range t.shards {
		for _, e := range t.shards[i].sleep {
			n += 48 + int64(cap(e.sleep))*16
		}
	}
	return n
}

// Sleep sets are kept sorted by id.

func has(set []sleepItem, id uint64) bool {
	_, ok := slices.BinarySearchFunc(set, id, func(x sleepItem, id uint64) int {
		switch {
		case x.id < id:
			return -1
		case x.id > id:
			return 1
		}
		return 0
	})
	return ok
}

func subset(a, b []sleepItem) bool {
	for _, x := range a {
		if !has(b, x.id) {
			return false
		}
	}
	return true
}

func intersect(a, b []sleepItem) []sleepItem {
	var out []sleepItem
	for _, x := range a {
		if has(b, x.id) {
			out = append(out, x)
		}
	}
	return out
}

func minus(a, b []sleepItem) []sleepItem {
	var out []sleepItem
	for _, x := range a {
		if !has(b, x.id) {
			out = append(out, x)
		}
	}
	return out
}

// with returns set and item, sorted.
func with(set []sleepItem, it sleepItem) []sleepItem {
	i, found := slices.BinarySearchFunc(set, it.id, func(x sleepItem, id uint64) int {
		switch {
		case x.id < id:
			return -1
		case x.id > id:
			return 1
		}
		return 0
	})
	if found {
		return set
	}
	return slices.Insert(set, i, it)
}
