package node

import (
	"errors"
	"fmt"
)

// Disk is what a node's storage can say beyond Env's Store, Load and Sync, when the environment
// simulates a disk that fails: a sync that did not go through, a read that came back altered.
// The simulator's Env is a Disk; a protocol reaches it through TrySync, LoadChecked and Halt,
// which work with any Env (one that is not a Disk never fails).
type Disk interface {
	// TrySync is Sync that reports a failure: ErrDiskFull when the disk refused the writes,
	// which then stay volatile (a later sync may still make them durable).
	TrySync() error
	// LoadChecked is Load that verifies what it read against the checksum the storage keeps
	// with it: ErrCorrupt when the value came back altered. Read again: what is on the disk
	// is intact; the copy that reached the node was not.
	LoadChecked(key string) (v any, ok bool, err error)
	// Halt stops the node at once, as a server stops on a disk error it cannot handle (fail-stop,
	// what PostgreSQL does on a failed fsync): nothing it would do after in this step happens,
	// and it restarts later from what it had synced.
	Halt()
}

// The errors a Disk reports.
var (
	ErrDiskFull = errors.New("disk full: the writes were not synced")
	ErrCorrupt  = errors.New("checksum mismatch: the value read is not the value written")
)

// TrySync syncs the node's writes and says whether they are durable (see Disk.TrySync).
func TrySync(env Env) error {
	if d, ok := env.(Disk); ok {
		return d.TrySync()
	}
	env.Sync()
	return nil
}

// LoadChecked reads what a node stored under key as a T, verified against its checksum (see
// Disk.LoadChecked); a type mismatch panics, as with Load.
func LoadChecked[T any](env Env, key string) (v T, ok bool, err error) {
	d, isDisk := env.(Disk)
	if !isDisk {
		v, ok = Load[T](env, key)
		return v, ok, nil
	}
	x, ok, err := d.LoadChecked(key)
	if !ok || err != nil {
		return v, ok, err
	}
	v, isT := x.(T)
	if !isT {
		panic(fmt.Sprintf("node.LoadChecked: storage key %q holds a %T, not a %T", key, x, v))
	}
	return v, true, nil
}

// Halt stops the node at once (see Disk.Halt). An Env that is not a Disk never fails a sync,
// so a protocol that halts only on a Disk's errors never reaches the panic.
func Halt(env Env) {
	if d, ok := env.(Disk); ok {
		d.Halt()
	}
	panic("node.Halt: the environment cannot stop the node")
}

// DiskFaults lists the storage faults a protocol survives (see Tolerance.Disk): the tools fire
// only these, unless a scenario means to break the protocol.
type DiskFaults struct {
	// Corrupt: a value read back altered; the protocol reads through LoadChecked.
	Corrupt bool
	// Torn: a crash in the middle of a sync, which persisted only the first of its writes;
	// the protocol writes a commit record last and reads back only what it covers.
	Torn bool
	// Lost: a sync that reported success but did not persist, on a node that then crashes.
	// Few protocols survive a node forgetting what it acknowledged; without Lost, a node whose
	// sync was lost stays down for good (its disk is replaced), which the others must survive.
	Lost bool
	// Full: a sync refused; the protocol syncs with TrySync and does not act on a failed one.
	Full bool
	// Slow: a sync that takes a while (the node waits for it).
	Slow bool
}
