package counter

import (
	"fmt"
	"time"

	"github.com/replica-io/replica/protocols/node"
	"github.com/replica-io/replica/protocols/quorum"
)

// BugUnsyncedVote is the seeded bug: the primary counts its own copy toward the majority
// before the copy is durable. After a crash it has lost it, and with one backup that missed
// the update, a majority holds no trace of an operation a client was told is done.
const BugUnsyncedVote = "unsynced-vote"

// ParamMaxRounds bounds the resends of one message (0: no bound), to make exploration finite.
const ParamMaxRounds = "max-rounds"

// Resend timeouts: a round trip and then some, randomized so that resends spread out.
const (
	resendMin = 20 * time.Millisecond
	resendMax = 40 * time.Millisecond
)

// Spec is what clients must see: one counter, operations taking effect one at a time.
var Spec = node.Sequential[int, Op, int]{
	Name: "counter",
	Init: func() int { return 0 },
	Step: func(v int, op Op) (int, int) { return v + op.Add, v + op.Add },
}.Spec()

// Protocol describes the counter to every tool.
var Protocol = &node.Protocol{
	Name:     "counter",
	Summary:  "a replicated counter: a primary orders the operations, a majority keeps each durably (the guide's protocol)",
	New:      New,
	DefaultN: 3,
	MinN:     1,
	Quorum:   quorum.Majority,
	// Nothing happens without the primary: once faults heal it must be up.
	Essential: func(node.Config) []node.ID { return []node.ID{primary} },
	Bugs: []node.Bug{{Name: BugUnsyncedVote, Scenario: "crash-restart",
		Summary: "the primary counts its own copy before syncing it: a crash loses an acknowledged operation"}},
	Invariants: []node.Invariant{{Name: "commit-once", Check: commitOnce}},
	Sometimes: []node.Sometimes{
		{Name: "committed", Required: true, Reached: func(w node.World) bool {
			_, _, ok := node.FirstOutput[Committed](w)
			return ok
		}},
		{Name: "recovered-after-crash", Reached: func(w node.World) bool {
			for _, r := range node.NewOutputs[Recovered](w) {
				if r.Epoch > 1 {
					return true
				}
			}
			return false
		}},
	},
	Progress: progress,
	Workload: &node.Workload{
		Clients: 3, Ops: 4, Timeout: 300 * time.Millisecond,
		// An operation retried elsewhere could be applied twice: a client gives up instead.
		Attempts: 1,
		// A read or an add of one: the explorer tries every choice, so few of them keep it small.
		Next: func(c node.ClientID, seq int, choose func(int) int) any { return Op{Add: choose(2)} },
		Result: node.ReplyReader(func(r Reply) (any, bool, node.ID) {
			return r.Value, r.OK, primary
		}),
		Spec: Spec,
	},
	Timing:  node.Timing{Delay: 5 * time.Millisecond, Settle: 200 * time.Millisecond},
	MaxSize: func(cfg node.Config) int { return 16 },
	// One client: more would only interleave the same requests (four times the states).
	Explore: node.Explore{Params: map[string]int{ParamMaxRounds: 1}, Crashes: 1, Requests: 2, Clients: 1,
		Targets: []node.ID{primary}},
}

// commitOnce: no operation number is committed twice, in this incarnation of the primary or
// any later one. A recovery that loses a committed operation gives its number away again.
func commitOnce(w node.World) error {
	for o, c := range node.NewOutputs[Committed](w) {
		for p, d := range node.Outputs[Committed](w) {
			if p.Time <= o.Time && d.Seq == c.Seq && d.Copy != c.Copy {
				return fmt.Errorf("operation %d was committed in epoch %d (the counter at %d), and again in epoch %d (at %d): a recovery lost it",
					c.Seq, d.Epoch, d.Value, c.Epoch, c.Value)
			}
		}
	}
	return nil
}

// progress: the primary is up, has recovered, and has no operation waiting.
func progress(w node.World) []string {
	n, ok := node.StateOf[*Node](w, primary)
	switch {
	case !ok:
		return []string{"the primary n1 is down"}
	case n.recovering:
		return []string{"the primary n1 is recovering"}
	case len(n.queue) > 0:
		return []string{fmt.Sprintf("the primary n1 has %d operations waiting", len(n.queue))}
	}
	return nil
}
