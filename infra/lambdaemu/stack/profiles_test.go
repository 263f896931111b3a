package stack_test

// The template cannot deploy a profile whose functions cannot start: every
// function's environment, rendered from template.yaml with the parameters of a
// deployment (stack.Template.WithParameters), goes through the configuration load
// the function runs at start (awsapp.Lambda for the HTTP functions; config.KeyAlgorithm
// and secrets.NewRotator for the rotation function), and the template's Rules are
// evaluated against the same parameters. A combination the functions refuse must
// be refused by a Rule, and one the Rules let through must start.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/secrets"
)

// rotationFunction is the directory of the key rotation function.
const rotationFunction = "rotate-keys"

// startFunctions renders each function's environment from tmpl and runs its start
// checks, returning the environments and every function's start error.
func startFunctions(t *testing.T, tmpl *stack.Template) (map[string]map[string]string, error) {
	t.Helper()
	// What Lambda sets in every function's environment, which the functions' AWS
	// configuration reads (awsapp.LoadConfig).
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1"} {
		t.Setenv(k, v)
	}
	resources := map[string]string{"ISSUER": stack.EventsIssuer, "TABLE_NAME": "t", "KEYS_SECRET_ID": "k",
		"COOKIE_SECRET_ID": "c", "DPOP_NONCE_SECRET_ID": "d", "PUBLIC_KEYS_SECRET_ID": "p", "AWS_ENDPOINT_URL": "", "AWS_LAMBDA_FUNCTION_NAME": "f"}
	envs := map[string]map[string]string{}
	var errs []error
	for _, dir := range append(slices.Clone(stack.HTTPFunctions), rotationFunction) {
		fn, err := tmpl.Function(dir, resources)
		if err != nil {
			t.Fatal(err)
		}
		envs[dir] = fn.Env
		getenv := func(name string) string { return fn.Env[name] }
		if dir == rotationFunction {
			alg, err := config.KeyAlgorithm(getenv)
			if err == nil {
				_, err = secrets.NewRotator(nil, alg, nil)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", dir, err))
			}
			continue
		}
		var store awsapp.StoreFunc = awstable.Table
		if dir == "discovery" {
			store = nil // discovery links no table (functions/discovery)
		}
		if _, err := awsapp.Lambda(context.Background(), getenv, store); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", dir, err))
		}
	}
	return envs, errors.Join(errs...)
}

func withParameters(t *testing.T, params map[string]string) *stack.Template {
	t.Helper()
	tmpl, err := stack.LoadTemplate(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err = tmpl.WithParameters(params)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func failedRuleNames(t *testing.T, tmpl *stack.Template) []string {
	t.Helper()
	failed, err := tmpl.FailedRules()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range failed {
		name, _, _ := strings.Cut(f, ":")
		names = append(names, name)
	}
	return names
}

// Both profiles deploy with the template's defaults, and every function starts: under
// fapi2 with REQUIRE_PAR=true from the Profile alone (FAPI 2.0 §5.3.2.2) and signing
// keys of ES256 (§5.4.1); under the default profile with RS256 (OIDC Core §15.1).
func TestTemplate_EachFunctionStartsUnderBothProfiles(t *testing.T) {
	for _, tc := range []struct{ profile, requirePAR, keyAlg string }{
		{"default", "false", "RS256"},
		{"fapi2", "true", "ES256"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			tmpl := withParameters(t, map[string]string{"Profile": tc.profile})
			if failed := failedRuleNames(t, tmpl); len(failed) > 0 {
				t.Errorf("the template's own defaults fail its rules: %v", failed)
			}
			envs, err := startFunctions(t, tmpl)
			if err != nil {
				t.Fatalf("a function does not start: %v", err)
			}
			for dir, env := range envs {
				getenv := func(name string) string { return env[name] }
				if alg, err := config.KeyAlgorithm(getenv); err != nil || alg != tc.keyAlg {
					t.Errorf("%s: key algorithm %q %v, want %s", dir, alg, err, tc.keyAlg)
				}
				if env["REQUIRE_PAR"] != tc.requirePAR || env["PROFILE"] != tc.profile {
					t.Errorf("%s: REQUIRE_PAR=%q PROFILE=%q, want %s %s", dir, env["REQUIRE_PAR"], env["PROFILE"], tc.requirePAR, tc.profile)
				}
				if dir == rotationFunction {
					continue
				}
				cfg, err := config.FromEnv(getenv)
				if err != nil || cfg.RequirePAR != (tc.requirePAR == "true") || cfg.FAPI2 != (tc.profile == "fapi2") {
					t.Errorf("%s: RequirePAR %v FAPI2 %v %v", dir, cfg.RequirePAR, cfg.FAPI2, err)
				}
			}
		})
	}
}

// Every combination the functions refuse at start is refused by a Rule of the
// template first, naming it; every combination the Rules accept starts. The
// refusals no Rule can express are listed in README "FAPI 2.0 cryptography and the
// template" (REFRESH_TOKEN_LIFETIME above GRANT_LIFETIME compares two parameters,
// AUTHORIZATION_DETAILS_TYPES is JSON).
func TestTemplate_RulesRefuseWhatTheFunctionsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		rules  []string // the rules that fail, sorted
		// deployOnly: a rule about the stack's resources, not the functions' start.
		deployOnly bool
	}{
		{name: "fapi2 with RequirePar=false (the profile implies true)", params: map[string]string{"Profile": "fapi2", "RequirePar": "false"}},
		{name: "fapi2 with PS256", params: map[string]string{"Profile": "fapi2", "SigningAlgorithm": "PS256"}},
		{name: "fapi2 with EdDSA", params: map[string]string{"Profile": "fapi2", "SigningAlgorithm": "EdDSA"}},
		{name: "fapi2 at the limits", params: map[string]string{"Profile": "fapi2", "ParExpiresIn": "599", "CodeLifetime": "60"}},
		{name: "FAPI 2.0 §5.4.1 fapi2 with RS256", params: map[string]string{"Profile": "fapi2", "SigningAlgorithm": "RS256"}, rules: []string{"Fapi2SigningAlgorithm"}},
		{name: "FAPI 2.0 §5.3.2.2 fapi2 with ParExpiresIn 600", params: map[string]string{"Profile": "fapi2", "ParExpiresIn": "600"}, rules: []string{"Fapi2ParExpiresIn"}},
		{name: "FAPI 2.0 §5.3.2.1 fapi2 with CodeLifetime 61", params: map[string]string{"Profile": "fapi2", "CodeLifetime": "61"}, rules: []string{"Fapi2CodeLifetime"}},
		{name: "fapi2 with all three", params: map[string]string{"Profile": "fapi2", "SigningAlgorithm": "RS256", "ParExpiresIn": "600", "CodeLifetime": "600"},
			rules: []string{"Fapi2CodeLifetime", "Fapi2ParExpiresIn", "Fapi2SigningAlgorithm"}},
		{name: "the default profile allows all three", params: map[string]string{"SigningAlgorithm": "RS256", "ParExpiresIn": "600", "CodeLifetime": "600", "RequirePar": "true"}},
		{name: "the default profile with EdDSA", params: map[string]string{"SigningAlgorithm": "EdDSA"}},
		{name: "DomainName without CertificateArn", params: map[string]string{"DomainName": "auth.example.com"}, rules: []string{"DomainNeedsCertificate"}, deployOnly: true},
		{name: "the mTLS domain with its certificate and truststore", params: map[string]string{"MtlsDomainName": "mtls.example.com",
			"MtlsCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "MtlsTruststoreUri": "s3://bucket/truststore.pem"}},
		{name: "the mTLS domain without its truststore", params: map[string]string{"MtlsDomainName": "mtls.example.com",
			"MtlsCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"}, rules: []string{"MtlsDomainNeedsCertificateAndTruststore"}, deployOnly: true},
		{name: "CloudFront with its origin secret", params: map[string]string{"CloudFront": "true", "OriginSecret": "0123456789abcdef0123456789abcdef"}},
		{name: "CloudFront without an origin secret", params: map[string]string{"CloudFront": "true"}, rules: []string{"CloudFrontNeedsOriginSecret"}, deployOnly: true},
		{name: "CloudFront with DomainName", params: map[string]string{"CloudFront": "true", "OriginSecret": "0123456789abcdef0123456789abcdef", "DomainName": "auth.example.com", "CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"},
			rules: []string{"CloudFrontNeedsOriginSecret"}, deployOnly: true},
		{name: "an origin secret without CloudFront", params: map[string]string{"OriginSecret": "0123456789abcdef0123456789abcdef"}, rules: []string{"OriginSecretOnlyWithCloudFront"}, deployOnly: true},
		{name: "CloudFront outside us-east-1 without WebAclArn", params: map[string]string{"CloudFront": "true", "OriginSecret": "0123456789abcdef0123456789abcdef", "AWS::Region": "eu-west-1"},
			rules: []string{"CloudFrontWebAclOutsideUsEast1"}, deployOnly: true},
		{name: "CloudFront outside us-east-1 with WebAclArn", params: map[string]string{"CloudFront": "true", "OriginSecret": "0123456789abcdef0123456789abcdef", "AWS::Region": "eu-west-1",
			"WebAclArn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"}},
		{name: "a multi-Region table with a witness", params: map[string]string{"ReplicaRegions": "us-east-2", "WitnessRegion": "us-west-2"}},
		{name: "a multi-Region table with three replicas", params: map[string]string{"ReplicaRegions": "us-east-2,us-west-2"}},
		{name: "a witness without ReplicaRegions", params: map[string]string{"WitnessRegion": "us-west-2"}, rules: []string{"WitnessNeedsReplicaRegions"}, deployOnly: true},
		{name: "a latency record for DomainName", params: map[string]string{"HostedZoneId": "Z123", "DomainName": "auth.example.com", "CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x"}},
		{name: "a latency record without DomainName", params: map[string]string{"HostedZoneId": "Z123"}, rules: []string{"LatencyRecordNeedsDomain"}, deployOnly: true},
		{name: "the stack's own KMS key", params: map[string]string{"KmsKey": "create"}},
		{name: "an existing multi-Region KMS key with a multi-Region table", params: map[string]string{"ReplicaRegions": "us-east-2,us-west-2",
			"KmsKey": "arn:aws:kms:us-east-1:1:key/mrk-0123456789abcdef0123456789abcdef"}},
		{name: "the stack's own KMS key with a multi-Region table", params: map[string]string{"KmsKey": "create", "ReplicaRegions": "us-east-2,us-west-2"},
			rules: []string{"KmsKeyCreateIsSingleRegion"}, deployOnly: true},
		{name: "CloudFrontDomainName without its certificate", params: map[string]string{"CloudFront": "true", "OriginSecret": "0123456789abcdef0123456789abcdef", "CloudFrontDomainName": "auth.example.com"},
			rules: []string{"CloudFrontDomainNeedsCertificate"}, deployOnly: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := withParameters(t, tc.params)
			failed := failedRuleNames(t, tmpl)
			if !slices.Equal(failed, tc.rules) {
				t.Errorf("failed rules %v, want %v", failed, tc.rules)
			}
			_, err := startFunctions(t, tmpl)
			switch {
			case tc.deployOnly:
			case len(tc.rules) == 0 && err != nil:
				t.Errorf("the rules accept it, but a function does not start: %v", err)
			case len(tc.rules) > 0 && err == nil:
				t.Errorf("the rules refuse it, but every function starts")
			}
		})
	}
	// Every rule of the template is exercised above.
	tmpl := withParameters(t, nil)
	var names []string
	for name := range tmpl.Rules {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"CloudFrontDomainNeedsCertificate", "CloudFrontNeedsOriginSecret", "CloudFrontWebAclOutsideUsEast1",
		"DomainNeedsCertificate", "Fapi2CodeLifetime", "Fapi2ParExpiresIn", "Fapi2SigningAlgorithm", "KmsKeyCreateIsSingleRegion", "LatencyRecordNeedsDomain", "MtlsDomainNeedsCertificateAndTruststore",
		"OriginSecretOnlyWithCloudFront", "WitnessNeedsReplicaRegions"}
	for _, name := range want {
		if !slices.Contains(names, name) {
			t.Errorf("template.yaml has no rule %s (rules: %v)", name, names)
		}
	}
	for _, name := range names {
		if !slices.Contains(want, name) {
			t.Errorf("rule %s is not exercised by this test", name)
		}
	}
}

// The evaluator of the template's one-line intrinsics, on a template of its own.
func TestTemplate_EvaluatesConditionsAndRules(t *testing.T) {
	tmpl, err := stack.ParseTemplate([]byte(`Parameters:
  Mode:
    Default: a
  Count:
    Type: Number
    Default: 3
Rules:
  SmallInB:
    RuleCondition: !Equals [!Ref Mode, b]
    Assertions:
      - Assert: !Contains [["1", "2"], !Ref Count]
        AssertDescription: Count of at most 2 with b
      - Assert: !Not [!Equals [!Ref Count, "0"]]
        AssertDescription: never 0
Conditions:
  IsB: !Equals [!Ref Mode, b]
  IsBOrC: !Or [!Condition IsB, !Equals [!Ref Mode, c]]
Globals:
  Function:
    Environment:
      Variables:
        PICK: !If [IsBOrC, "yes", !Ref Mode]
        BOTH: !If [IsB, !If [IsBOrC, 1, 2], 'q']
`))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.LogicalIDs["x"] = "XFunction"
	for _, tc := range []struct {
		mode, count, pick, both string
		failed                  []string
	}{
		{"a", "3", "a", "q", nil},
		{"b", "3", "yes", "1", []string{"SmallInB: Count of at most 2 with b"}},
		{"b", "0", "yes", "1", []string{"SmallInB: Count of at most 2 with b", "SmallInB: never 0"}},
		{"c", "2", "yes", "q", nil},
	} {
		c, err := tmpl.WithParameters(map[string]string{"Mode": tc.mode, "Count": tc.count})
		if err != nil {
			t.Fatal(err)
		}
		failed, err := c.FailedRules()
		if err != nil || !slices.Equal(failed, tc.failed) {
			t.Errorf("Mode=%s Count=%s: failed %v %v, want %v", tc.mode, tc.count, failed, err, tc.failed)
		}
		fn, err := c.Function("x", nil)
		if err != nil || fn.Env["PICK"] != tc.pick || fn.Env["BOTH"] != tc.both {
			t.Errorf("Mode=%s: env %v %v, want PICK=%s BOTH=%s", tc.mode, fn.Env, err, tc.pick, tc.both)
		}
	}
	if _, err := tmpl.WithParameters(map[string]string{"Nope": "1"}); err == nil {
		t.Error("an unknown parameter was accepted")
	}
	if _, err := tmpl.Eval("!Sub [x]"); err == nil {
		t.Error("!Sub was evaluated")
	}
}
