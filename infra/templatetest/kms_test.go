package templatetest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/iampolicy"
)

// The customer managed key (KmsKey; README "Encryption at rest", docs/design.md "The
// functions' roles").
const (
	// kmsKeyRef is how the table, the secrets and the roles name the key in this
	// Region: the stack's own, or the ARN given.
	kmsKeyRef = "!If [CreateKmsKey, !GetAtt EncryptionKey.Arn, !Ref KmsKey]"
	// kmsKeyIDRef is how a replica in another Region names it: the key id, which a
	// multi-Region key shares with its replicas.
	kmsKeyIDRef = `!Select [1, !Split [":key/", !Ref KmsKey]]`
)

// kmsRefs resolves the template's names for a stack with the key on: the stack's own
// key (create) or an existing one.
func kmsRefs(create bool) map[string]string {
	refs := map[string]string{
		"Condition:UseKmsKey":    "true",
		"Condition:CreateKmsKey": fmt.Sprint(create),
		"EncryptionKey.Arn":      "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
		"KmsKey":                 "arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef",
		"Table.Arn":              "arn:aws:dynamodb:us-east-1:123456789012:table/t",
		"AWS::Partition":         "aws",
		"AWS::Region":            "us-east-1",
		"AWS::AccountId":         "123456789012",
		"AWS::StackName":         "auth",
	}
	for _, name := range []string{"KeysSecret", "CookieSecret", "DpopNonceSecret", "PublicKeysSecret"} {
		refs[name] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
	}
	// An upstream identity provider's secret, under the stack's IDP_SECRET_PREFIX
	// (pargate idp add), and one of another stack.
	refs["IdpSecret"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pargate/auth/idp/corp-AbCdEf"
	refs["OtherStacksIdpSecret"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pargate/other/idp/corp-AbCdEf"
	return refs
}

func keyARN(refs map[string]string) string {
	if refs["Condition:CreateKmsKey"] == "true" {
		return refs["EncryptionKey.Arn"]
	}
	return refs["KmsKey"]
}

// TestKms_OffByDefault: KmsKey is none by default, and then no KMS resource, output or
// statement exists and nothing names a key: every kms: statement of a role is under
// !If UseKmsKey, every key property of the table and the secrets an !If UseKmsKey
// whose else is AWS::NoValue (the AWS managed keys, as before).
func TestKms_OffByDefault(t *testing.T) {
	text := templateText(t)
	if e := entry(t, section(t, text, "Parameters"), "KmsKey"); !strings.Contains(e, "Default: none\n") {
		t.Errorf("parameter KmsKey does not default to none:\n%s", e)
	}
	conds := section(t, text, "Conditions")
	for name, want := range map[string]string{
		"UseKmsKey":    "!Not [!Equals [!Ref KmsKey, none]]",
		"CreateKmsKey": "!Equals [!Ref KmsKey, create]",
	} {
		if !strings.Contains(conds, "\n  "+name+": "+want+"\n") {
			t.Errorf("condition %s is not %s", name, want)
		}
	}
	var keys int
	for id, r := range resources(t) {
		if strings.HasPrefix(r.typ, "AWS::KMS::") {
			keys++
			if c, _ := r.value("Condition"); c != "CreateKmsKey" {
				t.Errorf("%s (%s) has Condition %q, want CreateKmsKey", id, r.typ, c)
			}
		}
		for i, line := range r.body {
			l := strings.TrimPrefix(strings.TrimSpace(line), "- ")
			for _, prop := range []string{"KmsKeyId:", "KMSMasterKeyId:", "SSEType:"} {
				if !strings.HasPrefix(l, prop) {
					continue
				}
				oneLine := strings.HasPrefix(l, prop+" !If [UseKmsKey, ") && strings.HasSuffix(l, ", !Ref AWS::NoValue]")
				// A replica's SSESpecification: !If [UseKmsKey, {KMSMasterKeyId: …}, NoValue] as a block.
				block := i >= 2 && i+1 < len(r.body) && strings.TrimSpace(r.body[i-2]) == "SSESpecification: !If" &&
					strings.TrimSpace(r.body[i-1]) == "- UseKmsKey" && strings.TrimSpace(r.body[i+1]) == "- !Ref AWS::NoValue"
				if !oneLine && !block {
					t.Errorf("%s: %q is not under !If UseKmsKey", id, l)
				}
			}
		}
	}
	if keys != 2 {
		t.Errorf("found %d AWS::KMS:: resources, want the key and its alias", keys)
	}
	if !strings.Contains(entry(t, section(t, text, "Outputs"), "KmsKeyArn"), "Condition: UseKmsKey\n") {
		t.Error("output KmsKeyArn without Condition UseKmsKey")
	}
	var n int
	off := kmsRefs(true)
	off["Condition:UseKmsKey"], off["Condition:CreateKmsKey"] = "false", "false"
	for id, stmts := range policies(t) {
		for i, s := range stmts {
			if slices.ContainsFunc(s.Action, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "kms:") }) {
				n++
				if s.If != "UseKmsKey" {
					t.Errorf("%s statement %d (%v) is not under !If UseKmsKey", id, i, s.Action)
				}
			}
		}
		for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"} {
			ok, _, err := iampolicy.Allowed(stmts, iampolicy.Request{Action: action, Resource: keyARN(off), Context: map[string]string{}}, off)
			if err != nil || ok {
				t.Errorf("%s: with KmsKey=none %s allowed %v (%v)", id, action, ok, err)
			}
		}
	}
	if n == 0 {
		t.Error("no kms: statement in the functions' roles")
	}
}

// TestKms_EverySecretAndTableNamesTheKey: with the key on, every Secrets Manager
// secret of the stack names it (KmsKeyId), and so does each of its replicas (the key
// id in that Region); the table, and each replica of the global table
// (ReplicaSSESpecification: the key of the replica's Region), are encrypted with it
// (SSEType KMS).
func TestKms_EverySecretAndTableNamesTheKey(t *testing.T) {
	res := resources(t)
	var secrets int
	for id, r := range res {
		if r.typ != "AWS::SecretsManager::Secret" {
			continue
		}
		secrets++
		body := r.text()
		if !strings.Contains(body, "\n      KmsKeyId: !If [UseKmsKey, "+kmsKeyRef+", !Ref AWS::NoValue]") {
			t.Errorf("%s: no KmsKeyId naming the key", id)
		}
		regions := strings.Count(body, "Region: !Select [")
		if got := strings.Count(body, "KmsKeyId: !If [UseKmsKey, "+kmsKeyIDRef+", !Ref AWS::NoValue]"); regions == 0 || got != regions {
			t.Errorf("%s: %d replica Regions, %d of them name the key", id, regions, got)
		}
	}
	if secrets < 4 {
		t.Errorf("found %d secrets, want at least 4", secrets)
	}
	table := res["Table"].text()
	for _, want := range []string{
		"SSEEnabled: true",
		"SSEType: !If [UseKmsKey, KMS, !Ref AWS::NoValue]",
		"KMSMasterKeyId: !If [UseKmsKey, " + kmsKeyRef + ", !Ref AWS::NoValue]",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("Table: no %q", want)
		}
	}
	global := res["GlobalTable"].text()
	if !strings.Contains(global, "SSEType: !If [UseKmsKey, KMS, !Ref AWS::NoValue]") {
		t.Error("GlobalTable: no SSEType KMS with the key")
	}
	replicas := global[strings.Index(global, "Replicas:"):]
	for _, want := range []string{
		"- Region: !Ref AWS::Region\n          DeletionProtectionEnabled: true\n          SSESpecification: !If\n            - UseKmsKey\n            - KMSMasterKeyId: " + kmsKeyRef + "\n",
		"- Region: !Select [0, !Split [\",\", !Ref ReplicaRegions]]\n          DeletionProtectionEnabled: true\n          SSESpecification: !If\n            - UseKmsKey\n            - KMSMasterKeyId: " + kmsKeyIDRef + "\n",
		"- Region: !Select [1, !Split [\",\", !Ref ReplicaRegions]]\n            DeletionProtectionEnabled: true\n            SSESpecification: !If\n              - UseKmsKey\n              - KMSMasterKeyId: " + kmsKeyIDRef + "\n",
	} {
		if !strings.Contains(replicas, want) {
			t.Errorf("GlobalTable: no replica\n%s", want)
		}
	}
	if n := strings.Count(replicas, "KMSMasterKeyId:"); n != 3 {
		t.Errorf("GlobalTable: %d replicas name a key, want 3", n)
	}
	key := res["EncryptionKey"]
	if key == nil || key.typ != "AWS::KMS::Key" {
		t.Fatal("no AWS::KMS::Key EncryptionKey")
	}
	for _, want := range []string{"EnableKeyRotation: true", "DeletionPolicy: Retain"} {
		if !strings.Contains(key.text(), want) {
			t.Errorf("EncryptionKey: no %q", want)
		}
	}
	if a := res["EncryptionKeyAlias"]; a == nil || !strings.Contains(a.text(), "TargetKeyId: !Ref EncryptionKey") {
		t.Error("no alias of EncryptionKey")
	}
	if !strings.Contains(entry(t, section(t, templateText(t), "Rules"), "KmsKeyCreateIsSingleRegion"), `- Assert: !Equals [!Ref ReplicaRegions, ""]`) {
		t.Error("no rule refusing KmsKey=create with ReplicaRegions")
	}
}

// kmsCall is one KMS request a function's role might make: an action through a
// service (empty: directly), with the secret it is for (Secrets Manager's encryption
// context).
type kmsCall struct{ action, via, secret string }

func (c kmsCall) String() string {
	return strings.Join([]string{c.action, c.via, c.secret}, " ")
}

// functionTags are the functions and the pargate:function tag each role carries.
var functionTags = map[string]string{
	"ParFunction": "par", "AuthorizeFunction": "authorize", "TokenFunction": "token",
	"DiscoveryFunction": "discovery", "KeyRotationFunction": "rotate-keys",
}

// kmsAllowed evaluates what KMS allows a function's role: the key policy (the account
// is the principal, so the role's IAM statement must allow it too) and the role's own
// policy, both. Without a created key there is no key policy of the stack's: only the
// role's statement is checked (the existing key's policy delegates to IAM).
func kmsAllowed(t *testing.T, keyPolicy []iampolicy.Statement, stmts []iampolicy.Statement, tag string, c kmsCall, refs map[string]string) bool {
	t.Helper()
	ctx := map[string]string{"kms:CallerAccount": refs["AWS::AccountId"]}
	if tag != "" {
		ctx["aws:PrincipalTag/pargate:function"] = tag
	}
	if c.via != "" {
		ctx["kms:ViaService"] = c.via + "." + refs["AWS::Region"] + ".amazonaws.com"
	}
	if c.secret != "" {
		ctx["kms:EncryptionContext:SecretARN"] = refs[c.secret]
	}
	req := iampolicy.Request{Action: c.action, Resource: keyARN(refs), Context: ctx,
		Principal: "arn:aws:iam::" + refs["AWS::AccountId"] + ":root"}
	iamOK, _, err := iampolicy.Allowed(stmts, req, refs)
	if err != nil {
		t.Fatal(err)
	}
	if keyPolicy == nil {
		return iamOK
	}
	keyOK, _, err := iampolicy.Allowed(keyPolicy, req, refs)
	if err != nil {
		t.Fatal(err)
	}
	return iamOK && keyOK
}

// TestKms_RFC7517_9_2_KeyPolicyGrantsEachRoleOnlyItsActions (private keys "must be
// protected from disclosure to unintended parties"): with the stack's own key (and with an
// existing key, by the roles' statements alone), each function's role may use the key
// exactly for its calls and nothing else: through DynamoDB (kms:ViaService) for the
// table functions, through Secrets Manager for the secrets it reads - by their ARN in
// the encryption context - and, for the rotation function, writes (GenerateDataKey);
// never directly, never to administer the key, never for another secret. In
// particular discovery cannot decrypt the signing keys, nor the cookie or nonce key.
func TestKms_RFC7517_9_2_KeyPolicyGrantsEachRoleOnlyItsActions(t *testing.T) {
	p := policies(t)
	res := resources(t)
	tmpl := filepath.Join("..", "..", "template.yaml")
	keyPolicy, err := iampolicy.ReadKeyPolicy(tmpl, "EncryptionKey")
	if err != nil {
		t.Fatal(err)
	}
	// GenerateDataKey* (as in the AWS examples for DynamoDB): both data key forms.
	table := []kmsCall{{"kms:Decrypt", "dynamodb", ""}, {"kms:GenerateDataKey", "dynamodb", ""}, {"kms:GenerateDataKeyWithoutPlaintext", "dynamodb", ""}, {"kms:DescribeKey", "dynamodb", ""}}
	want := map[string][]kmsCall{
		"ParFunction": append(slices.Clone(table), kmsCall{"kms:Decrypt", "secretsmanager", "DpopNonceSecret"}),
		"AuthorizeFunction": append(slices.Clone(table), kmsCall{"kms:Decrypt", "secretsmanager", "CookieSecret"}, kmsCall{"kms:Decrypt", "secretsmanager", "KeysSecret"},
			kmsCall{"kms:Decrypt", "secretsmanager", "IdpSecret"}),
		"TokenFunction":       append(slices.Clone(table), kmsCall{"kms:Decrypt", "secretsmanager", "KeysSecret"}, kmsCall{"kms:Decrypt", "secretsmanager", "DpopNonceSecret"}),
		"DiscoveryFunction":   {{"kms:Decrypt", "secretsmanager", "PublicKeysSecret"}},
		"KeyRotationFunction": {{"kms:Decrypt", "secretsmanager", "KeysSecret"}, {"kms:GenerateDataKey", "secretsmanager", "KeysSecret"}, {"kms:Decrypt", "secretsmanager", "PublicKeysSecret"}, {"kms:GenerateDataKey", "secretsmanager", "PublicKeysSecret"}},
	}
	actions := []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo",
		"kms:DescribeKey", "kms:CreateGrant", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"}
	for _, create := range []bool{true, false} {
		refs := kmsRefs(create)
		kp := keyPolicy
		if !create {
			kp = nil
		}
		for id, name := range functionTags {
			tag, _ := res[id].value("pargate:function")
			if tag != `!Sub "${AWS::StackName}:`+name+`"` {
				t.Fatalf("%s: tag pargate:function %q, want the stack's name and %s", id, tag, name)
			}
			tag = refs["AWS::StackName"] + ":" + name
			var got []kmsCall
			for _, action := range actions {
				for _, via := range []string{"", "dynamodb", "secretsmanager", "s3"} {
					secrets := []string{""}
					if via == "secretsmanager" {
						secrets = []string{"KeysSecret", "CookieSecret", "DpopNonceSecret", "PublicKeysSecret", "IdpSecret", "OtherStacksIdpSecret", ""}
					}
					for _, secret := range secrets {
						c := kmsCall{action, via, secret}
						if kmsAllowed(t, kp, p[id], tag, c, refs) {
							got = append(got, c)
						}
					}
				}
			}
			if !sameCalls(got, want[id]) {
				t.Errorf("create=%v %s may %v, want exactly %v", create, id, got, want[id])
			}
		}
	}
}

func sameCalls(a, b []kmsCall) bool {
	key := func(c kmsCall) string { return c.String() }
	x, y := make([]string, 0, len(a)), make([]string, 0, len(b))
	for _, c := range a {
		x = append(x, key(c))
	}
	for _, c := range b {
		y = append(y, key(c))
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// TestKms_KeyPolicy: the stack's key policy lets the account administer the key (so
// it cannot become unmanageable) without using it; lets the account's other
// principals - deployers and operators, not the functions' roles - use it only
// through Secrets Manager and DynamoDB; names the functions' roles only by their tag
// with this stack's name (a role of another stack gets nothing); and gives the
// DynamoDB service principal only the key's metadata.
func TestKms_KeyPolicy(t *testing.T) {
	kp, err := iampolicy.ReadKeyPolicy(filepath.Join("..", "..", "template.yaml"), "EncryptionKey")
	if err != nil {
		t.Fatal(err)
	}
	refs := kmsRefs(true)
	root := "arn:aws:iam::" + refs["AWS::AccountId"] + ":root"
	allowed := func(principal, action, via, tag string) bool {
		t.Helper()
		ctx := map[string]string{"kms:CallerAccount": refs["AWS::AccountId"]}
		if via != "" {
			ctx["kms:ViaService"] = via + ".us-east-1.amazonaws.com"
		}
		if tag != "" {
			ctx["aws:PrincipalTag/pargate:function"] = tag
		}
		ok, _, err := iampolicy.Allowed(kp, iampolicy.Request{Action: action, Resource: keyARN(refs), Principal: principal, Context: ctx}, refs)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, action := range []string{"kms:PutKeyPolicy", "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:EnableKeyRotation", "kms:TagResource"} {
		if !allowed(root, action, "", "") {
			t.Errorf("the account may not %s", action)
		}
	}
	for _, action := range []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"} {
		if allowed(root, action, "", "") {
			t.Errorf("the account may %s directly (not through a service)", action)
		}
		for _, via := range []string{"secretsmanager", "dynamodb"} {
			if !allowed(root, action, via, "") {
				t.Errorf("a deployer may not %s through %s", action, via)
			}
		}
		if allowed(root, action, "s3", "") {
			t.Errorf("a deployer may %s through s3", action)
		}
		for _, name := range functionTags {
			if allowed(root, action, "secretsmanager", "other-stack:"+name) || allowed(root, action, "dynamodb", "other-stack:"+name) {
				t.Errorf("the %s role of another stack may %s", name, action)
			}
		}
		if allowed("dynamodb.amazonaws.com", action, "", "") {
			t.Errorf("the DynamoDB service principal may %s", action)
		}
	}
	if !allowed(root, "kms:CreateGrant", "dynamodb", "") {
		t.Error("a deployer may not let DynamoDB create the table's grant")
	}
	if !allowed("dynamodb.amazonaws.com", "kms:DescribeKey", "", "") {
		t.Error("the DynamoDB service principal may not describe the key")
	}
}
