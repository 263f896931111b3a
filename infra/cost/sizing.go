package cost

import (
	"bufio"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// PasswordCheckCPU is the median cpu-ms/op of BenchmarkPasswordCheck output (the
// text go test -bench prints).
func PasswordCheckCPU(benchOutput string) (float64, error) {
	return BenchCPU(benchOutput, "BenchmarkPasswordCheck")
}

// BenchCPU is the median cpu-ms/op of the lines of benchmark name (or its
// sub-benchmarks, name/...) in go test -bench output.
func BenchCPU(benchOutput, name string) (float64, error) {
	var v []float64
	sc := bufio.NewScanner(strings.NewReader(benchOutput))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != name && !strings.HasPrefix(f[0], name+"/") && !strings.HasPrefix(f[0], name+"-") {
			continue
		}
		for i := 1; i < len(f); i++ {
			if f[i] == "cpu-ms/op" {
				x, err := strconv.ParseFloat(f[i-1], 64)
				if err != nil {
					return 0, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
				}
				v = append(v, x)
			}
		}
	}
	if len(v) == 0 {
		return 0, fmt.Errorf("no %s cpu-ms/op in the benchmark output", name)
	}
	slices.Sort(v)
	return v[len(v)/2], nil
}

// Inputs are the checked-in measurements the model starts from.
type Inputs struct {
	Emulator Emulator
	// Argon2Asm and Argon2Generic: the password check's CPU on one core, with
	// x/crypto/argon2's amd64 assembly (what the emulator's login ran) and with its
	// generic Go code (-tags purego: what arm64 runs).
	Argon2Asm, Argon2Generic float64
	// JWSVerify: one signature check of the FAPI profile (BenchmarkJWSVerify, the
	// slower algorithm's median).
	JWSVerify float64
	DynamoDB  DynamoDB
}

// StepCPU is a step's CPU on Lambda's arm64: the emulator's, with the login's
// argon2id check counted as the generic code's (x/crypto/argon2 has no arm64
// assembly). One arm64 core is taken to be as fast as one core of the measuring
// machine (stated in docs/cost.md).
func (in Inputs) StepCPU(step string) float64 {
	cpu := in.Emulator.Steps[step].CPUMillis
	if step == "login" {
		cpu += in.Argon2Generic - in.Argon2Asm
	}
	return cpu
}

// StepWait is what a step waits for besides CPU (DynamoDB, Secrets Manager calls):
// its measured duration less its CPU, never negative.
func (in Inputs) StepWait(step string) float64 {
	s := in.Emulator.Steps[step]
	return math.Max(0, s.WallMillis-s.CPUMillis)
}

// VCPU is the CPU share Lambda gives a function of memoryMB, for single-threaded
// work (argon2id with one lane): proportional to memory up to one vCPU.
func VCPU(memoryMB int) float64 { return math.Min(1, float64(memoryMB)/LambdaMBPerVCPU) }

// StepMillis is a step's duration on Lambda at memoryMB: its CPU stretched by the
// CPU share, plus its wait.
func (in Inputs) StepMillis(step string, memoryMB int) float64 {
	return in.StepCPU(step)/VCPU(memoryMB) + in.StepWait(step)
}

// GBSeconds is what Lambda bills for one invocation of millis at memoryMB: the
// duration rounded up to the millisecond, times the memory in GB.
func GBSeconds(millis float64, memoryMB int) float64 {
	return math.Ceil(millis) / 1000 * float64(memoryMB) / 1024
}

// AuthorizeSize is the Authorize function at one memory size: the login's duration
// and the function's GB-s and dollars per flow (its four steps).
type AuthorizeSize struct {
	MemoryMB       int
	VCPU           float64
	LoginMillis    float64
	FlowMillis     float64 // the four /authorize steps
	GBSecondsFlow  float64
	DollarsMillion float64 // per million flows: GB-s and requests
}

// AuthorizeSteps are the steps the Authorize function serves.
var AuthorizeSteps = []string{"authorize", "login", "consent", "approve"}

// AuthorizeSizes models the Authorize function at each memory size.
func (in Inputs) AuthorizeSizes(memoryMB ...int) []AuthorizeSize {
	out := make([]AuthorizeSize, 0, len(memoryMB))
	for _, mb := range memoryMB {
		s := AuthorizeSize{MemoryMB: mb, VCPU: VCPU(mb), LoginMillis: in.StepMillis("login", mb)}
		for _, step := range AuthorizeSteps {
			d := in.StepMillis(step, mb)
			s.FlowMillis += d
			s.GBSecondsFlow += GBSeconds(d, mb)
		}
		s.DollarsMillion = 1e6 * (s.GBSecondsFlow*LambdaPerGBSecond + float64(len(AuthorizeSteps))*LambdaPerRequest)
		out = append(out, s)
	}
	return out
}
