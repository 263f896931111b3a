package templatetest

import (
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/iampolicy"
	"github.com/pargate/pargate/pkg/config"
)

// tableResource is the Resource of every DynamoDB statement: the single-Region table,
// or with ReplicaRegions the global table (its replica in the stack's Region).
const tableResource = "!If [IsMultiRegion, !GetAtt GlobalTable.Arn, !GetAtt Table.Arn]"

// singleItemResource is the Resource of the statements only the single-item writes of
// a multi-Region stack need: the global table, or in one Region no table at all.
const singleItemResource = `!If [IsMultiRegion, !GetAtt GlobalTable.Arn, !Sub "${Table.Arn}/none"]`

// TestMultiRegion_OffByDefault: ReplicaRegions, WitnessRegion and HostedZoneId are
// empty by default, and empty they leave the single-Region stack as it was: the
// table (with TTL), no global table, no latency record, and transactions.
func TestMultiRegion_OffByDefault(t *testing.T) {
	text := templateText(t)
	params := section(t, text, "Parameters")
	for _, p := range []string{"ReplicaRegions", "WitnessRegion", "HostedZoneId"} {
		if e := entry(t, params, p); !strings.Contains(e, `Default: ""`) {
			t.Errorf("parameter %s has no empty default:\n%s", p, e)
		}
	}
	conds := section(t, text, "Conditions")
	for name, want := range map[string]string{
		"IsSingleRegion":   `!Equals [!Ref ReplicaRegions, ""]`,
		"IsMultiRegion":    `!Not [!Equals [!Ref ReplicaRegions, ""]]`,
		"HasLatencyRecord": `!And [!Condition HasDomain, !Not [!Equals [!Ref HostedZoneId, ""]]]`,
	} {
		if !strings.Contains(conds, "\n  "+name+": "+want+"\n") {
			t.Errorf("condition %s is not %s", name, want)
		}
	}
	res := resources(t)
	for id, cond := range map[string]string{"Table": "IsSingleRegion", "GlobalTable": "IsMultiRegion", "LatencyRecord": "HasLatencyRecord"} {
		r, ok := res[id]
		if !ok {
			t.Fatalf("no %s in template.yaml", id)
		}
		if got, _ := r.value("Condition"); got != cond {
			t.Errorf("%s has Condition %q, want %s", id, got, cond)
		}
	}
	if !strings.Contains(res["Table"].text(), "TimeToLiveSpecification:") {
		t.Error("the single-Region table lost its TTL")
	}
	globals := section(t, text, "Globals")
	for _, want := range []string{
		"TABLE_NAME: !If [IsMultiRegion, !Ref GlobalTable, !Ref Table]",
		`DYNAMODB_SINGLE_ITEM_WRITES: !If [IsMultiRegion, "true", "false"]`,
	} {
		if !strings.Contains(globals, want) {
			t.Errorf("Globals: no %s", want)
		}
	}
}

// TestMultiRegion_GlobalTableIsStronglyConsistentWithoutTTL: the global table is MRSC
// (STRONG: conditional writes hold across Regions, so one-time use does), in this
// Region and the replicas, with the witness when given; without TTL, which MRSC does
// not support; with the store's schema and the table's protections.
func TestMultiRegion_GlobalTableIsStronglyConsistentWithoutTTL(t *testing.T) {
	g := resources(t)["GlobalTable"]
	if g == nil || g.typ != "AWS::DynamoDB::GlobalTable" {
		t.Fatal("no AWS::DynamoDB::GlobalTable GlobalTable")
	}
	body := g.text()
	for _, want := range []string{
		"MultiRegionConsistency: STRONG",
		"- Region: !Ref AWS::Region",
		`- Region: !Select [0, !Split [",", !Ref ReplicaRegions]]`,
		`Region: !Select [1, !Split [",", !Ref ReplicaRegions]]`,
		"- HasWitness\n        - - Region: !Ref WitnessRegion",
		"IndexName: by-sub",
		"AttributeName: pk\n          KeyType: HASH",
		"DeletionProtectionEnabled: true",
		"PointInTimeRecoveryEnabled: true",
		"SSEEnabled: true",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GlobalTable: no %q", want)
		}
	}
	if strings.Contains(body, "TimeToLiveSpecification") {
		t.Error("GlobalTable has a TimeToLiveSpecification: MRSC global tables do not support TTL")
	}
	if v, _ := g.value("DeletionPolicy"); v != "Retain" {
		t.Errorf("GlobalTable DeletionPolicy %q, want Retain", v)
	}
}

// TestMultiRegion_SecretsReplicated: the signing keys, the public keys, the cookie key
// and the DPoP nonce key are replicated to the replica Regions, so every Region signs
// with the same keys and opens the same cookies.
func TestMultiRegion_SecretsReplicated(t *testing.T) {
	res := resources(t)
	for _, id := range []string{"KeysSecret", "PublicKeysSecret", "CookieSecret", "DpopNonceSecret"} {
		r := res[id]
		if r == nil {
			t.Fatalf("no %s", id)
		}
		body := r.text()
		if !strings.Contains(body, "ReplicaRegions: !If\n        - IsMultiRegion\n") ||
			!strings.Contains(body, `Region: !Select [0, !Split [",", !Ref ReplicaRegions]]`) {
			t.Errorf("%s is not replicated to ReplicaRegions", id)
		}
	}
}

// TestMultiRegion_PoliciesNameTheTableOfTheStack: in a multi-Region stack every
// function's DynamoDB statements allow its calls on the global table (and not on a
// table of another name); the single-Region case is TestPolicies_AllowEveryCallOfTheFlow.
func TestMultiRegion_PoliciesNameTheTableOfTheStack(t *testing.T) {
	p := policies(t)
	global := "arn:aws:dynamodb:us-east-1:123456789012:table/global"
	refs := map[string]string{
		"Condition:IsMultiRegion": "true",
		"GlobalTable.Arn":         global,
		"Table.Arn":               "arn:aws:dynamodb:us-east-1:123456789012:table/single",
	}
	for _, tc := range []struct{ fn, action, key string }{
		{"ParFunction", "dynamodb:PutItem", "par#k"},
		{"AuthorizeFunction", "dynamodb:UpdateItem", "par#k"},
		{"AuthorizeFunction", "dynamodb:PutItem", "code#k"},
		{"TokenFunction", "dynamodb:UpdateItem", "code#k"},
	} {
		for arn, want := range map[string]bool{global: true, refs["Table.Arn"]: false} {
			ok, _, err := iampolicy.Allowed(p[tc.fn], iampolicy.Request{Action: tc.action, Resource: arn, LeadingKeys: []string{tc.key}}, refs)
			if err != nil {
				t.Fatalf("%s: %v", tc.fn, err)
			}
			if ok != want {
				t.Errorf("%s %s %s on %s: allowed %v, want %v", tc.fn, tc.action, tc.key, arn, ok, want)
			}
		}
	}
}

// TestMultiRegion_SingleItemWritesIsTheStoreSetting: the variable the template sets is
// the one pkg/config reads.
func TestMultiRegion_SingleItemWritesIsTheStoreSetting(t *testing.T) {
	env := map[string]string{"DYNAMODB_SINGLE_ITEM_WRITES": "true", "TABLE_NAME": "t", "ISSUER": "https://issuer.example"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] }, "TABLE_NAME")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.SingleItemWrites {
		t.Error("DYNAMODB_SINGLE_ITEM_WRITES=true does not set config.SingleItemWrites")
	}
}
