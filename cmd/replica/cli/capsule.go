package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/replica-io/replica/sim/capsule"
)

func init() {
	register(command{name: "capsule", summary: "capsule fix FILE...: recompute a hand-edited capsule's checksum", run: runCapsule})
}

// runCapsule is `replica capsule fix FILE...`: after editing a capsule by hand (a choice
// changed to see what the run does then), fix writes its checksum anew, once everything else
// in it is well-formed, so that replay, show and shrink read it again. Replay then says
// whether the run still follows the recorded trace.
func runCapsule(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("capsule", "fix FILE...", stderr)
	pos, code, ok := parseInterspersed(fs, args, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 || pos[0] != "fix" {
		return usageError(stderr, "capsule", "want 'fix FILE...' (the one capsule subcommand)")
	}
	if len(pos) == 1 {
		return usageError(stderr, "capsule fix", "want at least one capsule file")
	}
	for _, path := range pos[1:] {
		data, err := os.ReadFile(path)
		if err != nil {
			return usageError(stderr, "capsule fix", "%v", err)
		}
		fixed, err := capsule.Reseal(data)
		if err != nil {
			return usageError(stderr, "capsule fix", "capsule %s: %v", path, err)
		}
		if string(fixed) == string(data) {
			fmt.Fprintf(stdout, "%s: checksum already right\n", path)
			continue
		}
		if err := os.WriteFile(path, fixed, 0o644); err != nil {
			return usageError(stderr, "capsule fix", "%v", err)
		}
		fmt.Fprintf(stdout, "%s: checksum recomputed (%s replay %s)\n", path, prog, path)
	}
	return 0
}
