package stack_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestFunctions_LinkOnlyTheAdaptersTheyUse: discovery reads no table, so neither the
// DynamoDB client nor the store is in its dependencies (`go list -deps`), while the
// functions of the table have both (which shows the check looks at the right names).
func TestFunctions_LinkOnlyTheAdaptersTheyUse(t *testing.T) {
	const dynamodb, store = "github.com/aws/aws-sdk-go-v2/service/dynamodb", "github.com/pargate/pargate/pkg/dynamo"
	for name, wantTable := range map[string]bool{"discovery": false, "par": true, "authorize": true, "token": true} {
		cmd := exec.Command("go", "list", "-deps", "./functions/"+name)
		cmd.Dir = moduleRoot(t)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./functions/%s: %v", name, err)
		}
		deps := strings.Fields(string(out))
		for _, pkg := range []string{dynamodb, store} {
			if got := slices.Contains(deps, pkg); got != wantTable {
				t.Errorf("./functions/%s depends on %s: %v, want %v", name, pkg, got, wantTable)
			}
		}
	}
}
