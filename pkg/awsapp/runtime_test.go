package awsapp_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
)

// GOMEMLIMIT and GOGC come from the function's memory size unless the
// environment sets them.
func TestRuntimeSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		limit     int64
		gcPercent int
	}{
		{"in Lambda", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}, 512 << 20 * 85 / 100, 400},
		{"GOMEMLIMIT set", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "GOMEMLIMIT": "100MiB"}, 0, 400},
		{"GOGC set", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "GOGC": "50"}, 128 << 20 * 85 / 100, 0},
		{"not in Lambda", map[string]string{}, 0, 0},
		{"not a size", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "lots"}, 0, 0},
		{"zero", map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "0"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, gc := awsapp.RuntimeSettings(func(k string) string { return tc.env[k] })
			if limit != tc.limit || gc != tc.gcPercent {
				t.Errorf("got (%d, %d), want (%d, %d)", limit, gc, tc.limit, tc.gcPercent)
			}
		})
	}
}
