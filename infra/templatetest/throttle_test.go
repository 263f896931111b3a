package templatetest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// requestsPerFlow is what one complete flow (push, authorize, login, consent,
// approve, token) sends each throttled route: the figures README "Deploy" and the
// ThrottleTiers comment write down. Default is every route without a limit of its
// own (revoke, introspect, userinfo, discovery, jwks), at most one request a flow.
var requestsPerFlow = map[string]int{
	"Par":           1,
	"AuthorizeGet":  2,
	"AuthorizePost": 2,
	"Token":         1,
	"Default":       1,
}

// Each route's rate is twice its requests per flow at the peak, each burst twice
// the rate.
const headroom = 2

func templateText(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// throttleTiers reads Mappings ThrottleTiers: one flow-style line per tier.
func throttleTiers(tb testing.TB) map[int]map[string]int {
	tb.Helper()
	row := regexp.MustCompile(`(?m)^    "(\d+)": \{ (.*) \}$`)
	text := templateText(tb)
	start := strings.Index(text, "\n  ThrottleTiers:\n")
	if start < 0 {
		tb.Fatal("template.yaml: no Mappings ThrottleTiers")
	}
	block := text[start+len("\n  ThrottleTiers:\n"):]
	if end := regexp.MustCompile(`(?m)^(  \S|\S)`).FindStringIndex(block); end != nil {
		block = block[:end[0]]
	}
	tiers := map[int]map[string]int{}
	for _, m := range row.FindAllStringSubmatch(block, -1) {
		flows, _ := strconv.Atoi(m[1])
		tiers[flows] = map[string]int{}
		for _, kv := range strings.Split(m[2], ", ") {
			k, v, ok := strings.Cut(kv, ": ")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				tb.Fatalf("ThrottleTiers %q: entry %q is not Name: number", m[1], kv)
			}
			tiers[flows][k] = n
		}
	}
	if len(tiers) == 0 {
		tb.Fatal("ThrottleTiers has no rows")
	}
	return tiers
}

// TestThrottleTiers_FollowFromTheRequestsPerFlow: every tier of ExpectedPeakFlowsPerSecond
// is requests per flow x flows x headroom, for every throttled route, and every value
// the parameter allows has a tier.
func TestThrottleTiers_FollowFromTheRequestsPerFlow(t *testing.T) {
	tiers := throttleTiers(t)
	for flows, row := range tiers {
		if len(row) != 2*len(requestsPerFlow) {
			t.Errorf("tier %d has %d entries, want a rate and a burst for each of %d routes", flows, len(row), len(requestsPerFlow))
		}
		for route, n := range requestsPerFlow {
			if want := n * flows * headroom; row[route] != want {
				t.Errorf("tier %d: %s = %d, want %d requests/flow x %d flows/s x %d = %d", flows, route, row[route], n, flows, headroom, want)
			}
			if want := row[route] * headroom; row[route+"Burst"] != want {
				t.Errorf("tier %d: %sBurst = %d, want %d", flows, route, row[route+"Burst"], want)
			}
		}
	}
	allowed := regexp.MustCompile(`(?m)^  ExpectedPeakFlowsPerSecond:\n(?:    .*\n)*?    AllowedValues: \[(.*)\]`).FindStringSubmatch(templateText(t))
	if allowed == nil {
		t.Fatal("ExpectedPeakFlowsPerSecond has no AllowedValues")
	}
	var values []int
	for _, v := range strings.Split(allowed[1], ",") {
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(v), `"`))
		if err != nil {
			t.Fatalf("AllowedValues entry %q", v)
		}
		values = append(values, n)
		if tiers[n] == nil {
			t.Errorf("ExpectedPeakFlowsPerSecond allows %d, which has no ThrottleTiers row", n)
		}
	}
	for flows := range tiers {
		if !slices.Contains(values, flows) {
			t.Errorf("ThrottleTiers row %d is not an allowed ExpectedPeakFlowsPerSecond", flows)
		}
	}
}

// TestStage_RouteThrottlesComeFromTheTier: the stage sizes /par, /token, both
// /authorize routes and the default from the tier (a per-route parameter may override
// /par, /token and the default), and names only routes the API has.
func TestStage_RouteThrottlesComeFromTheTier(t *testing.T) {
	res := resources(t)
	stage := res["HttpApiStage"]
	if stage == nil {
		t.Fatal("template.yaml has no HttpApiStage")
	}
	routes := map[string]bool{}
	for _, r := range res {
		if v, ok := r.value("RouteKey"); ok && r.typ == "AWS::ApiGatewayV2::Route" {
			routes[v] = true
		}
	}
	settings := map[string][2]string{}
	var cur string
	for _, line := range stage.body {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "DefaultRouteSettings:":
			cur = "Default"
		case strings.HasPrefix(line, "        \"") && strings.HasSuffix(trimmed, ":"):
			cur = strings.Trim(strings.TrimSuffix(trimmed, ":"), `"`)
		case strings.HasPrefix(trimmed, "ThrottlingRateLimit:"), strings.HasPrefix(trimmed, "ThrottlingBurstLimit:"):
			s := settings[cur]
			if strings.HasPrefix(trimmed, "ThrottlingRateLimit:") {
				s[0] = trimmed
			} else {
				s[1] = trimmed
			}
			settings[cur] = s
		}
	}
	want := map[string]string{
		"Default":         "Default",
		"ANY /par":        "Par",
		"ANY /token":      "Token",
		"GET /authorize":  "AuthorizeGet",
		"POST /authorize": "AuthorizePost",
	}
	for route, tier := range want {
		s, ok := settings[route]
		if !ok {
			t.Errorf("HttpApiStage has no throttle for %s", route)
			continue
		}
		if !strings.Contains(s[0], "!FindInMap [ThrottleTiers, !Ref ExpectedPeakFlowsPerSecond, "+tier+"]") {
			t.Errorf("%s: %s, want the rate from ThrottleTiers %s", route, s[0], tier)
		}
		if !strings.Contains(s[1], "!FindInMap [ThrottleTiers, !Ref ExpectedPeakFlowsPerSecond, "+tier+"Burst]") {
			t.Errorf("%s: %s, want the burst from ThrottleTiers %sBurst", route, s[1], tier)
		}
	}
	for route := range settings {
		if route != "Default" && !routes[route] {
			t.Errorf("HttpApiStage throttles %q, which is not a route of the API", route)
		}
	}
}
