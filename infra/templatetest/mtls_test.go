package templatetest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/config"
)

// TestMtlsDomain_ServesTheAPIWithMutualTLS (RFC 8705 §5): MtlsDomainName adds a
// regional custom domain with mutual TLS against the truststore, mapped to the same
// API and stage, only when set; the rule requires its certificate and truststore;
// the functions get the domain, from which they publish mtls_endpoint_aliases.
func TestMtlsDomain_ServesTheAPIWithMutualTLS(t *testing.T) {
	res := resources(t)
	domain, mapping := res["MtlsApiDomain"], res["MtlsApiDomainMapping"]
	if domain == nil || mapping == nil {
		t.Fatal("template.yaml has no MtlsApiDomain and MtlsApiDomainMapping")
	}
	want := map[*resource]map[string]string{
		domain: {"Type": "AWS::ApiGatewayV2::DomainName", "Condition": "HasMtlsDomain", "DomainName": "!Ref MtlsDomainName",
			"- CertificateArn": "!Ref MtlsCertificateArn", "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2",
			"TruststoreUri": "!Ref MtlsTruststoreUri"},
		mapping: {"Type": "AWS::ApiGatewayV2::ApiMapping", "Condition": "HasMtlsDomain", "DomainName": "!Ref MtlsApiDomain",
			"ApiId": "!Ref HttpApi", "Stage": "$default"},
	}
	for r, kv := range want {
		for k, v := range kv {
			if got, ok := r.value(k); !ok || got != v {
				t.Errorf("%s %s = %q, want %q", r.id, k, got, v)
			}
		}
	}
	text := templateText(t)
	for _, s := range []string{
		`HasMtlsDomain: !Not [!Equals [!Ref MtlsDomainName, ""]]`,
		`RuleCondition: !Not [!Equals [!Ref MtlsDomainName, ""]]`,
		`Assert: !Not [!Equals [!Ref MtlsCertificateArn, ""]]`,
		`Assert: !Not [!Equals [!Ref MtlsTruststoreUri, ""]]`,
		`Value: !GetAtt MtlsApiDomain.RegionalDomainName`,
	} {
		if !strings.Contains(text, s) {
			t.Errorf("template.yaml lacks %s", s)
		}
	}

	// The functions' environment as the template renders it, with and without the
	// domain, starts a configuration that publishes the aliases only with it.
	tpl, err := stack.LoadTemplate(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Global.Env["MTLS_DOMAIN_NAME"] != "!Ref MtlsDomainName" {
		t.Fatalf("Globals MTLS_DOMAIN_NAME = %q", tpl.Global.Env["MTLS_DOMAIN_NAME"])
	}
	supplied := map[string]string{"ISSUER": "https://auth.example.com", "TABLE_NAME": "t", "KEYS_SECRET_ID": "k", "COOKIE_SECRET_ID": "c", "DPOP_NONCE_SECRET_ID": "d", "PUBLIC_KEYS_SECRET_ID": "p"}
	for domainName, base := range map[string]string{"": "", "mtls.auth.example.com": "https://mtls.auth.example.com"} {
		tpl.Parameters["MtlsDomainName"] = domainName
		for _, dir := range stack.HTTPFunctions {
			fn, err := tpl.Function(dir, supplied)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.FromEnv(func(n string) string { return fn.Env[n] }, "TABLE_NAME")
			if err != nil {
				t.Fatalf("%s with MtlsDomainName=%q: %v", dir, domainName, err)
			}
			if cfg.MTLSBaseURL != base {
				t.Errorf("%s with MtlsDomainName=%q: mTLS base %q, want %q", dir, domainName, cfg.MTLSBaseURL, base)
			}
		}
	}
}
