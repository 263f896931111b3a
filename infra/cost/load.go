package cost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Input files in the inputs folder (infra/cost/inputs), each written by the
// measurement that owns it (Makefile cost-measure).
const (
	EmulatorFile      = "emulator.json"      // infra/lambdaemu/stack BenchmarkFlowCost -flowcost.out
	DynamoDBFile      = "dynamodb.json"      // infra/bench/flow TestDynamoDBCallsPerFlow -calls.out
	Argon2AsmFile     = "argon2-asm.txt"     // BenchmarkPasswordCheck -cpu 1
	Argon2GenericFile = "argon2-generic.txt" // the same with -tags purego
	JWSFile           = "jws.txt"            // BenchmarkJWSVerify -cpu 1
)

// Load reads the measurements of dir.
func Load(dir string) (Inputs, error) {
	var in Inputs
	read := func(name string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("cost inputs: %w", err)
		}
		return data, nil
	}
	for name, into := range map[string]any{EmulatorFile: &in.Emulator, DynamoDBFile: &in.DynamoDB} {
		data, err := read(name)
		if err != nil {
			return in, err
		}
		if err := json.Unmarshal(data, into); err != nil {
			return in, fmt.Errorf("cost inputs: %s: %w", name, err)
		}
	}
	for name, into := range map[string]*float64{Argon2AsmFile: &in.Argon2Asm, Argon2GenericFile: &in.Argon2Generic} {
		data, err := read(name)
		if err != nil {
			return in, err
		}
		if *into, err = PasswordCheckCPU(string(data)); err != nil {
			return in, fmt.Errorf("cost inputs: %s: %w", name, err)
		}
	}
	data, err := read(JWSFile)
	if err != nil {
		return in, err
	}
	for _, alg := range []string{"PS256", "ES256"} {
		v, err := BenchCPU(string(data), "BenchmarkJWSVerify/"+alg)
		if err != nil {
			return in, fmt.Errorf("cost inputs: %s: %w", JWSFile, err)
		}
		in.JWSVerify = max(in.JWSVerify, v)
	}
	for _, s := range FlowSteps {
		if _, ok := in.Emulator.Steps[s.Step]; !ok {
			return in, fmt.Errorf("cost inputs: %s has no step %q", EmulatorFile, s.Step)
		}
	}
	return in, nil
}
