package sim

import (
	"reflect"
	"slices"
	"sync"
	"unsafe"

	"github.com/replica-io/replica/protocols/node"
)

// Coverage is the observer of a guided run (see Guided and Search): it turns what the run did
// into coverage features, numbers that a guided search keeps the union of, so that a run
// reaching a feature no earlier run reached is kept and mutated further, as Go's fuzzer and
// AFL keep an input that reaches a new branch.
//
// Its features are the framework's own signature of every step, for every protocol, and the
// protocol's abstract state when it supplies one (node.Protocol.Abstract):
//
//   - a step's signature: what the node handled (a message's type and boolean fields, a
//     timer's name, a client request, a restart), the kinds of message it sent, and whether
//     it output or replied: what a step did, not with which numbers;
//   - the pair of a node's consecutive signatures, as AFL's edges pair branches;
//   - how each field of the node's state changed in a step of a given input: up or down
//     (numbers, lengths), to or from zero. A server that forgot its promise on a restart
//     shows as a field going down on a restart, which a server that kept it never does;
//   - the signature of the step after which a node crashed (the failure points of FATE): a
//     crash after a step of a kind never crashed after before is new coverage;
//   - the network's faults by message kind (a dropped vote, a duplicated append),
//     partitions, pauses, and the sometimes-properties the run reached;
//   - the protocol's abstract state after every step, and each change of it.
//
// Each feature counts once per run and per bucket of its number of hits (1, 2-7, 8 or more).
// When the protocol supplies an abstract state, only its features, the crash points and how
// the fields changed across a restart decide what enters a corpus (Features), the framework's
// other features being too many to tell a run that did something new from one that did the
// usual in another order; Salient says which features make a run rare, for choosing parents.
type Coverage struct {
	abstract func(node.World) any
	hits     map[uint64]uint32
	nodes    []nodeCoverage
	prevAbs  uint64
	reached  []bool
	sends    []uint64          // scratch: the kinds of message a node sent in a step
	tags     map[uint64]uint64 // the sort of each feature
	w        *World            // the world observed, for the guided chooser's aim
}

type nodeCoverage struct {
	leaves []leaf
	spare  []leaf // the buffer the next step's leaves go into (the one before last)
	sig    uint64
}

// leaf is one field of a node's state as a step leaves it.
type leaf struct {
	h    uint64
	num  int64
	zero bool
}

// NewCoverage returns the coverage observer of a run of protocol p.
func NewCoverage(p *node.Protocol) *Coverage {
	return &Coverage{abstract: p.Abstract, hits: map[uint64]uint32{}, tags: map[uint64]uint64{}}
}

// Feature tags, so that features of different sorts never coincide.
const (
	ftSig uint64 = iota + 1
	ftEdge
	ftField
	ftCrash
	ftNet
	ftFault
	ftSometimes
	ftAbstract
	ftAbstractEdge
	ftRestart
)

func feature(tag uint64, xs ...uint64) uint64 {
	h := NewHasher()
	h.Uint64(tag)
	for _, x := range xs {
		h.Uint64(x)
	}
	return h.Sum()
}

func (c *Coverage) hit(tag, f uint64) {
	c.hits[f]++
	c.tags[f] = tag
}

// Observe implements Observer.
func (c *Coverage) Observe(o Observation) {
	w, ok := o.World.(*World)
	if !ok {
		return
	}
	if c.nodes == nil {
		c.nodes = make([]nodeCoverage, len(w.nodes))
		c.reached = make([]bool, len(w.reached))
		c.w = w
		if g, ok := w.choose.inner.(*Guided); ok {
			g.aim.cov = c // from now on it may aim faults (see aim)
		}
	}
	if o.Traced {
		c.step(w, w.trace.stepEntries(o.Event))
	}
	for i, r := range w.reached {
		if r && !c.reached[i] {
			c.reached[i] = true
			c.hit(ftSometimes, feature(ftSometimes, uint64(i)))
		}
	}
	if c.abstract != nil {
		a := hashFrom("the value Protocol.Abstract returned", c.abstract(w))
		f := feature(ftAbstract, a)
		c.hit(ftAbstract, f)
		if a != c.prevAbs {
			c.hit(ftAbstractEdge, feature(ftAbstractEdge, c.prevAbs, a))
			c.prevAbs = a
			if g, ok := w.choose.inner.(*Guided); ok {
				g.trail.Events[len(g.trail.Events)-1].Abs = f
			}
		}
	}
}

// step folds the entries of one step into the coverage.
func (c *Coverage) step(w *World, entries []Entry) {
	var stepped node.ID
	var input uint64
	out := uint64(0)
	c.sends = c.sends[:0]
	for _, e := range entries {
		switch e.What {
		case Deliver:
			stepped, input = e.Node, feature(uint64(Deliver), msgKind(e.Data))
		case Timer:
			name, _ := e.Data.(string)
			h := NewHasher()
			h.String(name)
			stepped, input = e.Node, feature(uint64(Timer), h.Sum())
		case Request:
			stepped, input = e.Node, feature(uint64(Request))
		case Restart:
			stepped, input = e.Node, restartInput
		case Send:
			if e.Node == stepped {
				c.sends = append(c.sends, msgKind(e.Data))
			}
		case Output, Reply:
			if e.Node == stepped {
				out |= 1 << (e.What - Output)
			}
		case Crash:
			if e.Node >= 1 && int(e.Node) <= len(c.nodes) {
				c.hit(ftCrash, feature(ftCrash, c.nodes[e.Node-1].sig))
			}
		case Dropped, Dup, Blocked, Lost:
			c.hit(ftNet, feature(ftNet, uint64(e.What), msgKind(e.Data)))
		case Partition, Heal, Pause, Resume, Skew, Mutation:
			c.hit(ftFault, feature(ftFault, uint64(e.What)))
		}
	}
	if stepped == 0 || int(stepped) > len(c.nodes) {
		return
	}
	slices.Sort(c.sends)
	h := NewHasher()
	h.Uint64(input)
	h.Uint64(out)
	for i, k := range slices.Compact(c.sends) {
		h.Uint64(uint64(i)<<56 ^ k)
	}
	sig := h.Sum()
	nc := &c.nodes[stepped-1]
	// A Byzantine node's state is the adversary's wrapper, the simulator's own (it holds the
	// world, funcs and all): its fields say nothing of the protocol, and cannot be hashed.
	if st := w.slot(stepped).state; st != nil && w.slot(stepped).up {
		if _, byz := st.(*byzNode); !byz {
			c.fields(nc, st, input)
		}
	}
	c.hit(ftSig, feature(ftSig, sig))
	c.hit(ftEdge, feature(ftEdge, nc.sig, sig))
	nc.sig = sig
	if g, ok := w.choose.inner.(*Guided); ok {
		g.sign(sig)
		g.aim.look(g)
	}
}

// fields folds how the fields of a node's state changed in its step. Without an abstract
// state, every step's changes are coverage. With one, only a restart's are (ftRestart): what
// a node forgot, or kept, across a crash, which no abstract summary of the cluster shows as
// such and which is where durability bugs live; and the fields are read shallowly (numbers,
// flags and lengths, not the contents of logs and maps), since hashing a node's whole state
// at every step for that would be two fifths of a guided Raft run's time.
func (c *Coverage) fields(nc *nodeCoverage, st node.Node, input uint64) {
	shallow := c.abstract != nil
	leaves := leavesOf(st, nc.spare[:0], shallow)
	if !shallow || input == restartInput {
		tag := ftField
		if shallow {
			tag = ftRestart
		}
		for i, l := range leaves {
			if i < len(nc.leaves) {
				if code := transition(nc.leaves[i], l); code != 0 {
					c.hit(tag, feature(tag, input, uint64(i), uint64(code)))
				}
			}
		}
	}
	nc.leaves, nc.spare = leaves, nc.leaves
}

// restartInput is the input of a restart step, in a step's signature.
var restartInput = feature(uint64(Restart))

// transition codes how a field changed: 0 not at all; otherwise whether it was and is zero,
// and whether it went up or down.
func transition(a, b leaf) uint8 {
	if a.h == b.h {
		return 0
	}
	code := uint8(1)
	if a.zero {
		code |= 2
	}
	if b.zero {
		code |= 4
	}
	switch {
	case b.num > a.num:
		code |= 8
	case b.num < a.num:
		code |= 16
	}
	return code
}

// Salient returns the features that say most about what the run did, without buckets, sorted:
// those of the protocol's abstract state when it has one, else the pairs of consecutive steps
// and the crash points. A guided campaign favours corpus runs that reached salient features
// few others reached.
func (c *Coverage) Salient() []uint64 {
	var out []uint64
	for f, tag := range c.tags {
		switch {
		case c.abstract != nil && (tag == ftAbstract || tag == ftAbstractEdge):
		case c.abstract == nil && (tag == ftEdge || tag == ftCrash):
		default:
			continue
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Reached returns the run's features, without their buckets, sorted.
func (c *Coverage) Reached() []uint64 {
	out := make([]uint64, 0, len(c.hits))
	for f := range c.hits {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Features returns the run's features, each with the bucket of its number of hits, sorted.
func (c *Coverage) Features() []uint64 {
	out := make([]uint64, 0, len(c.hits))
	for f, n := range c.hits {
		if c.abstract != nil {
			if t := c.tags[f]; t != ftAbstract && t != ftAbstractEdge && t != ftCrash && t != ftRestart {
				continue
			}
		}
		out = append(out, f^bucket(n)*0x9e3779b97f4a7c15)
	}
	slices.Sort(out)
	return out
}

func bucket(n uint32) uint64 {
	switch {
	case n <= 1:
		return 0
	case n <= 7:
		return 1
	}
	return 2
}

// stepEntries returns the entries of event number ev that the tracer still holds, in order.
func (t *tracer) stepEntries(ev int) []Entry {
	n := min(t.count, len(t.ring))
	i := n
	for i > 0 && t.ring[(t.ringPos-n+i-1+len(t.ring))%len(t.ring)].Event == ev {
		i--
	}
	out := make([]Entry, 0, n-i)
	for ; i < n; i++ {
		out = append(out, t.ring[(t.ringPos-n+i+len(t.ring))%len(t.ring)])
	}
	return out
}

// msgKind names a message by its type and the values of its boolean fields (a pre-vote, a
// granted vote, a successful append), not by its numbers; a component's message by its path
// too.
func msgKind(m any) uint64 {
	if env, ok := m.(node.Envelope); ok {
		h := NewHasher()
		h.String(env.Path)
		h.Uint64(msgKind(env.Msg))
		return h.Sum()
	}
	if m == nil {
		return 0
	}
	v := reflect.ValueOf(m)
	t := v.Type()
	k := typeHash(t)
	if t.Kind() != reflect.Struct {
		return k
	}
	for i, f := range boolFields(t) {
		if v.Field(f).Bool() {
			k ^= 1 << (i % 64)
		}
	}
	return k
}

var boolFieldCache sync.Map // reflect.Type -> []int

func boolFields(t reflect.Type) []int {
	if fs, ok := boolFieldCache.Load(t); ok {
		return fs.([]int)
	}
	var fs []int
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Type.Kind() == reflect.Bool {
			fs = append(fs, i)
		}
	}
	boolFieldCache.Store(t, fs)
	return fs
}

// leavesOf appends the fields of a node state, and of the structs among them one level down;
// shallow ones tell composite values (slices, maps, strings, deeper structs) by their
// length alone, unless they hold no references.
func leavesOf(st node.Node, out []leaf, shallow bool) []leaf {
	v := reflect.ValueOf(st)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return out
		}
		v = v.Elem()
	}
	if !v.CanAddr() {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	if v.Kind() != reflect.Struct {
		return append(out, leafOf(v, shallow))
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.NumField() <= 16 {
			for j := 0; j < f.NumField(); j++ {
				out = append(out, leafOf(f.Field(j), shallow))
			}
			continue
		}
		out = append(out, leafOf(f, shallow))
	}
	return out
}

func leafOf(v reflect.Value, shallow bool) leaf {
	l := leaf{zero: v.IsZero()}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		l.num = v.Int()
		l.h = uint64(l.num)
		return l
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		l.num = int64(v.Uint())
		l.h = uint64(l.num)
		return l
	case reflect.Bool:
		if v.Bool() {
			l.h = 1
		}
		return l
	case reflect.Slice, reflect.Map, reflect.String:
		l.num = int64(v.Len())
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return l
	}
	if shallow && hasRefs(v.Type()) { // a value without references (a ballot) is cheap to hash whole
		l.h = uint64(l.num)
		if !l.zero {
			l.h ^= 1 << 63
		}
		return l
	}
	h := NewHasher()
	hasherFor(v.Type())(&h, unsafe.Pointer(v.UnsafeAddr()))
	l.h = h.Sum()
	return l
}
