package cost_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// loopCPU runs op for each iteration of b.Loop and reports the process's user and
// system CPU time per iteration (cpu-ms/op, from getrusage).
func loopCPU(b *testing.B, op func()) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, n := cpu(), 0
	for b.Loop() {
		n++
		op()
	}
	b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
}

// BenchmarkPasswordCheck is the login's argon2id check with the configured
// parameters (oauth.HashPassword's), reporting the CPU it takes (cpu-ms/op, from
// getrusage: the collector's work on the 19 MiB included), which on a shared machine
// is steadier than the wall time. Run on one core (-cpu 1), once as the host builds
// it and once with -tags purego: x/crypto/argon2 has assembly for amd64 only, so the
// generic Go code is what Lambda's arm64 runs.
//
//	go test -run='^$' -bench=PasswordCheck -cpu 1 -count 5 ./infra/cost > infra/cost/inputs/argon2-asm.txt
//	go test -tags purego -run='^$' -bench=PasswordCheck -cpu 1 -count 5 ./infra/cost > infra/cost/inputs/argon2-generic.txt
func BenchmarkPasswordCheck(b *testing.B) {
	hash, err := oauth.HashPassword("bench-password-correct-horse")
	if err != nil {
		b.Fatal(err)
	}
	loopCPU(b, func() {
		if ok, err := oauth.VerifyPassword(hash, "bench-password-correct-horse"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	})
}
