package sim

import (
	"strings"
	"testing"

	"github.com/replica-io/replica/protocols/node"
)

func TestDownBudgetsSayWhatTheyMean(t *testing.T) {
	majority := func(n int) int { return n/2 + 1 }
	every := func(n int) int { return n }
	for _, c := range []struct {
		name      string
		quorum    func(int) int
		down      func(int) int
		n, f, max int
		want      int
	}{
		{"majority of 5", majority, nil, 5, 0, -1, 2},
		{"majority of 4, one Byzantine", majority, nil, 4, 1, -1, 0},
		{"two-phase commit: every node for progress, survives one crash", every, nil, 3, 0, -1, 1},
		{"declared", every, func(int) int { return 2 }, 3, 0, -1, 2},
		{"the profile's own", majority, nil, 5, 0, 0, 0},
	} {
		p := &node.Protocol{Name: "p", Quorum: c.quorum, Tolerates: node.Tolerance{Down: c.down}}
		cfg := Config{Protocol: p, Cluster: node.Config{N: c.n, F: c.f}, Profile: Profile{MaxDown: c.max}}
		if got := DownBudget(cfg); got != c.want {
			t.Errorf("%s: down budget %d, want %d", c.name, got, c.want)
		}
	}
}

func TestUnfireableFaultsAreSaidUpFront(t *testing.T) {
	p := &node.Protocol{Name: "p", Quorum: func(n int) int { return n/2 + 1 }}
	cfg := Config{Protocol: p, Cluster: node.Config{N: 3}, Profile: Profile{FaultEvery: 1, Crash: 1, Pause: 1, Isolate: 1, MaxDown: 0}}
	got := strings.Join(Unfireable(cfg), "; ")
	if !strings.Contains(got, "crash: no node may be down") || !strings.Contains(got, "pause:") || strings.Contains(got, "partition") {
		t.Errorf("MaxDown 0: unfireable %q", got)
	}
	cfg.Profile.MaxDown = -1
	if u := Unfireable(cfg); len(u) != 0 {
		t.Errorf("a majority protocol of 3 under its own budget: unfireable %q", u)
	}
	cfg.Cluster.N = 1
	if got := strings.Join(Unfireable(cfg), "; "); !strings.Contains(got, "partitions") || !strings.Contains(got, "crash") {
		t.Errorf("one node: unfireable %q", got)
	}
}
