package quorum

import "github.com/replica-io/replica/protocols/node"

// MaxValuesPerVoter is how many different values a Tally counts one voter for. A correct
// voter votes for one value; a Byzantine one may vote for any number, and the cap keeps it
// from growing a node's state without bound. Two, not one, so that a voter that contradicts
// itself is seen doing so rather than hidden behind whichever of its votes arrived first.
const MaxValuesPerVoter = 2

// Tally counts votes for values of type V (a ballot, a digest, a broadcast value): each voter
// once per value, and for at most MaxValuesPerVoter values. It keeps its values in the order
// they were first voted for, so that it iterates deterministically. The zero value is empty.
type Tally[V comparable] struct {
	entries []tallyEntry[V]
}

type tallyEntry[V comparable] struct {
	value  V
	voters Votes
}

// Add records id's vote for v. It returns false if the vote was not counted: id had already
// voted for v, or for MaxValuesPerVoter other values.
func (t *Tally[V]) Add(id node.ID, v V) bool {
	values, at := 0, -1
	for i, e := range t.entries {
		if e.value == v {
			at = i
		}
		if e.voters.Has(id) {
			if e.value == v {
				return false
			}
			values++
		}
	}
	if values >= MaxValuesPerVoter {
		return false
	}
	if at < 0 {
		at = len(t.entries)
		t.entries = append(t.entries, tallyEntry[V]{value: v})
	}
	return t.entries[at].voters.Add(id)
}

// Count is the number of distinct voters for v.
func (t *Tally[V]) Count(v V) int {
	for _, e := range t.entries {
		if e.value == v {
			return e.voters.Count()
		}
	}
	return 0
}

// Voters is the set of voters for v.
func (t *Tally[V]) Voters(v V) Votes {
	for _, e := range t.entries {
		if e.value == v {
			return e.voters
		}
	}
	return Votes{}
}

// Len is the number of values voted for: the tally's size, for memory bounds.
func (t *Tally[V]) Len() int { return len(t.entries) }
