package awsapp

import (
	"runtime/debug"
	"strconv"
)

// Garbage collector settings of the functions. A Lambda function has a
// fixed memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB) and one request at a
// time, so the collector may let the heap grow further between collections than
// Go's default (GOGC=100) as long as it stays inside the function's memory: the soft
// limit (GOMEMLIMIT) is that size less headroom for what Go does not count (the
// Lambda runtime client, stacks, the binary), and GOGC is raised, the limit making
// the collector run early whenever the heap nears it. Measured on /par
// (BenchmarkPARDeployed): GOGC=400 costs about 15 % less CPU per push than 100.
const (
	// MemoryLimitPercent is the share of the function's memory given to GOMEMLIMIT.
	MemoryLimitPercent = 85
	// GCPercent is the GOGC of a function.
	GCPercent = 400
)

// RuntimeSettings returns the memory limit (bytes, 0 for none) and GOGC (0 for
// none) a function sets from its environment: each only if the environment does not
// set it already (GOMEMLIMIT, GOGC), and only in Lambda (a valid
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
func RuntimeSettings(getenv func(string) string) (memoryLimit int64, gcPercent int) {
	mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 || mb > 1<<20 {
		return 0, 0
	}
	if getenv("GOMEMLIMIT") == "" {
		memoryLimit = mb << 20 * MemoryLimitPercent / 100
	}
	if getenv("GOGC") == "" {
		gcPercent = GCPercent
	}
	return memoryLimit, gcPercent
}

// TuneRuntime applies RuntimeSettings to the running process.
func TuneRuntime(getenv func(string) string) {
	limit, gc := RuntimeSettings(getenv)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	if gc > 0 {
		debug.SetGCPercent(gc)
	}
}
