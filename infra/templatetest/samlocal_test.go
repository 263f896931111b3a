package templatetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

// TestSamLocalEnv_MatchesTheTemplate: infra/sam-local/env.json (sam local --env-vars)
// sets only variables the template declares - SAM silently drops any other - and sets
// every variable whose value in AWS is a stack resource or pseudo parameter, which sam
// local cannot resolve, plus AWS_ENDPOINT_URL, without which the functions would call
// the real AWS.
func TestSamLocalEnv_MatchesTheTemplate(t *testing.T) {
	root := filepath.Join("..", "..")
	tpl, err := stack.LoadTemplate(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "infra", "sam-local", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("infra/sam-local/env.json: %v", err)
	}
	global, ok := env["Parameters"]
	if !ok {
		t.Fatal(`infra/sam-local/env.json: no "Parameters" (the variables of every function)`)
	}
	for name := range global {
		if _, ok := tpl.Global.Env[name]; !ok {
			t.Errorf("env.json Parameters.%s: not a variable of Globals.Function in template.yaml", name)
		}
	}
	for section, vars := range env {
		if section == "Parameters" {
			continue
		}
		spec, ok := tpl.Functions[section]
		if !ok {
			t.Errorf("env.json %s: no such function in template.yaml", section)
			continue
		}
		for name := range vars {
			_, own := spec.Env[name]
			_, glob := tpl.Global.Env[name]
			if !own && !glob {
				t.Errorf("env.json %s.%s: not a variable of that function in template.yaml", section, name)
			}
		}
	}
	var missing []string
	for name, raw := range tpl.Global.Env {
		if _, set := global[name]; set {
			continue
		}
		if name == "AWS_ENDPOINT_URL" || (strings.HasPrefix(raw, "!") && !resolvesFromParameters(tpl, raw)) {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("env.json Parameters lacks %v (values sam local cannot resolve from the template)", missing)
	}
}

// resolvesFromParameters reports whether raw is "!Ref P" of a template parameter, or
// an !If over the template's Conditions of such values (REQUIRE_PAR), which sam
// local resolves itself (from --parameter-overrides or the Default; its intrinsic
// resolver evaluates Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition). A
// reference to a resource (!Sub "${HttpApi}…") is not.
func resolvesFromParameters(tpl *stack.Template, raw string) bool {
	v, err := tpl.Eval(raw)
	if err != nil {
		return false
	}
	_, ok := v.(string)
	return ok
}
