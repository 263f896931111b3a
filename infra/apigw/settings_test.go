package apigw

import (
	"path/filepath"
	"testing"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

// TestSettings_ProcessEnvironmentAndParameterOverridesReachTheFunctions: as with
// `sam local --env-vars` and `--parameter-overrides`, a template variable set in the
// environment replaces the template's value (other names are not added), and
// parameters come from samconfig.toml's default environment, then
// PARAMETER_OVERRIDES.
func TestSettings_ProcessEnvironmentAndParameterOverridesReachTheFunctions(t *testing.T) {
	root := filepath.Join("..", "..")
	tmpl, err := stack.LoadTemplate(root)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"REQUIRE_PAR": "true", "PAR_EXPIRES_IN": "30", "NOT_A_TEMPLATE_VARIABLE": "x"}
	overrides := envOverrides(tmpl, func(name string) string { return env[name] })
	if overrides["REQUIRE_PAR"] != "true" || overrides["PAR_EXPIRES_IN"] != "30" || overrides["NOT_A_TEMPLATE_VARIABLE"] != "" {
		t.Fatalf("overrides %v", overrides)
	}
	params, err := parameterOverrides(root, "LogLevel=debug Profile=fapi2")
	if err != nil {
		t.Fatal(err)
	}
	if params["RequirePar"] != "false" || params["LogLevel"] != "debug" || params["Profile"] != "fapi2" {
		t.Errorf("parameters %v: want samconfig.toml's default RequirePar=false, then the overrides", params)
	}
	if _, err := parameterOverrides(root, "nope"); err == nil {
		t.Error("an override without = was accepted")
	}
	for name, v := range params {
		tmpl.Parameters[name] = v
	}
	a := &stack.AWS{Template: tmpl, Issuer: "http://127.0.0.1:3000", Overrides: overrides}
	fn, err := a.Function("par", "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Env["REQUIRE_PAR"] != "true" || fn.Env["PAR_EXPIRES_IN"] != "30" || fn.Env["LOG_LEVEL"] != "debug" || fn.Env["PROFILE"] != "fapi2" || fn.Env["ISSUER"] != "http://127.0.0.1:3000" {
		t.Errorf("par's environment %v", fn.Env)
	}
	if _, ok := fn.Env["NOT_A_TEMPLATE_VARIABLE"]; ok {
		t.Error("a variable the template does not give the function was added")
	}
}

// TestSettings_AVariableOfAParameterSetsTheParameter: PROFILE=fapi2 in the
// environment, as `make run` takes it, sets the Profile parameter behind it, so that
// REQUIRE_PAR (!If [IsFapi2, "true", !Ref RequirePar]) follows; a variable that is
// not a plain !Ref sets no parameter.
func TestSettings_AVariableOfAParameterSetsTheParameter(t *testing.T) {
	tmpl, err := stack.LoadTemplate(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PROFILE": "fapi2", "REQUIRE_PAR": "true"}
	params := envParameters(tmpl, func(name string) string { return env[name] })
	if len(params) != 1 || params["Profile"] != "fapi2" {
		t.Fatalf("parameters %v, want Profile=fapi2 only", params)
	}
	for name, v := range params {
		tmpl.Parameters[name] = v
	}
	a := &stack.AWS{Template: tmpl, Issuer: "http://127.0.0.1:3000", Overrides: map[string]string{"PROFILE": "fapi2"}}
	fn, err := a.Function("par", "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Env["REQUIRE_PAR"] != "true" {
		t.Errorf("REQUIRE_PAR = %q under PROFILE=fapi2, want true", fn.Env["REQUIRE_PAR"])
	}
}
