package sim

import (
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"github.com/replica-io/replica/protocols/node"
)

// Symmetry reduction for node protocols. A protocol that declares Explore.Symmetric says that
// its nodes are interchangeable: renaming them (n1 as n2, n2 as n1) inside every node's state,
// storage, message, output and client record gives a state that behaves the same, so the
// explorer may store one state per class of renamed states. Renaming is done by the value
// compiler: every value of type node.ID is mapped through the permutation, wherever it is (a
// field, a slice element, a map key, a value boxed in an interface). A type that holds node
// IDs in another form (a bit set of nodes, a slice indexed by node) renames itself with a
// RenameNodes method (see Renamer); quorum.Votes does.
//
// Only nodes of the same role are exchanged: the clients' targets among themselves, the other
// nodes among themselves, and Byzantine nodes only with Byzantine nodes. That keeps a
// protocol whose clients go to n1 alone symmetric in n2 and n3.
//
// The reduction is sound only if the protocol really is symmetric: no node ID orders anything
// (a ballot that breaks ties by proposer ID is not symmetric), and node IDs are held as
// node.ID or renamed by RenameNodes. CheckSymmetry tests this on the states the explorer
// samples: the successors of a renamed state must be the renamed successors, and the
// properties must judge the two alike. A protocol that fails it is refused.

// Renamer is implemented (on the pointer) by a type that holds node IDs other than as node.ID
// values, so that symmetry reduction can rename them: RenameNodes replaces every node ID id
// in the value by rename(id). It is called on a copy the value's owner never sees.
type Renamer interface {
	RenameNodes(rename func(node.ID) node.ID)
}

var renamerType = reflect.TypeOf((*Renamer)(nil)).Elem()

// renames reports whether values of t rename themselves.
func renames(t reflect.Type) bool {
	return t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(renamerType)
}

// RenameNodes renames the nodes of a set.
func (s *nodeSet) RenameNodes(rename func(node.ID) node.ID) {
	var out nodeSet
	for id := node.ID(1); id <= 64; id++ {
		if *s&(1<<(id-1)) != 0 {
			out |= 1 << (rename(id) - 1)
		}
	}
	*s = out
}

// compileRenamerHash hashes a type that renames itself: under a permutation, a renamed copy.
func compileRenamerHash(c *compilation[hashFunc], t reflect.Type) hashFunc {
	plain := compileKind(c, t)
	return func(h *Hasher, p unsafe.Pointer) {
		if h.perm == nil {
			plain(h, p)
			return
		}
		cp := reflect.New(t)
		cp.Elem().Set(reflect.NewAt(t, p).Elem())
		if fix := infoOf(t).fix; fix != nil {
			fix(cp.UnsafePointer(), 0)
		}
		perm := h.perm
		cp.Interface().(Renamer).RenameNodes(func(id node.ID) node.ID { return permute(perm, id) })
		h.perm = nil // the copy is renamed already
		plain(h, cp.UnsafePointer())
		h.perm = perm
	}
}

func permute(perm []node.ID, id node.ID) node.ID {
	if id >= 0 && int(id) < len(perm) {
		return perm[id]
	}
	return id
}

// renameFunc renames, in place, the node IDs of a value at p that the caller owns.
type renameFunc func(p unsafe.Pointer, perm []node.ID)

var renamers *compiler[renameFunc]

func init() {
	renamers = &compiler[renameFunc]{
		compile: compileRename,
		forward: func(f *renameFunc) renameFunc { return func(p unsafe.Pointer, perm []node.ID) { (*f)(p, perm) } },
	}
}

func compileRename(c *compilation[renameFunc], t reflect.Type) renameFunc {
	if t == nodeIDType {
		return func(p unsafe.Pointer, perm []node.ID) { *(*node.ID)(p) = permute(perm, *(*node.ID)(p)) }
	}
	if renames(t) {
		return func(p unsafe.Pointer, perm []node.ID) {
			reflect.NewAt(t, p).Interface().(Renamer).RenameNodes(func(id node.ID) node.ID { return permute(perm, id) })
		}
	}
	if !holdsIDs(t, map[reflect.Type]bool{}) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		type field struct {
			off uintptr
			f   renameFunc
		}
		var fields []field
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if f := c.get(sf.Type); f != nil && sf.Type != configType {
				fields = append(fields, field{sf.Offset, f})
			}
		}
		return func(p unsafe.Pointer, perm []node.ID) {
			for _, f := range fields {
				f.f(unsafe.Add(p, f.off), perm)
			}
		}
	case reflect.Array:
		f, size, n := c.get(t.Elem()), t.Elem().Size(), t.Len()
		return func(p unsafe.Pointer, perm []node.ID) {
			for i := 0; i < n; i++ {
				f(unsafe.Add(p, uintptr(i)*size), perm)
			}
		}
	case reflect.Slice:
		f, size := c.get(t.Elem()), t.Elem().Size()
		return func(p unsafe.Pointer, perm []node.ID) {
			data, n := *(*unsafe.Pointer)(p), *(*int)(unsafe.Add(p, ptrSize))
			for i := 0; i < n; i++ {
				f(unsafe.Add(data, uintptr(i)*size), perm)
			}
		}
	case reflect.Pointer:
		f := c.get(t.Elem())
		return func(p unsafe.Pointer, perm []node.ID) {
			if q := *(*unsafe.Pointer)(p); q != nil {
				f(q, perm)
			}
		}
	case reflect.Map:
		kf, vf := c.get(t.Key()), c.get(t.Elem())
		return func(p unsafe.Pointer, perm []node.ID) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			out := reflect.MakeMapWithSize(t, v.Len())
			for it := v.MapRange(); it.Next(); {
				k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
				k.Set(it.Key())
				e.Set(it.Value())
				if kf != nil {
					kf(k.Addr().UnsafePointer(), perm)
				}
				if vf != nil {
					vf(e.Addr().UnsafePointer(), perm)
				}
				out.SetMapIndex(k, e)
			}
			v.Set(out)
		}
	case reflect.Interface:
		return func(p unsafe.Pointer, perm []node.ID) {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return
			}
			dyn := v.Elem()
			f := renamers.of(dyn.Type())
			if f == nil {
				return
			}
			cp := reflect.New(dyn.Type())
			cp.Elem().Set(dyn)
			f(cp.UnsafePointer(), perm)
			v.Set(cp.Elem())
		}
	}
	return nil
}

// holdsIDs reports whether values of t may hold node IDs.
func holdsIDs(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == nodeIDType || renames(t) {
		return true
	}
	if seen[t] || t == configType {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holdsIDs(t.Elem(), seen)
	case reflect.Map:
		return holdsIDs(t.Key(), seen) || holdsIDs(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if holdsIDs(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

// renamed returns a deep copy of v with its nodes renamed by perm.
func renamed(v any, perm []node.ID) any {
	if v == nil {
		return nil
	}
	c := cloneAny(v)
	t := reflect.TypeOf(c)
	f := renamers.of(t)
	if f == nil {
		return c
	}
	cp := reflect.New(t)
	cp.Elem().Set(reflect.ValueOf(c))
	f(cp.UnsafePointer(), perm)
	return cp.Elem().Interface()
}

// symmetries lists the permutations symmetry reduction applies: every renaming that maps each
// node to one of the same role (a client target or not, Byzantine or not), the identity
// first. A permutation is indexed by node ID; index 0 (a client's pseudo-node) stays 0.
func (u *Untimed) symmetries() [][]node.ID {
	roles := map[[2]bool][]node.ID{}
	var keys [][2]bool
	for _, id := range u.ids {
		r := [2]bool{slices.Contains(u.targets, id), u.faulty != nil && u.faulty[id-1]}
		if _, ok := roles[r]; !ok {
			keys = append(keys, r)
		}
		roles[r] = append(roles[r], id)
	}
	perms := [][]node.ID{identity(len(u.ids))}
	for _, r := range keys {
		class := roles[r]
		var next [][]node.ID
		for _, p := range perms {
			for _, order := range permutations(class) {
				q := slices.Clone(p)
				for i, id := range class {
					q[id] = order[i]
				}
				next = append(next, q)
			}
		}
		perms = next
	}
	return perms
}

func identity(n int) []node.ID {
	p := make([]node.ID, n+1)
	for i := range p {
		p[i] = node.ID(i)
	}
	return p
}

// permutations lists every order of ids, ids itself first.
func permutations(ids []node.ID) [][]node.ID {
	if len(ids) <= 1 {
		return [][]node.ID{slices.Clone(ids)}
	}
	var out [][]node.ID
	for i := range ids {
		rest := append(slices.Clone(ids[:i]), ids[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]node.ID{ids[i]}, p...))
		}
	}
	return out
}

// MaxSymmetries bounds the permutations symmetry reduction tries on each state.
const MaxSymmetries = 5040

// Symmetries reports how many renamings of the nodes symmetry reduction considers (one: none
// but the identity).
func (u *Untimed) Symmetries() int { return len(u.perms) }

// Canonical returns the representative of the states that s is a renaming of: the renaming
// whose fingerprint is smallest.
func (u *Untimed) Canonical(s *UState) *UState {
	if s.fail != nil || len(u.perms) <= 1 {
		return s
	}
	best, bestFP := 0, s.fp
	for i := 1; i < len(u.perms); i++ {
		if fp := u.renamedFingerprint(s, u.perms[i]); fp < bestFP {
			best, bestFP = i, fp
		}
	}
	if best == 0 {
		return s
	}
	return u.rename(s, u.perms[best])
}

// renamedFingerprint is the fingerprint of s with its nodes renamed by perm, computed without
// building that state.
func (u *Untimed) renamedFingerprint(s *UState, perm []node.ID) uint64 {
	hashes := make([]uint64, len(s.nodes))
	for _, sl := range s.nodes {
		hashes[perm[sl.id]-1] = hashSlot(sl, perm)
	}
	flight := make([]umsg, len(s.inFlight))
	for i, m := range s.inFlight {
		flight[i] = umsg{from: perm[m.from], to: perm[m.to], seq: m.seq, h: hashRenamed(m.m, perm)}
	}
	flight = u.canonicalFlight(flight)
	t := *s
	t.sent = make([]umsg, len(s.sent))
	for i, m := range s.sent {
		t.sent[i] = umsg{from: perm[m.from], h: hashRenamed(m.m, perm)}
	}
	slices.SortFunc(t.sent, compareSent)
	return u.fingerprint(&t, hashes, hashClients(s.clients, s.byID, perm), u.renamedHistoryKey(s, perm),
		u.hashOutputs(0, nil, s.outputs, perm), flight)
}

// rename builds the state s with its nodes renamed by perm.
func (u *Untimed) rename(s *UState, perm []node.ID) *UState {
	r := &UState{fresh: s.fresh, verdict: s.verdict, why: s.why, reached: s.reached, clock: s.clock, crashes: s.crashes, timeouts: s.timeouts, byz: s.byz,
		nodes: make([]*slot, len(s.nodes)), hashes: make([]uint64, len(s.nodes)), byID: s.byID}
	for _, sl := range s.nodes {
		c := &slot{id: perm[sl.id], up: sl.up, rate: 1, inc: sl.inc, timers: maps(sl.timers)}
		if sl.state != nil {
			c.state = renamed(sl.state, perm).(node.Node)
		}
		c.durable, c.pending = renamedMap(sl.durable, perm), renamedMap(sl.pending, perm)
		r.nodes[c.id-1] = c
		r.hashes[c.id-1] = hashSlot(c, nil)
	}
	for _, m := range s.inFlight {
		v := renamed(m.m, perm)
		r.inFlight = append(r.inFlight, umsg{from: perm[m.from], to: perm[m.to], seq: m.seq, m: v, h: HashOf(v)})
	}
	r.inFlight = u.canonicalFlight(r.inFlight)
	for _, m := range s.sent {
		v := renamed(m.m, perm)
		r.sent = append(r.sent, umsg{from: perm[m.from], m: v, h: HashOf(v)})
	}
	slices.SortFunc(r.sent, compareSent)
	for _, c := range s.clients {
		cc := renamed(*c, perm).(client)
		r.clients = append(r.clients, &cc)
	}
	for _, op := range s.history {
		r.history = append(r.history, renamed(op, perm).(node.Op))
	}
	for _, o := range s.outputs {
		r.outputs = append(r.outputs, node.Output{Node: perm[o.Node], Time: o.Time, Value: renamed(o.Value, perm)})
	}
	r.clientsHash = hashClients(r.clients, r.byID, nil)
	r.historyHash = hashHistory(r.history, nil)
	r.historyKey = u.cachedHistoryKey(r.history, r.historyHash)
	r.outputsHash = u.hashOutputs(0, nil, r.outputs, nil)
	r.fp = u.fingerprint(r, r.hashes, r.clientsHash, r.historyKey, r.outputsHash, nil)
	return r
}

func renamedMap(m map[string]any, perm []node.ID) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = renamed(v, perm)
	}
	return out
}

// CheckSymmetry tests, on state s, that the protocol is as symmetric as it declares: for each
// renaming, the successors of the renamed state are the renamed successors, and the
// properties judge both states alike. The explorer calls it on the states it samples.
func (u *Untimed) CheckSymmetry(s *UState) error {
	if s.fail != nil || len(u.perms) <= 1 {
		return nil
	}
	prop, _ := u.judge(s)
	var succ []*UState
	u.Next(s, func(_ int, t *UState) bool {
		succ = append(succ, t)
		return true
	})
	for _, perm := range u.perms[1:] {
		r := u.rename(s, perm)
		if p, _ := u.judge(r); p != prop {
			return fmt.Errorf("protocol %s declares symmetric nodes, but renaming %s changes what state %v violates (%q, then %q)",
				u.proto.Name, describePerm(perm), s, prop, p)
		}
		want := make([]uint64, len(succ))
		for i, t := range succ {
			want[i] = u.renamedFingerprint(t, perm)
		}
		var got []uint64
		u.Next(r, func(_ int, t *UState) bool {
			got = append(got, t.fp)
			return true
		})
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(want, got) {
			return fmt.Errorf("protocol %s declares symmetric nodes, but renaming %s changes what can happen next in state %v: a node ID orders something, or is held other than as a node.ID (see sim.Renamer)",
				u.proto.Name, describePerm(perm), s)
		}
	}
	return nil
}

func describePerm(perm []node.ID) string {
	s := ""
	for id := 1; id < len(perm); id++ {
		if perm[id] != node.ID(id) {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("n%d as n%d", id, perm[id])
		}
	}
	return s
}

func compareSent(a, b umsg) int {
	if a.from != b.from {
		return int(a.from) - int(b.from)
	}
	switch {
	case a.h < b.h:
		return -1
	case a.h > b.h:
		return 1
	}
	return 0
}
