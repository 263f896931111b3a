package stack_test

// The Lambda contract of the real binaries: each function's bootstrap, built as the
// Makefile builds it for sam, is run under the local Runtime API on events/*.json,
// against DynamoDB and Secrets Manager on moto_server - what `sam local invoke -e`
// does, without Docker.

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pargate/pargate/infra/lambdaemu"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

func event(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(tb), "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// invoke runs events/<name> through fn and decodes the payload 2.0 response.
func invoke(tb testing.TB, fn *stack.Function, name string) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	raw, err := fn.Invoke(context.Background(), event(tb, name))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return response(tb, name, raw)
}

// response decodes a function's answer to what (the event) into the payload 2.0
// response, its body base64-decoded where API Gateway would decode it.
func response(tb testing.TB, what string, raw []byte) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		tb.Fatalf("%s: response %s: %v", what, raw, err)
	}
	if resp.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body, resp.IsBase64Encoded = string(body), false
	}
	return resp
}

func wantStatus(tb testing.TB, resp events.APIGatewayV2HTTPResponse, status int) {
	tb.Helper()
	if resp.StatusCode != status {
		tb.Fatalf("status = %d, want %d; headers %v; body %s", resp.StatusCode, status, resp.Headers, resp.Body)
	}
}

func decodeJSON(tb testing.TB, resp events.APIGatewayV2HTTPResponse) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		tb.Fatalf("body %q: %v", resp.Body, err)
	}
	return m
}

// wantNoInitCalls: a cold start makes no AWS call - keys and the cookie key are
// read on first use - so init stays fast and never fails on a slow dependency.
func wantNoInitCalls(tb testing.TB, fn *stack.Function) {
	tb.Helper()
	if err := fn.WaitInit(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if ops := fn.AWS.Operations(); len(ops) > 0 {
		tb.Errorf("init made AWS calls: %v", ops)
	}
}

// startCold starts the function's bootstrap and wants its init to make no AWS call.
func startCold(tb testing.TB, name string) *stack.Function {
	tb.Helper()
	fn := start(tb, name)
	wantNoInitCalls(tb, fn)
	return fn
}

// invokeWant invokes fn with events/<name> and wants the status.
func invokeWant(tb testing.TB, fn *stack.Function, name string, status int) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	resp := invoke(tb, fn, name)
	wantStatus(tb, resp, status)
	return resp
}

// wantOnly fails if fn called an AWS operation whose target does not start with
// one of prefixes (e.g. no secretsmanager. for /par).
func wantOnly(tb testing.TB, fn *stack.Function, prefixes ...string) {
	tb.Helper()
	ops := fn.AWS.Operations()
	if len(ops) == 0 {
		tb.Error("no AWS call went through the local endpoint: is AWS_ENDPOINT_URL honoured?")
	}
	tb.Logf("AWS calls: %v", ops)
	for _, op := range ops {
		if !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(op, p) }) {
			tb.Errorf("unexpected AWS call %s", op)
		}
	}
}

// TestFunctions_ServeTheRecordedEvents: each HTTP function's bootstrap answers its
// events/*.json as API Gateway expects, cold and then warm.
func TestFunctions_ServeTheRecordedEvents(t *testing.T) {
	t.Run("par", func(t *testing.T) {
		t.Parallel()
		fn := startCold(t, "par")
		for _, name := range []string{"par.json", "par-base64.json"} {
			resp := invokeWant(t, fn, name, http.StatusCreated)
			body := decodeJSON(t, resp)
			if uri, _ := body["request_uri"].(string); !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
				t.Errorf("%s: request_uri = %v", name, body["request_uri"])
			}
			if n, _ := body["expires_in"].(float64); n <= 0 {
				t.Errorf("%s: expires_in = %v", name, body["expires_in"])
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("%s: Cache-Control = %q", name, resp.Headers["Cache-Control"])
			}
		}
		resp := invokeWant(t, fn, "par-get.json", http.StatusMethodNotAllowed)
		if resp.Headers["Allow"] != http.MethodPost {
			t.Errorf("par-get.json: Allow = %q, want POST", resp.Headers["Allow"])
		}
		// /par reads the client and stores the request; it never needs a secret.
		wantOnly(t, fn, "DynamoDB_20120810.")
	})

	t.Run("discovery", func(t *testing.T) {
		t.Parallel()
		fn := startCold(t, "discovery")
		resp := invokeWant(t, fn, "discovery.json", http.StatusOK)
		meta := decodeJSON(t, resp)
		if meta["issuer"] != stack.EventsIssuer {
			t.Errorf("issuer = %v, want %s", meta["issuer"], stack.EventsIssuer)
		}
		if meta["pushed_authorization_request_endpoint"] != stack.EventsIssuer+"/par" {
			t.Errorf("pushed_authorization_request_endpoint = %v", meta["pushed_authorization_request_endpoint"])
		}

		resp = invokeWant(t, fn, "jwks.json", http.StatusOK)
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &set); err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range set.Keys {
			if _, private := k["d"]; private {
				t.Errorf("JWKS publishes a private key: %v", k["kid"])
			}
			kid, _ := k["kid"].(string)
			kids = append(kids, kid)
		}
		if want := setup(t).Keys.KeyIDs(); !slices.Equal(kids, want) {
			t.Errorf("JWKS kids = %v, want the secret's %v", kids, want)
		}
		wantOnly(t, fn, "secretsmanager.GetSecretValue")
	})

	t.Run("token", func(t *testing.T) {
		t.Parallel()
		fn := startCold(t, "token")
		resp := invokeWant(t, fn, "token.json", http.StatusBadRequest)
		if body := decodeJSON(t, resp); body["error"] != "invalid_grant" {
			t.Errorf("error = %v, want invalid_grant", body["error"])
		}
		if resp.Headers["Cache-Control"] != "no-store" {
			t.Errorf("Cache-Control = %q", resp.Headers["Cache-Control"])
		}
		wantOnly(t, fn, "DynamoDB_20120810.", "secretsmanager.GetSecretValue")
	})

	t.Run("authorize", func(t *testing.T) {
		t.Parallel()
		fn := startCold(t, "authorize")
		resp := invokeWant(t, fn, "authorize.json", http.StatusBadRequest)
		if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q, want an HTML page", ct)
		}
		if !strings.Contains(resp.Body, "invalid_request_uri") {
			t.Errorf("the page does not name invalid_request_uri:\n%s", resp.Body)
		}
		if resp.Headers["Location"] != "" {
			t.Errorf("an unknown request_uri redirects to %s", resp.Headers["Location"])
		}
		wantOnly(t, fn, "DynamoDB_20120810.", "secretsmanager.GetSecretValue")
	})
}

// TestFunctions_MissingConfigurationFailsTheInitPhase: a bootstrap without a required
// variable stops at init with a message naming it, and the invocation fails at once
// rather than waiting for a timeout. No AWS is needed: nothing is called.
func TestFunctions_MissingConfigurationFailsTheInitPhase(t *testing.T) {
	path := bootstrap(t, "par")
	tmpl, err := stack.LoadTemplate(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tmpl.Function("par", map[string]string{
		"ISSUER":           stack.EventsIssuer,
		"KEYS_SECRET_ID":   "keys",
		"COOKIE_SECRET_ID": "cookie",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9", // discard: nothing may be called
	})
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") {
		t.Fatalf("Template.Function without TABLE_NAME: %v, want an error naming it", err)
	}
	fn.Bootstrap = path
	rt, err := lambdaemu.Start(t.Context(), fn)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	begin := time.Now()
	_, err = rt.Invoke(t.Context(), event(t, "par.json"))
	var fe *lambdaemu.FunctionError
	if !errors.As(err, &fe) || fe.Phase != "init" {
		t.Fatalf("error = %v, want an init-phase *FunctionError", err)
	}
	if fe.Type != "Runtime.ExitError" || !strings.Contains(fe.Logs, "TABLE_NAME is required") {
		t.Errorf("type %q, output %q: want Runtime.ExitError naming TABLE_NAME", fe.Type, fe.Logs)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("the init failure took %v to surface", d)
	}
}

// TestBuildFlags_AreTheMakefiles: the tests build what `make build` and sam build do.
func TestBuildFlags_AreTheMakefiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var quoted []string
	for _, f := range stack.BuildFlags {
		if k, v, ok := strings.Cut(f, "="); ok && strings.Contains(v, " ") {
			f = k + "='" + v + "'"
		}
		quoted = append(quoted, f)
	}
	want := "CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build " + strings.Join(quoted, " ")
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), "="); ok && strings.TrimSpace(name) == "GO_BUILD" {
			if strings.TrimSpace(value) != want {
				t.Errorf("Makefile GO_BUILD =%s\nstack.BuildFlags give   %s", value, want)
			}
			return
		}
	}
	t.Fatal("no GO_BUILD in the Makefile")
}

// TestTemplate_GivesEachFunctionItsDeployedSettings: the local functions get the
// memory, timeout and every variable template.yaml gives them in AWS.
func TestTemplate_GivesEachFunctionItsDeployedSettings(t *testing.T) {
	root := moduleRoot(t)
	tmpl, err := stack.LoadTemplate(root)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	globals, _, _ := strings.Cut(string(data), "\nResources:")
	_, globals, _ = strings.Cut(globals, "\nGlobals:")
	names := regexp.MustCompile(`(?m)^        ([A-Z][A-Z0-9_]*):`).FindAllStringSubmatch(globals, -1)
	if len(names) < 5 {
		t.Fatalf("found %d Globals variables in template.yaml", len(names))
	}
	resources := map[string]string{"ISSUER": stack.EventsIssuer, "TABLE_NAME": "t", "KEYS_SECRET_ID": "k", "COOKIE_SECRET_ID": "c", "DPOP_NONCE_SECRET_ID": "d", "PUBLIC_KEYS_SECRET_ID": "p"}
	for _, dir := range stack.HTTPFunctions {
		fn, err := tmpl.Function(dir, resources)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range names {
			if _, ok := fn.Env[m[1]]; !ok {
				t.Errorf("%s: template.yaml gives it %s, the local stack does not", dir, m[1])
			}
		}
		if fn.Env["PAR_EXPIRES_IN"] != tmpl.Parameters["ParExpiresIn"] || fn.Env["PAR_EXPIRES_IN"] == "" {
			t.Errorf("%s: PAR_EXPIRES_IN = %q, want the ParExpiresIn default %q", dir, fn.Env["PAR_EXPIRES_IN"], tmpl.Parameters["ParExpiresIn"])
		}
		if fn.Timeout != 10*time.Second || fn.Name == "" {
			t.Errorf("%s: timeout %v, name %q", dir, fn.Timeout, fn.Name)
		}
		if want := map[string]int{"authorize": 1024}[dir]; want == 0 && fn.MemoryMB != 256 || want != 0 && fn.MemoryMB != want {
			t.Errorf("%s: memory %d MB", dir, fn.MemoryMB)
		}
	}
}

// TestParseTemplate_FollowsIndentationAndSkipsBlockScalars.
func TestParseTemplate_FollowsIndentationAndSkipsBlockScalars(t *testing.T) {
	tmpl, err := stack.ParseTemplate([]byte(`Parameters:
  Lifetime:
    Type: Number
    Default: 60
    Description: >-
      looks like: a key
      Default: 99
  Mode:
    Default: "fast" # quoted
Globals:
  Function:
    MemorySize: 256
    Timeout: 10
    Environment:
      Variables:
        LIFETIME: !Ref Lifetime
        ISSUER: !If
          - HasIssuer
          - !Ref Issuer
        PLAIN: 'x'
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 512
      Environment:
        Variables:
          MODE: !Ref Mode
`))
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Parameters["Lifetime"] != "60" || tmpl.Parameters["Mode"] != "fast" {
		t.Errorf("parameters = %v", tmpl.Parameters)
	}
	g := tmpl.Global
	if g.MemoryMB != 256 || g.Timeout != 10*time.Second || g.Env["LIFETIME"] != "!Ref Lifetime" || g.Env["ISSUER"] != "!If" || g.Env["PLAIN"] != "x" || len(g.Env) != 3 {
		t.Errorf("globals = %+v", g)
	}
	one := tmpl.Functions["OneFunction"]
	if one.MemoryMB != 512 || one.Env["MODE"] != "!Ref Mode" || len(tmpl.Functions) != 1 {
		t.Errorf("functions = %+v", tmpl.Functions)
	}
	tmpl.LogicalIDs["one"] = "OneFunction"
	fn, err := tmpl.Function("one", map[string]string{"ISSUER": "https://issuer.example"})
	if err != nil {
		t.Fatal(err)
	}
	if fn.MemoryMB != 512 || fn.Timeout != 10*time.Second || fn.Env["LIFETIME"] != "60" || fn.Env["MODE"] != "fast" || fn.Env["ISSUER"] != "https://issuer.example" {
		t.Errorf("function = %+v", fn)
	}
	if _, err := tmpl.Function("one", nil); err == nil || !strings.Contains(err.Error(), "ISSUER") {
		t.Errorf("without ISSUER supplied: %v, want an error naming it", err)
	}
}
