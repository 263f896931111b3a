package templatetest

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/iampolicy"
	"github.com/pargate/pargate/pkg/dynamo"
)

// keyPrefixes are the store's key prefixes (pkg/dynamo), the only values a
// LeadingKeys condition may grant (each as "prefix*").
var keyPrefixes = []string{
	dynamo.PrefixPushed, dynamo.PrefixCode, dynamo.PrefixClient, dynamo.PrefixUser,
	dynamo.PrefixReplay, dynamo.PrefixGrant, dynamo.PrefixRT, dynamo.PrefixLogin,
}

func policies(tb testing.TB) map[string][]iampolicy.Statement {
	tb.Helper()
	p, err := iampolicy.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(p) < 5 {
		tb.Fatalf("found %d functions in template.yaml, want at least 5", len(p))
	}
	return p
}

// TestPolicies_DynamoDBByKeyPrefix: every statement of a function's role that allows a
// DynamoDB action is limited to key prefixes of the store with a
// ForAllValues:StringLike dynamodb:LeadingKeys condition, names only item actions (no
// Scan, no Query, no wildcard: a call without partition keys passes ForAllValues), and
// only on the table itself (the by-sub index is for administrators).
func TestPolicies_DynamoDBByKeyPrefix(t *testing.T) {
	itemActions := []string{"GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"}
	var n int
	for id, stmts := range policies(t) {
		for i, s := range stmts {
			var dynamoActions []string
			for _, a := range s.Action {
				if strings.HasPrefix(strings.ToLower(a), "dynamodb:") {
					dynamoActions = append(dynamoActions, a)
				}
			}
			if len(dynamoActions) == 0 {
				continue
			}
			n++
			if len(dynamoActions) != len(s.Action) {
				t.Errorf("%s statement %d mixes DynamoDB with other actions: %v", id, i, s.Action)
			}
			for _, a := range dynamoActions {
				if !slices.Contains(itemActions, strings.TrimPrefix(a, "dynamodb:")) {
					t.Errorf("%s statement %d: %s is not an item action", id, i, a)
				}
			}
			if !slices.Equal(s.Resource, []string{"!GetAtt Table.Arn"}) {
				t.Errorf("%s statement %d: Resource %v, want the table only", id, i, s.Resource)
			}
			keys := s.Condition["ForAllValues:StringLike"][iampolicy.LeadingKeys]
			if len(keys) == 0 || len(s.Condition) != 1 {
				t.Errorf("%s statement %d (%v): no ForAllValues:StringLike %s condition", id, i, s.Action, iampolicy.LeadingKeys)
			}
			for _, k := range keys {
				p, ok := strings.CutSuffix(k, "*")
				if !ok || !slices.Contains(keyPrefixes, p) {
					t.Errorf("%s statement %d: LeadingKeys %q is not a store key prefix followed by *", id, i, k)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no DynamoDB statement found")
	}
}

// TestPolicies_RotationAndDiscoveryUseNoTable: the key rotation and discovery
// functions have no access to the table at all.
func TestPolicies_RotationAndDiscoveryUseNoTable(t *testing.T) {
	p := policies(t)
	for _, id := range []string{"KeyRotationFunction", "DiscoveryFunction"} {
		stmts, ok := p[id]
		if !ok {
			t.Fatalf("no %s in template.yaml", id)
		}
		for _, s := range stmts {
			if s.HasAction("dynamodb:GetItem") || slices.ContainsFunc(s.Action, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "dynamodb:") }) {
				t.Errorf("%s may %v", id, s.Action)
			}
		}
	}
}
