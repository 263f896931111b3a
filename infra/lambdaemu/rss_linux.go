package lambdaemu

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// peakRSS reads the peak resident set size (VmHWM) of a live process, in bytes; 0 if
// it cannot be read.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) >= 2 && string(fields[0]) == "VmHWM:" {
			kb, err := strconv.ParseInt(string(fields[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// maxRSS is the peak RSS of an exited process from its rusage, in bytes (Linux
// reports ru_maxrss in KiB).
func maxRSS(state *os.ProcessState) int64 {
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok && ru != nil {
		return ru.Maxrss << 10
	}
	return 0
}
