package crdt

import (
	"time"

	"github.com/replica-io/replica/protocols/node"
)

// ParamUpdates is how many updates each node makes (default DefaultUpdates).
const (
	ParamUpdates   = "updates"
	DefaultUpdates = 8
)

// The store's sub-components, with the requests they take.
const (
	counter node.Sub[Add] = "counter"
	set                   = "set"
)

// elems are the set's elements: few, so that additions and removals of one element meet.
var elems = []string{"a", "b", "c", "d"}

// Store is the root of the crdt stack: the local clients of one node, who update the
// counter and the set now and then, a fixed number of times, and then stop (quiescence).
type Store struct {
	cfg    node.Config
	issued int
}

const (
	keyIssued   = "issued"
	timerUpdate = "update"
	updateMin   = 20 * time.Millisecond
	updateMax   = 120 * time.Millisecond
)

// NewStore returns node id's store.
func NewStore(cfg node.Config, id node.ID) node.Node { return &Store{cfg: cfg} }

func (s *Store) updates() int { return s.cfg.Param(ParamUpdates, DefaultUpdates) }

// Start goes on where the node left off.
func (s *Store) Start(env node.Env) {
	s.issued, _ = node.Load[int](env, keyIssued)
	if s.issued < s.updates() {
		env.SetTimer(timerUpdate, updateMin, updateMax)
	}
}

// Timer makes the next update: to the counter or the set, drawn.
func (s *Store) Timer(env node.Env, name string) {
	if name != timerUpdate || s.issued >= s.updates() {
		return
	}
	s.issued++
	env.Store(keyIssued, s.issued)
	env.Sync()
	switch k := env.Choose(10); {
	case k < 3:
		counter.Request(env, Add{Delta: 1 + env.Choose(3)})
	case k < 4:
		counter.Request(env, Add{Delta: -1})
	case k < 7:
		node.Ask(env, set, Insert{Elem: elems[env.Choose(len(elems))]})
	default:
		node.Ask(env, set, Delete{Elem: elems[env.Choose(len(elems))]})
	}
	if s.issued < s.updates() {
		env.SetTimer(timerUpdate, updateMin, updateMax)
	}
}

func (s *Store) Receive(node.Env, node.ID, node.Message) {}
func (s *Store) Request(node.Env, node.Request)          {}
func (s *Store) Indication(node.Env, string, any)        {}

// StoreModule describes the store to the tools.
var StoreModule = &node.Module{
	Name:    "crdt-store",
	Summary: "the local clients of a node: a fixed number of updates to a counter and a set",
	New:     NewStore,
}
