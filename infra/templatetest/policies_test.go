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
	dynamo.PrefixReplay, dynamo.PrefixGrant, dynamo.PrefixRT, dynamo.PrefixLogin, dynamo.PrefixRate,
	dynamo.PrefixSession,
	dynamo.PrefixConsent,
	dynamo.PrefixProvider,
	dynamo.PrefixLink,
}

// bySubIndexResource is the by-sub index of the table (or of the global table).
const bySubIndexResource = `!If [IsMultiRegion, !Sub "${GlobalTable.Arn}/index/by-sub", !Sub "${Table.Arn}/index/by-sub"]`

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
// only on the table itself (the by-sub index is for administrators). The one exception
// is the authorize function's Query of the by-sub index, alone in its statement:
// RP-Initiated Logout finds the session's grants by subject (docs/design.md decision
// 33; an index Query's LeadingKeys are subjects, which have no prefix to name).
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
			if slices.Equal(s.Action, []string{"dynamodb:Query"}) && id == "AuthorizeFunction" &&
				slices.Equal(s.Resource, []string{bySubIndexResource}) && len(s.Condition) == 0 {
				continue
			}
			if len(dynamoActions) != len(s.Action) {
				t.Errorf("%s statement %d mixes DynamoDB with other actions: %v", id, i, s.Action)
			}
			for _, a := range dynamoActions {
				if !slices.Contains(itemActions, strings.TrimPrefix(a, "dynamodb:")) {
					t.Errorf("%s statement %d: %s is not an item action", id, i, a)
				}
			}
			// The table, or in a multi-Region stack the global table (multiregion_test.go).
			if !slices.Equal(s.Resource, []string{tableResource}) && !slices.Equal(s.Resource, []string{singleItemResource}) {
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

// TestPolicies_DiscoveryCannotReadThePrivateKeys: the discovery function's role may
// read the public key set and nothing else of Secrets Manager - no action at all on the
// signing key secret, the cookie key or the DPoP nonce key - and its environment names
// the public key set; only the rotation function writes that.
func TestPolicies_DiscoveryCannotReadThePrivateKeys(t *testing.T) {
	p := policies(t)
	refs := map[string]string{}
	for _, name := range []string{"KeysSecret", "CookieSecret", "DpopNonceSecret", "PublicKeysSecret"} {
		refs[name] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
	}
	refs["Table.Arn"] = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
	actions := []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds",
		"secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage", "secretsmanager:RotateSecret"}
	allowed := func(id, action, secret string) bool {
		t.Helper()
		ok, _, err := iampolicy.Allowed(p[id], iampolicy.Request{Action: action, Resource: refs[secret]}, refs)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return ok
	}
	for _, secret := range []string{"KeysSecret", "CookieSecret", "DpopNonceSecret"} {
		for _, action := range actions {
			if allowed("DiscoveryFunction", action, secret) {
				t.Errorf("DiscoveryFunction may %s on %s", action, secret)
			}
		}
	}
	if !allowed("DiscoveryFunction", "secretsmanager:GetSecretValue", "PublicKeysSecret") {
		t.Error("DiscoveryFunction may not read PublicKeysSecret")
	}
	for _, action := range actions[1:] {
		if allowed("DiscoveryFunction", action, "PublicKeysSecret") {
			t.Errorf("DiscoveryFunction may %s on PublicKeysSecret", action)
		}
	}
	for id := range p {
		if id != "KeyRotationFunction" && allowed(id, "secretsmanager:PutSecretValue", "PublicKeysSecret") {
			t.Errorf("%s may write the public key set", id)
		}
	}
	for _, action := range []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} {
		// It reads the published set first and writes only a changed one.
		if !allowed("KeyRotationFunction", action, "PublicKeysSecret") {
			t.Errorf("KeyRotationFunction may not %s on the public key set", action)
		}
	}
	res := resources(t)
	for _, id := range []string{"DiscoveryFunction", "KeyRotationFunction"} {
		if v, _ := res[id].value("PUBLIC_KEYS_SECRET_ID"); v != "!Ref PublicKeysSecret" {
			t.Errorf("%s: PUBLIC_KEYS_SECRET_ID %q, want !Ref PublicKeysSecret", id, v)
		}
	}
}

// TestPolicies_OnlyAuthorizeReadsTheIdentityProviders (issue 13; docs/design.md
// decision 36): the authorize function may read the upstream identity providers'
// items (GetItem and BatchGetItem of idp# keys, never a Scan) and the secrets under
// its stack's IDP_SECRET_PREFIX, and nothing of Secrets Manager beyond reading them;
// no other function may read either; and a provider secret of another stack is not
// the authorize function's.
func TestPolicies_OnlyAuthorizeReadsTheIdentityProviders(t *testing.T) {
	p := policies(t)
	const account = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	refs := map[string]string{
		"Table.Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t", "AWS::Partition": "aws",
		"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::StackName": "auth",
	}
	for _, name := range []string{"KeysSecret", "CookieSecret", "DpopNonceSecret", "PublicKeysSecret"} {
		refs[name] = account + name + "-AbCdEf"
	}
	own, other := account+"pargate/auth/idp/corp-AbCdEf", account+"pargate/auth2/idp/corp-AbCdEf"
	allowed := func(id string, req iampolicy.Request) bool {
		t.Helper()
		ok, _, err := iampolicy.Allowed(p[id], req, refs)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		return ok
	}
	table := refs["Table.Arn"]
	reads := []iampolicy.Request{
		{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider}},
		{Action: "dynamodb:GetItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider + "corp"}},
		{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider + "corp", dynamo.PrefixProvider + "google"}},
		{Action: "secretsmanager:GetSecretValue", Resource: own},
	}
	for id := range p {
		for _, req := range reads {
			if got := allowed(id, req); got != (id == "AuthorizeFunction") {
				t.Errorf("%s may %s %s %v: %v", id, req.Action, req.Resource, req.LeadingKeys, got)
			}
		}
		for _, req := range []iampolicy.Request{
			{Action: "secretsmanager:GetSecretValue", Resource: other},
			{Action: "secretsmanager:PutSecretValue", Resource: own},
			{Action: "secretsmanager:DeleteSecret", Resource: own},
			{Action: "dynamodb:PutItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider + "corp"}},
			{Action: "dynamodb:UpdateItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider + "corp"}},
			{Action: "dynamodb:BatchGetItem", Resource: table, LeadingKeys: []string{dynamo.PrefixProvider + "corp", dynamo.PrefixClient + "x"}},
			{Action: "dynamodb:Scan", Resource: table},
		} {
			if allowed(id, req) {
				t.Errorf("%s may %s %s %v", id, req.Action, req.Resource, req.LeadingKeys)
			}
		}
	}
	res := resources(t)
	if v, _ := res["AuthorizeFunction"].value("IDP_SECRET_PREFIX"); v != `!Sub "pargate/${AWS::StackName}/idp/"` {
		t.Errorf("AuthorizeFunction: IDP_SECRET_PREFIX %q", v)
	}
}
