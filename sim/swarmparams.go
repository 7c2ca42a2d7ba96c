package sim

// ParamDraw is a protocol parameter that a swarm run draws for itself (Config.SwarmParams),
// as it draws its fault profile: the run's chooser picks one of Values, so that the features
// behind the parameter (membership changes, leadership transfer) are exercised in some runs
// and not in others, and replaying the run's choices draws the same. Values[0] is the benign
// value (the feature off), which shrinking tends to.
type ParamDraw struct {
	Name   string
	Values []int
	// WithoutCrashes draws the parameter only in runs whose drawn profile crashes no node,
	// and gives it Values[0] in the others. After healing, the world keeps a quorum of the
	// whole cluster up and leaves the other crashed nodes down for good; a parameter that
	// changes which nodes the protocol needs (Raft's membership) could leave that core
	// without a majority of the protocol's own configuration, from which no protocol can
	// make progress: a false liveness failure.
	WithoutCrashes bool
}

// drawParams draws the swarm parameters of the run into its cluster configuration, over the
// parameters already set; it is called once, before any node starts.
func (w *World) drawParams() {
	if !w.cfg.Swarm || len(w.cfg.SwarmParams) == 0 {
		return
	}
	params := map[string]int{}
	for k, v := range w.cfg.Cluster.Params {
		params[k] = v
	}
	crashes := w.profile.Crash > 0 || w.profile.StepCrash > 0 || w.profile.crashesFromDisk()
	for _, d := range w.cfg.SwarmParams {
		switch {
		case len(d.Values) == 0:
		case d.WithoutCrashes && crashes:
			params[d.Name] = d.Values[0]
		default:
			params[d.Name] = d.Values[w.choose.Choose(Faults, len(d.Values))]
		}
	}
	w.cfg.Cluster.Params = params
}
