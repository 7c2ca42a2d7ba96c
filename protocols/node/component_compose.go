package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Module describes a kind of component to the tools: how to build one, what it promises
// (its properties, stated as if it were the whole protocol), its seeded bugs, and how a
// Byzantine node may bend its messages. A reference component reads like a module of Cachin,
// Guerraoui and Rodrigues' book: its requests, its indications and its properties, next to
// the code that keeps them.
type Module struct {
	Name    string
	Summary string
	// New builds the component of node id. It is a Node, driven through the same four
	// inputs; as a sub-component its Request gets its parent's requests (Client zero).
	New func(cfg Config, id ID) Node

	// The component's own properties, checked wherever it is used: the stack evaluates them
	// against a view of the world scoped to the component (each node's state is the
	// component's own, the outputs are its own). Progress is demanded after healing as the
	// protocol's progress for a root component, and as a liveness property called
	// "<path>/progress" for a sub-component.
	Invariants []Invariant
	Sometimes  []Sometimes
	Progress   func(w World) []string
	Liveness   []Liveness

	// Mutators alter the component's own messages (see Protocol.Mutators); the stack lifts
	// them to reach the component's messages inside envelopes and transports, at any depth.
	Mutators []Mutator

	// Bugs are the component's seeded bugs. Their names must differ from those of every
	// other component of a stack: the stack runs all its components with one Config.Bug.
	Bugs []Bug

	// Transport says that the component carries its user's messages: it takes LinkSend
	// requests and raises LinkDeliver indications, and its messages that carry a user's
	// message implement Carrier.
	Transport bool
}

// Part places a component in a stack.
type Part struct {
	// Path is the component's place in the tree: "" for the root, then the parent's path, a
	// slash and the component's name under its parent ("log", "log/paxos"). Names may not
	// contain "[", "]" or "/".
	Path   string
	Module *Module
	// Over names a sub-component of this one that carries its messages (a transport, see
	// LinkSend); empty for the network itself.
	Over string
}

// Compose completes p as the protocol of a stack of components, one per part, and returns
// it. p gives what belongs to the whole protocol (name, timing, workload, quorum, scenarios'
// knobs) and may add properties of its own; Compose fills in
//
//   - New, which builds a Stack of the parts' components (for a single part, the component
//     itself: a protocol of one component has no Stack around it);
//   - Components, the paths of the sub-components, for the tools to show the tree;
//   - the parts' invariants, sometimes-properties and liveness properties after p's own,
//     named "<path>/<name>" for a sub-component, each checked against the world scoped to
//     its component, sub-components before the components above them (a failure is blamed
//     on the lowest component that shows it); the root's Progress as p's when p has none;
//   - the parts' mutators, lifted so that they reach their component's messages wherever
//     they travel (in an Envelope, inside a transport's message), named "<path>/<name>";
//   - the parts' seeded bugs after p's own (once for a module used in several parts: its flag
//     turns the bug on in all of them).
//
// A malformed stack (a part without a module, a path whose parent is missing, Over naming
// something that is not a transport below the part) makes p invalid: Validate reports it,
// so every tool refuses the protocol with that one line.
//
// The local events of a step (requests and indications) are handled within the step, in
// the order raised. Drivers therefore see a component stack step exactly as they see a node
// of one piece: the simulator counts one event, the explorer one transition, and a crash
// falls between steps, never between a child's indication and its parent's reaction. That
// is the same atomicity a single handler has (its sends and syncs are never split by a
// crash either), it keeps the explorer's state space that of the protocol rather than of
// its internal plumbing, and it loses no interleaving another node could observe: local
// events touch only this node's components, and what they send is merely put in flight.
func Compose(p *Protocol, parts ...Part) *Protocol {
	parts = slices.Clone(parts)
	slices.SortStableFunc(parts, func(a, b Part) int { return strings.Compare(a.Path, b.Path) })
	if err := checkParts(parts); err != nil {
		p.composeErr = fmt.Errorf("its stack of components: %w", err)
		return p
	}
	if len(parts) == 1 {
		// A stack of one component is that component: the node the tools see is its own, with
		// nothing around it.
		p.New = parts[0].Module.New
	} else {
		p.New = newStack(parts)
	}
	p.Components = nil
	for _, pt := range parts[1:] {
		p.Components = append(p.Components, pt.Path)
	}
	// Sub-components' properties first: a failure is blamed on the lowest component that
	// shows it (a detector's relapse, not the leader election above it that relapses with it).
	for _, pt := range postOrder(parts) {
		liftProperties(p, pt)
	}
	for _, pt := range parts {
		p.Mutators = append(p.Mutators, liftMutators(parts, pt)...)
		for _, b := range pt.Module.Bugs {
			if !slices.Contains(p.Bugs, b) { // a module used twice has its bugs once: one flag runs both
				p.Bugs = append(p.Bugs, b)
			}
		}
	}
	return p
}

// postOrder returns parts with every component after the components below it, and siblings
// in the order of their names: "counter/gossip", "counter", "set/gossip", "set", "".
func postOrder(parts []Part) []Part {
	out := slices.Clone(parts)
	slices.SortStableFunc(out, func(a, b Part) int {
		as, bs := strings.Split(a.Path, "/"), strings.Split(b.Path, "/")
		if a.Path == "" {
			as = nil
		}
		if b.Path == "" {
			bs = nil
		}
		for i := 0; i < len(as) && i < len(bs); i++ {
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
		}
		return len(bs) - len(as) // one holds the other: the deeper first
	})
	return out
}

// newStack returns the New of a stack of parts.
func newStack(parts []Part) func(cfg Config, id ID) Node {
	return func(cfg Config, id ID) Node {
		s := &Stack{Parts: make([]StackPart, len(parts))}
		for i, pt := range parts {
			s.Parts[i] = StackPart{Path: pt.Path, Over: pt.Over, C: pt.Module.New(cfg, id)}
		}
		return s
	}
}

// checkParts checks a stack's parts, sorted by path.
func checkParts(parts []Part) error {
	if len(parts) == 0 || parts[0].Path != "" {
		return errors.New("no root component (a part with Path \"\")")
	}
	for i, pt := range parts {
		switch {
		case pt.Module == nil || pt.Module.New == nil:
			return fmt.Errorf("the part at %q has no module or its module no New", pt.Path)
		case i > 0 && pt.Path == parts[i-1].Path:
			return fmt.Errorf("two parts at %q", pt.Path)
		case strings.ContainsAny(pt.Path, "[]"):
			return fmt.Errorf("the path %q holds a bracket", pt.Path)
		case i > 0 && slices.Contains(strings.Split(pt.Path, "/"), ""):
			return fmt.Errorf("the path %q has an empty name in it", pt.Path)
		case i > 0 && !slices.ContainsFunc(parts, func(q Part) bool { return q.Path == parentPath(pt.Path) }):
			return fmt.Errorf("the part at %q has no parent part at %q", pt.Path, parentPath(pt.Path))
		}
		if pt.Over == "" {
			continue
		}
		k := slices.IndexFunc(parts, func(q Part) bool { return q.Path == childPath(pt.Path, pt.Over) })
		switch {
		case strings.Contains(pt.Over, "/"):
			return fmt.Errorf("the part at %q goes over %q, which is not the name of a sub-component", pt.Path, pt.Over)
		case k < 0:
			return fmt.Errorf("the part at %q goes over %q, which it does not have", pt.Path, pt.Over)
		case !parts[k].Module.Transport:
			return fmt.Errorf("the part at %q goes over %q, whose module %s is not a transport", pt.Path, pt.Over, parts[k].Module.Name)
		}
	}
	return nil
}

// qualify names a property of the component at path: "<path>/<name>", the root's unchanged.
func qualify(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

// liftProperties adds part pt's properties to p, each judged on the world scoped to it.
func liftProperties(p *Protocol, pt Part) {
	m, path := pt.Module, pt.Path
	keys := keysOf(path)
	Scope := func(w World, path string) World { return liftScope(w, path, keys) }
	for _, inv := range m.Invariants {
		check := inv.Check
		lift := func(w World) error { return check(Scope(w, path)) }
		p.Invariants = append(p.Invariants, Invariant{Name: qualify(path, inv.Name), Check: lift,
			OnOutput: inv.OnOutput, // the component's new outputs are among the stack's
			lift:     &lifted{path: path, keys: keys, check: check, made: funcWord(lift)}})
	}
	for _, s := range m.Sometimes {
		reached := s.Reached
		lift := func(w World) bool { return reached(Scope(w, path)) }
		p.Sometimes = append(p.Sometimes, Sometimes{Name: qualify(path, s.Name), Required: s.Required, OnOutput: s.OnOutput,
			Reached: lift, lift: &lifted{path: path, keys: keys, reached: reached, made: funcWord(lift)}})
	}
	if pr := m.Progress; pr != nil {
		pending := func(w World) []string { return pr(Scope(w, path)) }
		if path == "" && p.Progress == nil {
			p.Progress = pending
		} else {
			p.Liveness = append(p.Liveness, Liveness{Name: qualify(path, "progress"), Pending: pending})
		}
	}
	for _, l := range m.Liveness {
		pending := l.Pending
		p.Liveness = append(p.Liveness, Liveness{Name: qualify(path, l.Name), Stable: l.Stable,
			Pending: func(w World) []string { return pending(Scope(w, path)) }})
	}
}

// liftScope is the world a lifted property of the component at path judges: the stack's own
// worlds are never scoped, so a scoped one is scoped further (Scope), and any other is
// scoped with the keys made once.
func liftScope(w World, path string, keys scopeKeys) World {
	switch w.(type) {
	case scoped, *memoScoped:
		return Scope(w, path)
	}
	return scope(w, path, keys)
}

// liftMutators makes part pt's mutators reach its messages wherever they travel: bare (the
// root's), in an Envelope with its path, or carried by a transport below it (a link's DATA),
// however deep.
func liftMutators(parts []Part, pt Part) []Mutator {
	carrier := map[string]bool{} // paths of the parts that are their parent's transport
	for _, q := range parts {
		if q.Over != "" {
			carrier[childPath(q.Path, q.Over)] = true
		}
	}
	var out []Mutator
	for _, mu := range pt.Module.Mutators {
		mutate, path := mu.Mutate, pt.Path
		var reach func(owner string, m Message, choose func(int) int) (Message, bool)
		reach = func(owner string, m Message, choose func(int) int) (Message, bool) {
			if owner == path {
				if v, ok := mutate(m, choose); ok {
					return v, true
				}
			}
			if c, ok := m.(Carrier); ok && carrier[owner] {
				if v, ok := reach(parentPath(owner), c.Carried(), choose); ok {
					return c.Carry(v), true
				}
			}
			return nil, false
		}
		out = append(out, Mutator{Name: qualify(path, mu.Name), Mutate: func(m Message, choose func(int) int) (Message, bool) {
			if e, ok := m.(Envelope); ok {
				v, ok := reach(e.Path, e.Msg, choose)
				if !ok {
					return nil, false
				}
				return Envelope{Path: e.Path, Msg: v}, true
			}
			return reach("", m, choose)
		}})
	}
	return out
}
