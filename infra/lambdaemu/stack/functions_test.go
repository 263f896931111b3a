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
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		tb.Fatalf("%s: response %s: %v", name, raw, err)
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
		fn := start(t, "par")
		wantNoInitCalls(t, fn)
		for _, name := range []string{"par.json", "par-base64.json"} {
			resp := invoke(t, fn, name)
			wantStatus(t, resp, http.StatusCreated)
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
		resp := invoke(t, fn, "par-get.json")
		wantStatus(t, resp, http.StatusMethodNotAllowed)
		if resp.Headers["Allow"] != http.MethodPost {
			t.Errorf("par-get.json: Allow = %q, want POST", resp.Headers["Allow"])
		}
		// /par reads the client and stores the request; it never needs a secret.
		wantOnly(t, fn, "DynamoDB_20120810.")
	})

	t.Run("discovery", func(t *testing.T) {
		t.Parallel()
		fn := start(t, "discovery")
		wantNoInitCalls(t, fn)
		resp := invoke(t, fn, "discovery.json")
		wantStatus(t, resp, http.StatusOK)
		meta := decodeJSON(t, resp)
		if meta["issuer"] != stack.EventsIssuer {
			t.Errorf("issuer = %v, want %s", meta["issuer"], stack.EventsIssuer)
		}
		if meta["pushed_authorization_request_endpoint"] != stack.EventsIssuer+"/par" {
			t.Errorf("pushed_authorization_request_endpoint = %v", meta["pushed_authorization_request_endpoint"])
		}

		resp = invoke(t, fn, "jwks.json")
		wantStatus(t, resp, http.StatusOK)
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
		fn := start(t, "token")
		wantNoInitCalls(t, fn)
		resp := invoke(t, fn, "token.json")
		wantStatus(t, resp, http.StatusBadRequest)
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
		fn := start(t, "authorize")
		wantNoInitCalls(t, fn)
		resp := invoke(t, fn, "authorize.json")
		wantStatus(t, resp, http.StatusBadRequest)
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
	fn := stack.FunctionConfig("par")
	fn.Bootstrap = path
	fn.Env = map[string]string{
		"ISSUER":           stack.EventsIssuer,
		"KEYS_SECRET_ID":   "keys",
		"COOKIE_SECRET_ID": "cookie",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9", // discard: nothing may be called
	}
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

// TestEnv_CoversTemplateGlobals: every variable template.yaml gives the functions is
// in the local environment.
func TestEnv_CoversTemplateGlobals(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	globals, _, ok := strings.Cut(string(data), "\nResources:")
	if _, globals, ok = strings.Cut(globals, "\nGlobals:"); !ok {
		t.Fatal("no Globals in template.yaml")
	}
	env := (&stack.AWS{}).Env("")
	names := regexp.MustCompile(`(?m)^        ([A-Z][A-Z0-9_]*):`).FindAllStringSubmatch(globals, -1)
	if len(names) == 0 {
		t.Fatal("no Globals variables found in template.yaml")
	}
	for _, m := range names {
		if _, ok := env[m[1]]; !ok {
			t.Errorf("template.yaml gives the functions %s; stack.AWS.Env does not", m[1])
		}
	}
}
