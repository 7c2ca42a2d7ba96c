package machine

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
)

// SafeMemory returns a default memory budget (explore's -max-memory, the run watchdog's):
// three quarters of the memory this process may use (the machine's, or its control group's
// limit if that is lower), and no more than nine tenths of what the system reports available
// now, so that a process on a shared machine leaves room for the others and stops before the
// kernel's out-of-memory killer would end it. It returns 0 where the system does not say (no
// budget).
func SafeMemory() int64 {
	total, avail := memInfo()
	if cg := cgroupLimit(); cg > 0 && (total == 0 || cg < total) {
		total = cg
	}
	if total <= 0 {
		return 0
	}
	budget := total / 4 * 3
	if avail > 0 {
		held, _ := Resident()
		budget = min(budget, (avail+held)/10*9)
	}
	return budget
}

// memInfo reads MemTotal and MemAvailable from /proc/meminfo, in bytes; 0 where unknown.
func memInfo() (total, available int64) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "MemTotal:":
			total = kb * 1024
		case "MemAvailable:":
			available = kb * 1024
		}
	}
	return total, available
}

// cgroupLimit returns the lowest memory limit of the control groups this process is in
// (version 2's memory.max up the hierarchy, or version 1's memory.limit_in_bytes), or 0 if
// there is none.
func cgroupLimit() int64 {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "": // version 2
			for dir := parts[2]; ; dir = filepath.Dir(dir) {
				files = append(files, filepath.Join("/sys/fs/cgroup", dir, "memory.max"))
				if dir == "/" || dir == "." {
					break
				}
			}
		case strings.Contains(","+parts[1]+",", ",memory,"): // version 1
			files = append(files, filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"),
				"/sys/fs/cgroup/memory/memory.limit_in_bytes") // a namespace's root
		}
	}
	var lowest int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<60 { // "max", or version 1's "unlimited"
			continue
		}
		if lowest == 0 || v < lowest {
			lowest = v
		}
	}
	return lowest
}

// RuntimeMemory returns the memory the Go runtime holds from the system now.
func RuntimeMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return int64(s[0].Value.Uint64())
	}
	return 0
}

// Resident returns the process's resident memory now, in bytes: the second field of
// /proc/self/statm (pages) on Linux, which is what the kernel's out-of-memory killer weighs;
// elsewhere the Go runtime's own memory plus nothing for the mapped visited set (the caller
// adds the set's size).
func Resident() (bytesNow int64, includesSet bool) {
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := bytes.Fields(b)
		if len(f) >= 2 {
			if pages, err := strconv.ParseInt(string(f[1]), 10, 64); err == nil {
				return pages * int64(os.Getpagesize()), true
			}
		}
	}
	return RuntimeMemory(), false
}
