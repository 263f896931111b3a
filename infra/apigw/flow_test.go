package apigw_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/apigw"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/proc"
)

// startLocal is `make run-lambda` on a free port, with a log of its output.
func startLocal(t *testing.T) (*apigw.Local, *proc.SyncWriter) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("the bootstraps are linux executables; this host is %s", runtime.GOOS)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &proc.SyncWriter{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seedFile := refreshSeed(t)
	l, err := apigw.Start(ctx, apigw.Options{Root: filepath.Join("..", ".."), Listener: ln, Logs: logs, Getenv: func(name string) string {
		switch name {
		case "LAMBDA_CONCURRENCY":
			return "2"
		case "SEED_FILE":
			return seedFile
		}
		return ""
	}})
	if errors.Is(err, moto.ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("%v (CI=true makes a missing moto_server a failure)", err)
	}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			t.Logf("output:\n%s", logs.String())
		}
	})
	return l, logs
}

// refreshSeed is infra/seed.json with the refresh_token grant and offline_access
// for demo-client, so that the flow can refresh.
func refreshSeed(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "infra", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var seed map[string]any
	if err := json.Unmarshal(data, &seed); err != nil {
		t.Fatal(err)
	}
	c := seed["clients"].([]any)[0].(map[string]any)
	c["grant_types"] = []string{"authorization_code", "refresh_token"}
	c["scope"] = c["scope"].(string) + " offline_access"
	if data, err = json.Marshal(seed); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser is a client that keeps cookies by name, as a browser does for one
// site (whatever their Secure attribute: the local API is plain HTTP), and does
// not follow redirects.
type browser struct {
	t       *testing.T
	base    string
	cookies map[string]string
	client  *http.Client
}

func (b *browser) do(method, target string, form url.Values, auth func(*http.Request)) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r, err := http.NewRequest(method, b.base+target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for name, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	if auth != nil {
		auth(r)
	}
	resp, err := b.client.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp, string(data)
}

func wantStatus(t *testing.T, what string, resp *http.Response, body string, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %d, want %d:\n%s", what, resp.StatusCode, status, body)
	}
}

// hiddenFields are the hidden inputs of the page's form; the test fails without one.
func hiddenFields(t *testing.T, body string) url.Values {
	t.Helper()
	v := httpapitest.HiddenFields(body)
	if v.Get("csrf") == "" {
		t.Fatalf("no form on the page:\n%s", body)
	}
	return v
}

const (
	demoChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	demoVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// authorization is the whole flow through the local API: push, login, consent,
// code, token, refresh, userinfo, revoke.
func authorization(t *testing.T, l *apigw.Local) {
	b := &browser{t: t, base: l.URL, cookies: map[string]string{}, client: &http.Client{
		Timeout:       40 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	client := l.AWS.Seed.Clients[0]
	user := l.AWS.Seed.Users[0]
	basic := func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(client.ID), url.QueryEscape(client.Secret)) }
	redirect := "https://client.example.com/callback"

	resp, body := b.do(http.MethodPost, "/par", url.Values{
		"response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid profile offline_access"}, "prompt": {"consent"},
		"state": {"s1"}, "nonce": {"n1"}, "code_challenge": {demoChallenge}, "code_challenge_method": {"S256"},
	}, basic)
	wantStatus(t, "push", resp, body, http.StatusCreated)
	var pushed struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal([]byte(body), &pushed); err != nil || pushed.RequestURI == "" {
		t.Fatalf("push: %s", body)
	}

	resp, body = b.do(http.MethodGet, "/authorize?"+url.Values{"client_id": {client.ID}, "request_uri": {pushed.RequestURI}}.Encode(), nil, nil)
	wantStatus(t, "authorize", resp, body, http.StatusOK)
	form := hiddenFields(t, body)
	form.Set("username", user.Username)
	form.Set("password", user.Password)
	resp, body = b.do(http.MethodPost, "/authorize", form, nil)
	wantStatus(t, "login", resp, body, http.StatusSeeOther)
	next, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = b.do(http.MethodGet, "/authorize?"+next.RawQuery, nil, nil)
	wantStatus(t, "consent page", resp, body, http.StatusOK)
	if !strings.Contains(body, `value="approve"`) {
		t.Fatalf("not the consent page:\n%s", body)
	}
	form = hiddenFields(t, body)
	form.Set("decision", "approve")
	resp, body = b.do(http.MethodPost, "/authorize", form, nil)
	wantStatus(t, "consent", resp, body, http.StatusSeeOther)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if q := loc.Query(); loc.Host != "client.example.com" || q.Get("code") == "" || q.Get("iss") != l.Issuer || q.Get("state") != "s1" {
		t.Fatalf("authorization response %s", loc)
	}

	type tokenResponse struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
	}
	var tok tokenResponse
	resp, body = b.do(http.MethodPost, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {redirect}, "code_verifier": {demoVerifier}}, basic)
	wantStatus(t, "token", resp, body, http.StatusOK)
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" {
		t.Fatalf("token response: %s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token response Cache-Control %q", cc)
	}

	var refreshed tokenResponse
	resp, body = b.do(http.MethodPost, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, basic)
	wantStatus(t, "refresh", resp, body, http.StatusOK)
	if err := json.Unmarshal([]byte(body), &refreshed); err != nil || refreshed.AccessToken == "" {
		t.Fatalf("refresh response: %s", body)
	}

	resp, body = b.do(http.MethodGet, "/userinfo", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+refreshed.AccessToken) })
	wantStatus(t, "userinfo", resp, body, http.StatusOK)
	var info map[string]any
	if err := json.Unmarshal([]byte(body), &info); err != nil || info["sub"] != user.Claims["sub"] {
		t.Fatalf("userinfo: %s", body)
	}

	current := refreshed.RefreshToken
	if current == "" {
		current = tok.RefreshToken
	}
	resp, body = b.do(http.MethodPost, "/revoke", url.Values{"token": {current}, "token_type_hint": {"refresh_token"}}, basic)
	wantStatus(t, "revoke", resp, body, http.StatusOK)
	resp, body = b.do(http.MethodPost, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current}}, basic)
	wantStatus(t, "refresh after revoke", resp, body, http.StatusBadRequest)
	if !strings.Contains(body, `"invalid_grant"`) {
		t.Errorf("refresh after revoke: %s", body)
	}
}

// TestRunLambda_CarriesAWholeAuthorizationColdAndWarm: the flow through the local
// HTTP API of template.yaml in front of the real bootstraps, first on cold
// instances, then again on the warm ones; unrouted paths get API Gateway's 404.
func TestRunLambda_CarriesAWholeAuthorizationColdAndWarm(t *testing.T) {
	l, logs := startLocal(t)
	authorization(t, l)
	functions := []string{"ParFunction", "AuthorizeFunction", "TokenFunction"}
	cold := map[string]int{}
	for _, fn := range functions {
		cold[fn] = l.Pool.Instances(fn)
		if cold[fn] < 1 || cold[fn] > 2 {
			t.Errorf("%s: %d instances after one sequential flow, want 1 or 2 (LAMBDA_CONCURRENCY=2)", fn, cold[fn])
		}
	}
	if n := strings.Count(logs.String(), "run-lambda: cold start "); n < len(functions) {
		t.Errorf("%d cold starts logged, want one per function at least", n)
	}
	authorization(t, l)
	for _, fn := range functions {
		if n := l.Pool.Instances(fn); n != cold[fn] {
			t.Errorf("%s: %d instances after the second flow, %d after the first: warm instances were not reused", fn, n, cold[fn])
		}
	}

	// Concurrent requests start instances up to LAMBDA_CONCURRENCY (2), no more.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			resp, err := http.Get(l.URL + "/jwks")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET /jwks: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if n := l.Pool.Instances("DiscoveryFunction"); n < 1 || n > 2 {
		t.Errorf("DiscoveryFunction: %d instances after 8 concurrent requests, LAMBDA_CONCURRENCY=2", n)
	}

	resp, err := http.Get(l.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || string(body) != `{"message":"Not Found"}` {
		t.Errorf("GET /nope: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(l.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta["issuer"] != l.Issuer || meta["pushed_authorization_request_endpoint"] != l.Issuer+"/par" {
		t.Errorf("discovery: %v", meta)
	}
}
