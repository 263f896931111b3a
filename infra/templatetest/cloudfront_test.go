package templatetest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
)

// text is the resource's lines as one text.
func (r *resource) text() string { return strings.Join(r.body, "\n") }

// section is the top-level section name of template.yaml (Parameters:, Rules:, …) up
// to the next top-level key.
func section(tb testing.TB, text, name string) string {
	tb.Helper()
	start := strings.Index(text, "\n"+name+":\n")
	if start < 0 {
		tb.Fatalf("template.yaml: no %s section", name)
	}
	rest := text[start+len(name)+3:]
	if end := regexp.MustCompile(`(?m)^\S`).FindStringIndex(rest); end != nil {
		rest = rest[:end[0]]
	}
	return rest
}

// entry is the two-space-indented key name of a section with the lines under it.
func entry(tb testing.TB, sec, name string) string {
	tb.Helper()
	start := strings.Index(sec, "\n  "+name+":\n")
	if start < 0 && strings.HasPrefix(sec, "  "+name+":\n") {
		start = -1
	} else if start < 0 {
		tb.Fatalf("template.yaml: no %s", name)
	}
	rest := sec[start+1:]
	lines := strings.SplitAfter(rest, "\n")
	out := lines[0]
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "   ") || strings.TrimSpace(l) == "" || strings.HasPrefix(l, "  #") {
			out += l
			continue
		}
		break
	}
	return out
}

// TestCloudFront_OptionalAndOffByDefault: the distribution, its policies and the web
// ACL exist only with CloudFront=true, which is not the default; the stack's own web
// ACL only without WebAclArn (CLOUDFRONT-scope web ACLs can be created in us-east-1
// only, and a rule makes WebAclArn required elsewhere).
func TestCloudFront_OptionalAndOffByDefault(t *testing.T) {
	text := templateText(t)
	params := section(t, text, "Parameters")
	if p := entry(t, params, "CloudFront"); !strings.Contains(p, `Default: "false"`) {
		t.Errorf("parameter CloudFront: want Default \"false\"\n%s", p)
	}
	if p := entry(t, params, "OriginSecret"); !strings.Contains(p, "NoEcho: true") || !strings.Contains(p, `Default: ""`) {
		t.Errorf("parameter OriginSecret: want NoEcho and an empty default\n%s", p)
	}
	conds := section(t, text, "Conditions")
	for _, want := range []string{
		`UseCloudFront: !Equals [!Ref CloudFront, "true"]`,
		`CreateWebAcl: !And [!Condition UseCloudFront, !Equals [!Ref WebAclArn, ""]]`,
	} {
		if !strings.Contains(conds, want) {
			t.Errorf("Conditions: no %q", want)
		}
	}
	res := resources(t)
	for id, cond := range map[string]string{
		"Distribution": "UseCloudFront", "CloudFrontCachePolicy": "UseCloudFront",
		"CloudFrontOriginRequestPolicy": "UseCloudFront", "WebAcl": "CreateWebAcl",
	} {
		r, ok := res[id]
		if !ok {
			t.Errorf("no resource %s", id)
			continue
		}
		if got, _ := r.value("Condition"); got != cond {
			t.Errorf("%s: Condition %q, want %q", id, got, cond)
		}
	}
	rules := section(t, text, "Rules")
	outside := entry(t, rules, "CloudFrontWebAclOutsideUsEast1")
	for _, want := range []string{`!Equals [!Ref CloudFront, "true"]`, `!Not [!Equals [!Ref "AWS::Region", us-east-1]]`, `!Not [!Equals [!Ref WebAclArn, ""]]`} {
		if !strings.Contains(outside, want) {
			t.Errorf("rule CloudFrontWebAclOutsideUsEast1: no %q\n%s", want, outside)
		}
	}
	if d := res["Distribution"].text(); !strings.Contains(d, "WebACLId: !If [CreateWebAcl, !GetAtt WebAcl.Arn, !Ref WebAclArn]") {
		t.Errorf("Distribution: the web ACL is not the stack's own or WebAclArn\n%s", d)
	}
}

// TestCloudFront_OriginSecretGuardsTheAPI: CloudFront sends the origin secret in the
// header the functions check (pkg/awsapp OriginSecretHeader), the functions get the
// same parameter in the variable they read (OriginSecretEnv), and rules keep the two
// together: CloudFront needs the secret, the secret needs CloudFront (else every
// request would be refused), and the API's own custom domain (which would serve it
// around the web ACL) is not used with CloudFront.
func TestCloudFront_OriginSecretGuardsTheAPI(t *testing.T) {
	text := templateText(t)
	d := resources(t)["Distribution"].text()
	header := regexp.MustCompile(`- HeaderName: (\S+)\n\s+HeaderValue: !Ref OriginSecret`).FindStringSubmatch(d)
	if header == nil || header[1] != awsapp.OriginSecretHeader {
		t.Errorf("Distribution: no origin custom header %s: !Ref OriginSecret (got %v)", awsapp.OriginSecretHeader, header)
	}
	if !strings.Contains(d, `DomainName: !Sub "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"`) {
		t.Error("Distribution: the origin is not the API's execute-api URL")
	}
	globals := section(t, text, "Globals")
	if !strings.Contains(globals, "\n        "+awsapp.OriginSecretEnv+": !Ref OriginSecret\n") {
		t.Errorf("Globals: no %s: !Ref OriginSecret for the functions", awsapp.OriginSecretEnv)
	}
	rules := section(t, text, "Rules")
	needs := entry(t, rules, "CloudFrontNeedsOriginSecret")
	for _, want := range []string{`!Not [!Equals [!Ref OriginSecret, ""]]`, `!Equals [!Ref DomainName, ""]`} {
		if !strings.Contains(needs, want) {
			t.Errorf("rule CloudFrontNeedsOriginSecret: no %q", want)
		}
	}
	if only := entry(t, rules, "OriginSecretOnlyWithCloudFront"); !strings.Contains(only, `!Equals [!Ref CloudFront, "true"]`) {
		t.Errorf("rule OriginSecretOnlyWithCloudFront does not require CloudFront=true\n%s", only)
	}
	pattern := regexp.MustCompile(`\{(\d+),`).FindStringSubmatch(entry(t, section(t, text, "Parameters"), "OriginSecret"))
	if pattern == nil || pattern[1] != "32" || awsapp.MinOriginSecretLength != 32 {
		t.Errorf("OriginSecret's AllowedPattern minimum %v, awsapp.MinOriginSecretLength %d: want both 32", pattern, awsapp.MinOriginSecretLength)
	}
}

// TestCloudFront_ForwardsWhatTheFlowNeeds: the cache policy forwards Authorization
// (only a cache policy can), every cookie (the transaction cookie at /authorize) and
// every query string; the origin request policy the headers the functions read -
// DPoP at /par, /token and /userinfo, Content-Type of the forms - and the viewer
// address pkg/awsapp takes the client IP from, but never Host (the origin answers to
// its own name; the issuer is ISSUER, never Host). Nothing is cached longer than 1 s,
// and the viewer is never offered http.
func TestCloudFront_ForwardsWhatTheFlowNeeds(t *testing.T) {
	res := resources(t)
	headers := func(id string) []string {
		m := regexp.MustCompile(`Headers: \[([^\]]*)\]`).FindStringSubmatch(res[id].text())
		if m == nil {
			t.Fatalf("%s: no Headers list", id)
		}
		return strings.Split(m[1], ", ")
	}
	cache := res["CloudFrontCachePolicy"].text()
	if h := headers("CloudFrontCachePolicy"); !slices.Contains(h, "Authorization") {
		t.Errorf("cache policy headers %v: no Authorization", h)
	}
	for _, want := range []string{"CookieBehavior: all", "QueryStringBehavior: all", "DefaultTTL: 0", "MaxTTL: 1"} {
		if !strings.Contains(cache, want) {
			t.Errorf("cache policy: no %q", want)
		}
	}
	origin := res["CloudFrontOriginRequestPolicy"].text()
	h := headers("CloudFrontOriginRequestPolicy")
	for _, want := range []string{"DPoP", "Content-Type", "Accept", awsapp.ViewerAddressHeader} {
		if !slices.Contains(h, want) {
			t.Errorf("origin request policy headers %v: no %s", h, want)
		}
	}
	if slices.ContainsFunc(h, func(s string) bool { return strings.EqualFold(s, "Host") }) || strings.Contains(origin, "allViewer") {
		t.Errorf("origin request policy forwards Host: %v", h)
	}
	for _, want := range []string{"CookieBehavior: all", "QueryStringBehavior: all"} {
		if !strings.Contains(origin, want) {
			t.Errorf("origin request policy: no %q", want)
		}
	}
	d := res["Distribution"].text()
	for _, want := range []string{"ViewerProtocolPolicy: https-only", "OriginProtocolPolicy: https-only",
		"AllowedMethods: [GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE]"} {
		if !strings.Contains(d, want) {
			t.Errorf("Distribution: no %q", want)
		}
	}
}

// TestCloudFront_IssuerIsTheDistribution: with CloudFront the issuer (the functions'
// ISSUER and the Issuer and DiscoveryUrl outputs) is CloudFrontDomainName or the
// distribution's own name, unless Issuer is set - the URL clients reach, which the
// DPoP proofs' htu and the tokens' iss must match.
func TestCloudFront_IssuerIsTheDistribution(t *testing.T) {
	text := templateText(t)
	branch := `- UseCloudFront
` + `\s+- !If \[HasCloudFrontDomain, !Sub "https://\$\{CloudFrontDomainName\}", !Sub "https://\$\{Distribution.DomainName\}"\]`
	if n := len(regexp.MustCompile(branch).FindAllString(text, -1)); n != 3 {
		t.Errorf("the CloudFront branch of the issuer is in %d places, want 3 (Globals ISSUER, Outputs Issuer and DiscoveryUrl)", n)
	}
	iss := section(t, text, "Globals")
	if i, j := strings.Index(iss, "- HasIssuer"), strings.Index(iss, "- UseCloudFront"); i < 0 || j < i {
		t.Error("Globals ISSUER: Issuer must win over the CloudFront name")
	}
}

// TestWebAcl_RateLimitsAndManagedRules: per-IP rate-based rules for /authorize, /par
// and /token, and for /logout and /federation/callback under /authorize's limit (they
// make outbound calls: back-channel logout, the upstream's token endpoint), on the
// decoded, lower-cased path's prefix, each limit a parameter,
// answered 429 with Retry-After; then the AWS
// managed common rule set, with only the rules that refuse legitimate OAuth traffic
// counted.
func TestWebAcl_RateLimitsAndManagedRules(t *testing.T) {
	acl := resources(t)["WebAcl"].text()
	if !strings.Contains(acl, "Scope: CLOUDFRONT") {
		t.Error("WebAcl: not CLOUDFRONT scope")
	}
	params := section(t, templateText(t), "Parameters")
	rule := regexp.MustCompile(`(?s)- Name: (\S+)\n\s+Priority: \d+\n\s+Statement:\n\s+RateBasedStatement:\n\s+Limit: !Ref (\w+)\n\s+EvaluationWindowSec: 300\n\s+AggregateKeyType: IP\n.*?SearchString: (\S+)\n.*?ResponseCode: 429\n.*?Name: Retry-After`)
	got := map[string]string{}
	for _, m := range rule.FindAllStringSubmatch(acl, -1) {
		got[m[3]] = m[2]
		entry(t, params, m[2]) // the limit is a parameter
	}
	for path, param := range map[string]string{"/authorize": "WafAuthorizeRateLimit", "/par": "WafParRateLimit", "/token": "WafTokenRateLimit",
		"/logout": "WafAuthorizeRateLimit", "/federation/callback": "WafAuthorizeRateLimit"} {
		if got[path] != param {
			t.Errorf("WebAcl: the per-IP rate rule of %s has limit %q, want !Ref %s", path, got[path], param)
		}
	}
	// A rate rule on the exact path would miss /Authorize, /%61uthorize, /authorize/.
	for _, want := range []string{"PositionalConstraint: STARTS_WITH", "{ Priority: 0, Type: URL_DECODE }, { Priority: 1, Type: LOWERCASE }"} {
		if n := strings.Count(acl, want); n != 5 {
			t.Errorf("WebAcl: %q in %d rate rules, want all 5", want, n)
		}
	}
	if !strings.Contains(acl, "Name: AWSManagedRulesCommonRuleSet") || !strings.Contains(acl, "VendorName: AWS") {
		t.Error("WebAcl: no AWS managed common rule set")
	}
	counted := regexp.MustCompile(`- Name: (\w+)\n\s+ActionToUse: \{ Count: \{\} \}`).FindAllStringSubmatch(acl, -1)
	var names []string
	for _, m := range counted {
		names = append(names, m[1])
	}
	if want := []string{"SizeRestrictions_BODY", "GenericRFI_BODY", "GenericRFI_QUERYARGUMENTS"}; !slices.Equal(names, want) {
		t.Errorf("managed rules counted instead of blocking: %v, want %v", names, want)
	}
}

// TestWebAcl_SameRulesInBothTemplates: infra/waf/web-acl.yaml, deployed in us-east-1
// for stacks elsewhere, has template.yaml's web ACL and limit parameters.
func TestWebAcl_SameRulesInBothTemplates(t *testing.T) {
	text := templateText(t)
	begin, end := strings.Index(text, "  # WEB-ACL-BEGIN"), strings.Index(text, "  # WEB-ACL-END")
	if begin < 0 || end < begin {
		t.Fatal("template.yaml: no WEB-ACL-BEGIN ... WEB-ACL-END block")
	}
	block := text[begin:end]
	block = block[strings.Index(block, "\n")+1:]
	block = strings.Replace(block, "    Condition: CreateWebAcl\n", "", 1)
	data, err := os.ReadFile(filepath.Join("..", "..", "infra", "waf", "web-acl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	standalone := string(data)
	if !strings.Contains(standalone, "\nResources:\n"+block) {
		t.Error("infra/waf/web-acl.yaml: its Resources are not template.yaml's WebAcl (without the Condition)")
	}
	params, own := section(t, text, "Parameters"), section(t, standalone, "Parameters")
	for _, name := range []string{"WafAuthorizeRateLimit", "WafParRateLimit", "WafTokenRateLimit"} {
		if entry(t, params, name) != entry(t, own, name) {
			t.Errorf("parameter %s differs between template.yaml and infra/waf/web-acl.yaml", name)
		}
	}
}
