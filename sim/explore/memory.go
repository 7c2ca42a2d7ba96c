package explore

import (
	"bufio"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
)

// peakMemory returns the process's peak resident memory in bytes: VmHWM from
// /proc/self/status where there is one (Linux), which counts the visited set mapped outside
// the Go heap too; elsewhere the memory the Go runtime holds from the system now.
func peakMemory() int64 {
	if f, err := os.Open("/proc/self/status"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return int64(s[0].Value.Uint64())
	}
	return 0
}
