package node

// Convergent describes a replicated object whose replicas must converge: strong eventual
// consistency (Shapiro et al., "Conflict-free replicated data types", 2011). Replicas that
// have seen the same updates hold the same state, always; once faults heal and updates stop,
// every replica that is up comes to see every update, within a bound; and the state is the
// one the acknowledged updates define, none lost and none invented.
//
// Updates are numbered per origin: the k-th update node i acknowledged is (i, k), and a
// replica's Seen[i-1] = k says it includes node i's first k updates (a state-based replica
// merges whole states, so it holds a prefix of each origin's updates).
type Convergent struct {
	Name string
	// Replica returns node id's replica: Seen (one count per node) and its state; ok is false
	// where the node has none (it is down).
	Replica func(w World, id ID) (seen []int, state any, ok bool)
	// Acknowledged counts, per origin, the updates acknowledged so far (an update a replica
	// holds beyond them was invented).
	Acknowledged func(w World) []int
	// Expected is the state that the acknowledged updates within seen define.
	Expected func(w World, seen []int) any
	// Equal compares two states; nil compares them with reflect.DeepEqual.
	Equal func(a, b any) bool
}
