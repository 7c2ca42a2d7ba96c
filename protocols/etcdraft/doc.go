// Package etcdraft runs etcd's raft library (go.etcd.io/raft/v3) inside Replica_IO, unchanged,
// as any user would bring their own code: the adapter is written against the public protocol
// API (package protocols/node) and nothing else of the framework.
package etcdraft
