package cli

import (
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	register(command{name: "version", summary: "print the version of replica: its module, commit and Go", run: runVersion})
}

// versionInfo is what `replica version -json` prints.
type versionInfo struct {
	Path       string `json:"path"`        // the main module (a user's own binary names its own)
	Version    string `json:"version"`     // its version: a tag, a pseudo-version, or "(devel)"
	Commit     string `json:"commit"`      // the VCS revision it was built from, when known
	CommitTime string `json:"commit_time"` // and its time
	Modified   bool   `json:"modified"`    // the tree had changes not committed
	Go         string `json:"go"`
	// Replica is Replica_IO's module as a user's own binary requires it: its version, and
	// where a replace directive points it ("" for Replica_IO's own binary).
	Replica string `json:"replica,omitempty"`
}

// replicaModule is the module this command line is part of.
const replicaModule = "github.com/replica-io/replica"

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", "[-json]", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "version", "unexpected argument %q", fs.Arg(0))
	}
	v := readVersion()
	if *asJSON {
		printJSON(stdout, v)
		return 0
	}
	fmt.Fprintf(stdout, "%s %s (%s)\n", prog, v.Version, v.Path)
	switch {
	case v.Commit == "":
		fmt.Fprintln(stdout, "  commit unknown (built without version control information)")
	default:
		dirty := ""
		if v.Modified {
			dirty = ", with uncommitted changes"
		}
		fmt.Fprintf(stdout, "  commit %s (%s%s)\n", v.Commit, v.CommitTime, dirty)
	}
	if v.Replica != "" {
		fmt.Fprintf(stdout, "  with %s %s\n", replicaModule, v.Replica)
	}
	fmt.Fprintf(stdout, "  built with %s\n", v.Go)
	return 0
}

// readVersion reads the binary's build information: the module version `go install
// ...@version` stamps, and the revision `go build` stamps in a checkout.
func readVersion() versionInfo {
	v := versionInfo{Path: "unknown", Version: "unknown", Go: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Path, v.Version, v.Go = bi.Main.Path, bi.Main.Version, bi.GoVersion
	if v.Path == "" { // a test binary
		v.Path = bi.Path
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, d := range bi.Deps {
		if d.Path == replicaModule {
			v.Replica = d.Version
			if r := d.Replace; r != nil {
				v.Replica += " => " + r.Path
				if r.Version != "" {
					v.Replica += " " + r.Version
				}
			}
		}
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}
