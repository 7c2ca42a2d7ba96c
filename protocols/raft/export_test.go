package raft

// SegmentSize is segmentSize, for the external tests that read a server's storage.
const SegmentSize = segmentSize
