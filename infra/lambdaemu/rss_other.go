//go:build !linux

package lambdaemu

import (
	"os"
	"time"
)

// Lambda bootstraps are Linux executables; elsewhere the package builds (a darwin
// host can still run a bootstrap built for its own GOOS) without the peak RSS.

func peakRSS(int) int64 { return 0 }

func maxRSS(*os.ProcessState) int64 { return 0 }

func cpuTime(int) time.Duration { return -1 }
