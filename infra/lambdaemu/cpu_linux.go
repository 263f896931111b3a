package lambdaemu

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// cpuTime is the CPU time (user and system) a live process has used so far, summed
// over its threads from /proc/<pid>/task/*/schedstat (nanoseconds, where
// /proc/<pid>/stat counts 10 ms clock ticks, too coarse for one request); -1 if it
// cannot be read. Go does not end its threads, so the sum never loses a thread's
// time between two reads.
func cpuTime(pid int) time.Duration {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/schedstat")
	if err != nil || len(tasks) == 0 {
		return -1
	}
	var sum time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that just exited
		}
		f := bytes.Fields(data)
		if len(f) == 0 {
			return -1
		}
		ns, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return -1
		}
		sum += time.Duration(ns)
	}
	return sum
}
