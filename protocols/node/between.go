package node

import "time"

// Between says what happened to node id between virtual times from and to, where the world
// can tell: its crashes, restarts and pauses, as a phrase ("crashed at 30.800ms and restarted
// at 31.200ms"), or "" when nothing did or the world cannot say (an untimed exploration has
// no times). A property that compares two facts about one node uses it to say what lies
// between them: "n1 decided 301, then crashed at 30.800ms and restarted at 31.200ms, then
// decided 101" tells at once that a restart lost what the node had promised.
func Between(w World, id ID, from, to time.Duration) string {
	if l, ok := w.(interface {
		Between(id ID, from, to time.Duration) string
	}); ok {
		return l.Between(id, from, to)
	}
	return ""
}
