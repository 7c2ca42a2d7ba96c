package raft

// SegmentSize is segmentSize, for the external tests that read a server's storage.
const SegmentSize = segmentSize

// AppliedRecord says what state-machine safety remembers of a run: the first index it still
// holds a first application for, and how many it holds.
func AppliedRecord(w interface{ Memo(string, func() any) any }) (base, held int) {
	past, _ := w.Memo("raft/state-machine-safety", nil).(*history)
	if past == nil {
		return 0, 0
	}
	return past.base, len(past.applied)
}
