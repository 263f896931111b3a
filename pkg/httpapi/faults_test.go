package httpapi_test

// Fault injection over the whole flow: push → authorize → login → consent
// page → approve → token → refresh; the same with the request sent to /authorize
// unpushed (stored there); and with private_key_jwt (whose assertions are one-time,
// so the store writes at /par and /token too). A clean run
// logs the store calls of every step; then, for every one of those calls, a fresh
// server runs the flow up to that step, the call fails (before the store is called,
// or after it wrote: a lost response), and the test checks
//
//   - the answer: 503 temporarily_unavailable with Retry-After (JSON at /par and
//     /token; at /authorize a 503 page, or a redirect carrying that error), with no
//     internals in the body, and the cause in the logs;
//   - the retry of the same step: it succeeds, once, and the flow completes, or it
//     fails cleanly with the protocol error its half-done predecessor makes
//     inevitable (a consumed request, a spent code, a rotated token);
//   - the state behind the faults: no code whose pushed request is unconsumed, no
//     consumed request without its code, code and grant written together, never two
//     codes for one request, no refresh token without a consumed code, no usable
//     refresh token the client does not hold, never two token responses for one code
//     or refresh token.
//
// TestFaults_Memory runs it over the in-memory store, TestFaults_DynamoDB over
// DynamoDB (moto_server), where the writes are the transactions of pkg/dynamo.
// TestFaults_KeyOutageSpendsNoCodeOrRefreshToken fails the signing keys instead.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestFaults_Memory(t *testing.T) {
	t.Parallel()
	runFaultMatrix(t, seededStore(t, memory.New()))
}

// TestFaults_DynamoDB runs the cases whose fault strikes a write: a failed read
// never reaches the store behind the faults, so it cannot behave differently on
// DynamoDB, while the writes are its conditional writes and transactions.
func TestFaults_DynamoDB(t *testing.T) {
	t.Parallel()
	runFaultMatrix(t, seededStore(t, dynamotest.NewStore(t)), writes...)
}

// TestFaults_KeyOutageSpendsNoCodeOrRefreshToken: the token endpoint loads the
// signing keys before it spends a code or a refresh token, so when the keys cannot be
// loaded - here the first load of a cold instance fails, as when Secrets Manager is
// unreachable - the answer is 503 temporarily_unavailable and the client's retry
// with the same code or refresh token succeeds.
func TestFaults_KeyOutageSpendsNoCodeOrRefreshToken(t *testing.T) {
	t.Parallel()
	t.Run("code", func(t *testing.T) {
		var loads atomic.Int32
		ts := newServer(t, withKeySource(failFirstLoad(&loads)))
		code := issueCode(t, ts, pushParams())
		if n := loads.Load(); n != 0 {
			t.Fatalf("the keys were loaded %d times before the token request", n)
		}
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode()
		wantKeyOutage(t, ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body))
		r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, body)
		if r.Status != http.StatusOK || r.JSON["access_token"] == nil {
			t.Fatalf("the retry with the same code: %d %s", r.Status, r.Body)
		}
		if n := loads.Load(); n != 2 {
			t.Errorf("the keys were loaded %d times, want 2 (the failed load and the retry's)", n)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		// A refresh token from one instance, presented to a cold one over the same
		// store.
		store := seededStore(t, memory.New())
		rt := tokensFor(t, newServer(t, withStore(store)), "openid offline_access")["refresh_token"].(string)
		var loads atomic.Int32
		ts := newServer(t, withStore(store), withKeySource(failFirstLoad(&loads)))
		wantKeyOutage(t, refreshWith(t, ts, rt))
		r := refreshWith(t, ts, rt)
		if r.Status != http.StatusOK || r.JSON["access_token"] == nil || r.JSON["refresh_token"] == nil {
			t.Fatalf("the retry with the same refresh token: %d %s", r.Status, r.Body)
		}
		if n := loads.Load(); n != 2 {
			t.Errorf("the keys were loaded %d times, want 2 (the failed load and the retry's)", n)
		}
	})
}

// failFirstLoad is a key source over the server's set whose first Load is an outage;
// loads counts the calls.
func failFirstLoad(loads *atomic.Int32) func(*keys.Set) keys.Source {
	return func(set *keys.Set) keys.Source {
		return keys.SourceFunc(func(context.Context) (*keys.Set, error) {
			if loads.Add(1) == 1 {
				return nil, fmt.Errorf("read the keys secret: injected fault: %w", oauth.ErrUnavailable)
			}
			return set, nil
		})
	}
}

// wantKeyOutage checks r is the token endpoint's answer to a key outage.
func wantKeyOutage(t *testing.T, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.JSON["error"] != oauth.CodeTemporarilyUnavailable {
		t.Fatalf("want 503 temporarily_unavailable, got %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	wantRetryAfter(t, r)
	if strings.Contains(r.Body, "injected") || strings.Contains(r.Body, "keys secret") {
		t.Errorf("the answer reveals the cause:\n%s", r.Body)
	}
}

// writes are the store methods that write.
var writes = []string{oauthtest.MethodCreatePushedRequest, oauthtest.MethodIssueCode, oauthtest.MethodConsumeCode,
	oauthtest.MethodRevokeGrant, oauthtest.MethodCreateRefreshToken, oauthtest.MethodRotateRefreshToken, oauthtest.MethodUseOnce}

// faultEnv reads every client from the store on every request, so each step has its
// own GetClient call to fail.
var faultEnv = map[string]string{"CLIENT_CACHE_TTL": "0"}

// flowVariant is a client and how it authenticates.
type flowVariant struct {
	name     string
	clientID string
	scope    string
	// auth adds the client authentication to a back-channel request: a header and
	// form parameters. private_key_jwt signs a new assertion each time, as clients do
	// (RFC 7523 §3: the jti is one-time), so a retry is a new assertion.
	auth    func(ts *testServer, tb testing.TB, p url.Values) (string, url.Values)
	refresh bool
	// direct sends the authorization request to /authorize instead of pushing it:
	// the server stores it there, a write at the front channel.
	direct bool
}

var flowVariants = []flowVariant{
	{
		name: "client_secret_basic", clientID: confID, scope: "openid profile email offline_access", refresh: true,
		auth: func(_ *testServer, _ testing.TB, p url.Values) (string, url.Values) {
			return basic(confID, confSecret), p
		},
	},
	{
		name: "direct", clientID: confID, scope: "openid profile email offline_access", refresh: true, direct: true,
		auth: func(_ *testServer, _ testing.TB, p url.Values) (string, url.Values) {
			return basic(confID, confSecret), p
		},
	},
	{
		name: "private_key_jwt", clientID: pkjwtID, scope: "openid profile email",
		auth: func(ts *testServer, tb testing.TB, p url.Values) (string, url.Values) {
			return "", assertionForm(tb, sign(tb, clientKey, "", assertion(ts, nil)), p)
		},
	},
}

// flow is one authorization in progress, as the client and the browser see it.
type flow struct {
	ts         *testServer
	v          flowVariant
	b          *browser
	requestURI string
	page       response // the login or consent page last shown
	next       string   // where the login sent the browser
	code       string
	refresh    string
	// What the client received: token responses per code and per refresh token, and
	// the refresh tokens it holds (by storage key).
	codeTokens    map[string]int
	refreshTokens map[string]int
	held          map[string]bool
}

func newFlow(tb testing.TB, ts *testServer, v flowVariant) *flow {
	return &flow{ts: ts, v: v, b: ts.browser(tb), codeTokens: map[string]int{}, refreshTokens: map[string]int{}, held: map[string]bool{}}
}

func (f *flow) post(tb testing.TB, path string, p url.Values) response {
	tb.Helper()
	auth, body := f.v.auth(f.ts, tb, p)
	return f.ts.do(tb, nil, http.MethodPost, path, auth, form, body.Encode())
}

// flowStep is one request of the flow. ok says whether r is its success, apply
// records what the success gave.
type flowStep struct {
	name  string
	json  bool // a back-channel JSON endpoint; otherwise /authorize in the browser
	run   func(tb testing.TB, f *flow) response
	ok    func(f *flow, r response) bool
	apply func(tb testing.TB, f *flow, r response)
}

func flowSteps(v flowVariant) []flowStep {
	steps := []flowStep{
		{
			name: "push", json: true,
			run: func(tb testing.TB, f *flow) response {
				return f.post(tb, "/par", with(pushParams(), "client_id", f.v.clientID, "scope", f.v.scope))
			},
			ok:    func(_ *flow, r response) bool { return r.Status == http.StatusCreated && r.JSON["request_uri"] != nil },
			apply: func(_ testing.TB, f *flow, r response) { f.requestURI = r.JSON["request_uri"].(string) },
		},
		{
			name: "authorize",
			run:  func(tb testing.TB, f *flow) response { return f.b.get(tb, authorizePath(f.v.clientID, f.requestURI)) },
			ok: func(_ *flow, r response) bool {
				return r.Status == http.StatusOK && strings.Contains(r.Body, `name="password"`)
			},
			apply: func(_ testing.TB, f *flow, r response) { f.page = r },
		},
		{
			name: "login",
			run: func(tb testing.TB, f *flow) response {
				return f.b.submit(tb, f.page, url.Values{"username": {username}, "password": {password}})
			},
			ok: func(_ *flow, r response) bool {
				return r.Status == http.StatusSeeOther && strings.HasPrefix(r.Header.Get("Location"), "/authorize?")
			},
			apply: func(_ testing.TB, f *flow, r response) { f.next = r.Header.Get("Location") },
		},
		{
			name: "consent page",
			run:  func(tb testing.TB, f *flow) response { return f.b.get(tb, f.next) },
			ok: func(_ *flow, r response) bool {
				return r.Status == http.StatusOK && strings.Contains(r.Body, `value="approve"`)
			},
			apply: func(_ testing.TB, f *flow, r response) { f.page = r },
		},
		{
			name: "approve",
			run: func(tb testing.TB, f *flow) response {
				return f.b.submit(tb, f.page, url.Values{"decision": {"approve"}})
			},
			ok: func(_ *flow, r response) bool {
				u, err := url.Parse(r.Header.Get("Location"))
				return r.Status == http.StatusSeeOther && err == nil && strings.HasPrefix(u.String(), redirectURI) && u.Query().Get("code") != ""
			},
			apply: func(_ testing.TB, f *flow, r response) {
				u, _ := url.Parse(r.Header.Get("Location"))
				f.code = u.Query().Get("code")
			},
		},
		{
			name: "token", json: true,
			run: func(tb testing.TB, f *flow) response {
				return f.post(tb, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {f.code},
					"redirect_uri": {redirectURI}, "code_verifier": {verifier}})
			},
			ok: func(f *flow, r response) bool {
				_, hasRefresh := r.JSON["refresh_token"]
				return r.Status == http.StatusOK && r.JSON["access_token"] != nil && hasRefresh == f.v.refresh
			},
			apply: func(_ testing.TB, f *flow, r response) {
				f.codeTokens[f.code]++
				if rt, ok := r.JSON["refresh_token"].(string); ok {
					f.refresh = rt
					f.held[oauth.HashKey(rt)] = true
				}
			},
		},
	}
	if v.direct {
		steps[0] = flowStep{
			name: "authorize direct",
			run: func(tb testing.TB, f *flow) response {
				return f.b.get(tb, "/authorize?"+with(pushParams(), "client_id", f.v.clientID, "scope", f.v.scope).Encode())
			},
			ok: func(_ *flow, r response) bool {
				u, err := url.Parse(r.Header.Get("Location"))
				return r.Status == http.StatusSeeOther && err == nil && u.Path == "/authorize" && u.Query().Get("request_uri") != ""
			},
			apply: func(_ testing.TB, f *flow, r response) {
				u, _ := url.Parse(r.Header.Get("Location"))
				f.requestURI = u.Query().Get("request_uri")
			},
		}
	}
	if v.refresh {
		steps = append(steps, flowStep{
			name: "refresh", json: true,
			run: func(tb testing.TB, f *flow) response {
				return f.post(tb, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}})
			},
			ok: func(_ *flow, r response) bool {
				rt, _ := r.JSON["refresh_token"].(string)
				return r.Status == http.StatusOK && r.JSON["access_token"] != nil && rt != ""
			},
			apply: func(_ testing.TB, f *flow, r response) {
				f.refreshTokens[f.refresh]++
				delete(f.held, oauth.HashKey(f.refresh)) // rotated: the old one is spent
				f.refresh = r.JSON["refresh_token"].(string)
				f.held[oauth.HashKey(f.refresh)] = true
			},
		})
	}
	return steps
}

// runSteps runs steps, each of which must succeed.
func (f *flow) runSteps(tb testing.TB, steps []flowStep) {
	tb.Helper()
	for _, s := range steps {
		r := s.run(tb, f)
		if !s.ok(f, r) {
			tb.Fatalf("step %s: %d %s\n%s", s.name, r.Status, r.Header.Get("Location"), r.Body)
		}
		s.apply(tb, f, r)
	}
}

// faultCase fails the call-th store call of step (1 is its first call) with mode.
type faultCase struct {
	variant flowVariant
	step    int
	call    int
	method  string
	mode    oauthtest.Mode
}

func (c faultCase) name(steps []flowStep) string {
	return fmt.Sprintf("%s/%s/%d-%s/%s", c.variant.name, steps[c.step].name, c.call, c.method, c.mode)
}

// retryOutcome is what the retry of the failed step gives: "" for success, else the
// protocol error that what the failed call had already done makes inevitable.
func retryOutcome(c faultCase) string {
	switch c.method {
	case oauthtest.MethodCreateRefreshToken:
		// The code was consumed before its refresh token was stored: a second
		// exchange is a replay (RFC 6749 §4.1.2) and revokes the grant.
		return oauth.CodeInvalidGrant
	}
	if c.mode != oauthtest.AfterWrite {
		return ""
	}
	switch c.method {
	case oauthtest.MethodIssueCode:
		return oauth.CodeInvalidRequestURI // consumed: the code went to nobody
	case oauthtest.MethodConsumeCode, oauthtest.MethodRotateRefreshToken:
		return oauth.CodeInvalidGrant // spent: presenting it again is reuse
	}
	// Reads, CreatePushedRequest (the retry pushes anew) and UseOnce (the retry
	// signs a new assertion) go through.
	return ""
}

// runFaultMatrix fails each store call of the flow in turn, or only the calls of
// methods, if any are named.
func runFaultMatrix(t *testing.T, inner oauth.Store, methods ...string) {
	for _, v := range flowVariants {
		steps := flowSteps(v)
		// The clean run: which store calls each step makes.
		faulty := oauthtest.NewFaulty(inner)
		ts := newServer(t, withStore(faulty), withEnv(faultEnv))
		f := newFlow(t, ts, v)
		var cases []faultCase
		for i, s := range steps {
			mark := faulty.Mark()
			f.runSteps(t, steps[i:i+1])
			for n, c := range faulty.Calls()[mark:] {
				if len(methods) > 0 && !slices.Contains(methods, c.Method) {
					continue
				}
				for _, mode := range []oauthtest.Mode{oauthtest.Before, oauthtest.AfterWrite} {
					cases = append(cases, faultCase{variant: v, step: i, call: n + 1, method: c.Method, mode: mode})
				}
			}
			if len(faulty.Calls()) == mark {
				t.Fatalf("%s: step %s made no store call", v.name, s.name)
			}
		}
		checkFlowState(t, faulty, f)
		for _, c := range cases {
			t.Run(c.name(steps), func(t *testing.T) { runFaultCase(t, inner, steps, c) })
		}
	}
}

func runFaultCase(t *testing.T, inner oauth.Store, steps []flowStep, c faultCase) {
	faulty := oauthtest.NewFaulty(inner)
	logs := &syncBuffer{}
	ts := newServer(t, withStore(faulty), withEnv(faultEnv), withLogs(logs))
	f := newFlow(t, ts, c.variant)
	f.runSteps(t, steps[:c.step])
	step := steps[c.step]

	faulty.FailNth(c.call, c.mode)
	r := step.run(t, f)
	faulty.Heal()
	injected := faulty.Injected()
	if len(injected) != 1 || injected[0].Method != c.method {
		t.Fatalf("the fault struck %+v, want one %s call", injected, c.method)
	}
	if c.method == oauthtest.MethodCountRequest {
		// docs/design.md decision 23: the rate counter fails open. The step succeeds
		// uncounted and the outage is on the access line, at warning level.
		if !step.ok(f, r) {
			t.Fatalf("a %s fault (%v) failed %s: %d %s; the rate counter must fail open", c.method, c.mode, step.name, r.Status, r.Body)
		}
		if !strings.Contains(logs.String(), "rate_limit_outage") || !strings.Contains(logs.String(), "injected fault") {
			t.Errorf("the counter outage is not on the access line:\n%s", logs.String())
		}
		step.apply(t, f, r)
		f.runSteps(t, steps[c.step+1:])
		checkFlowState(t, faulty, f)
		return
	}
	redirected := wantUnavailable(t, f, step, r)
	if !strings.Contains(logs.String(), "injected fault") {
		t.Errorf("the cause is not in the logs:\n%s", logs.String())
	}

	// The client (or the user) tries the same step again.
	want := retryOutcome(c)
	if redirected {
		// The browser went back to the client with the error: the transaction is
		// over, and resubmitting its form can only fail.
		want = "any"
	}
	r = step.run(t, f)
	switch {
	case step.ok(f, r) && want == "":
		step.apply(t, f, r)
		f.runSteps(t, steps[c.step+1:])
	case step.ok(f, r):
		t.Errorf("the retry of %s succeeded; want %s", step.name, want)
	default:
		code := wantCleanFailure(t, step, r)
		if want != "any" && code != want {
			t.Errorf("the retry of %s failed with %q, want %s", step.name, code, orSuccess(want))
		}
	}
	checkFlowState(t, faulty, f)
}

func orSuccess(code string) string {
	if code == "" {
		return "success"
	}
	return code
}

// leaks are what must never reach a response body: the injected cause, store and
// method names, Go internals.
var leaks = []string{"injected", "store unavailable", "oauthtest", "Faulty", "goroutine", "panic", ".go:", "runtime.",
	oauthtest.MethodCreatePushedRequest, oauthtest.MethodIssueCode, oauthtest.MethodConsumeCode,
	oauthtest.MethodCreateRefreshToken, oauthtest.MethodRotateRefreshToken, oauthtest.MethodGetPushedRequest, "DynamoDB"}

// wantUnavailable checks r is the answer to a store outage at step, and reports
// whether it was a redirect to the client (only /authorize may do that).
func wantUnavailable(t *testing.T, f *flow, step flowStep, r response) (redirected bool) {
	t.Helper()
	for _, leak := range leaks {
		if strings.Contains(r.Body, leak) || strings.Contains(r.Header.Get("Location"), leak) {
			t.Errorf("the answer reveals %q:\n%s", leak, r.Body)
		}
	}
	if step.json {
		if r.Status != http.StatusServiceUnavailable || r.JSON["error"] != oauth.CodeTemporarilyUnavailable {
			t.Fatalf("want 503 temporarily_unavailable, got %d %s", r.Status, r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
		}
		wantRetryAfter(t, r)
		return false
	}
	if r.Status == http.StatusSeeOther {
		// docs/design.md decision 10: "or a redirect with that code", once the redirect
		// target is established.
		u, err := url.Parse(r.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(u.String(), redirectURI) {
			t.Fatalf("want a 503 page or a redirect to the client, got a redirect to %q", r.Header.Get("Location"))
		}
		q := u.Query()
		if q.Get("error") != oauth.CodeTemporarilyUnavailable || q.Get("state") != "xyz-state" || q.Get("iss") != f.ts.URL || q.Get("code") != "" {
			t.Fatalf("want error=temporarily_unavailable with state and iss, got %s", u)
		}
		return true
	}
	if r.Status != http.StatusServiceUnavailable || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.Body, oauth.CodeTemporarilyUnavailable) {
		t.Fatalf("want a 503 temporarily_unavailable page, got %d %s:\n%s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	wantRetryAfter(t, r)
	return false
}

func wantRetryAfter(t *testing.T, r response) {
	t.Helper()
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want a number of seconds", r.Header.Get("Retry-After"))
	}
}

// wantCleanFailure checks r is a protocol error a client or user can act on, not a
// server error, and returns its code.
func wantCleanFailure(t *testing.T, step flowStep, r response) string {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("the retry of %s failed with %d:\n%s", step.name, r.Status, r.Body)
	}
	if step.json {
		code, _ := r.JSON["error"].(string)
		if r.Status < 400 || code == "" {
			t.Fatalf("the retry of %s: want an OAuth error, got %d %s", step.name, r.Status, r.Body)
		}
		return code
	}
	if r.Status == http.StatusSeeOther {
		u, err := url.Parse(r.Header.Get("Location"))
		if err != nil || u.Query().Get("error") == "" {
			t.Fatalf("the retry of %s: want an error, got a redirect to %q", step.name, r.Header.Get("Location"))
		}
		return u.Query().Get("error")
	}
	for _, code := range []string{oauth.CodeInvalidRequestURI, oauth.CodeInvalidRequest, oauth.CodeAccessDenied} {
		if r.Status >= 400 && strings.Contains(r.Body, code) {
			return code
		}
	}
	t.Fatalf("the retry of %s: want an error page, got %d:\n%s", step.name, r.Status, r.Body)
	return ""
}

// checkFlowState checks the flow's store invariants (no code for an unconsumed request, one code per request, one token response per code) on the store behind the faults,
// from every write the flow attempted (Faulty logs them, failed or not).
func checkFlowState(t *testing.T, faulty *oauthtest.Faulty, f *flow) {
	t.Helper()
	ctx, now, inner := context.Background(), f.ts.clock.Now(), faulty.Inner()
	calls := faulty.Calls()

	codesOf := map[string]int{}       // pushed request key → codes stored for it
	codeConsumed := map[string]bool{} // grant ID → its code was consumed
	for _, c := range calls {
		if c.Method != oauthtest.MethodIssueCode {
			continue
		}
		reqKey, codeKey, grantID := c.Keys[0], c.Keys[1], c.Keys[2]
		_, gerr := inner.GetGrant(ctx, grantID)
		if gerr != nil && !errors.Is(gerr, oauth.ErrNotFound) {
			t.Fatalf("read grant: %v", gerr)
		}
		// A probe: ConsumeCode changes nothing when it fails, tells a used code
		// (ErrUsed) from a missing one, and consumes an unused one, which is the
		// end of this test anyway.
		_, cerr := inner.ConsumeCode(ctx, codeKey, c.ClientID, now)
		if cerr != nil && !errors.Is(cerr, oauth.ErrUsed) && !errors.Is(cerr, oauth.ErrNotFound) {
			t.Fatalf("probe code: %v", cerr)
		}
		codeExists := !errors.Is(cerr, oauth.ErrNotFound)
		if codeExists != (gerr == nil) {
			t.Errorf("IssueCode half-written: code stored %v, grant stored %v", codeExists, gerr == nil)
		}
		if !codeExists {
			continue
		}
		codesOf[reqKey]++
		codeConsumed[grantID] = errors.Is(cerr, oauth.ErrUsed)
		if req, err := inner.GetPushedRequest(ctx, reqKey); err != nil || req.ConsumedAt == nil {
			t.Errorf("a code exists for a pushed request that is not consumed (%v)", err)
		}
	}
	for _, c := range calls {
		if c.Method != oauthtest.MethodCreatePushedRequest {
			continue
		}
		req, err := inner.GetPushedRequest(ctx, c.Keys[0])
		if errors.Is(err, oauth.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("read pushed request: %v", err)
		}
		switch n := codesOf[c.Keys[0]]; {
		case n > 1:
			t.Errorf("%d codes for one pushed request", n)
		case req.ConsumedAt != nil && n == 0:
			t.Errorf("a pushed request was consumed without a code")
		}
	}
	for _, c := range calls {
		var key string
		switch c.Method {
		case oauthtest.MethodCreateRefreshToken:
			key = c.Keys[0]
		case oauthtest.MethodRotateRefreshToken:
			key = c.Keys[1]
		default:
			continue
		}
		rt, err := inner.GetRefreshToken(ctx, key)
		if errors.Is(err, oauth.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("read refresh token: %v", err)
		}
		if !codeConsumed[rt.GrantID] {
			t.Errorf("a refresh token exists for a grant whose code was not consumed")
		}
		grant, err := inner.GetGrant(ctx, rt.GrantID)
		if err != nil {
			t.Fatalf("read grant of a refresh token: %v", err)
		}
		if rt.UsedAt == nil && grant.RevokedAt == nil && !f.held[key] {
			t.Errorf("a usable refresh token exists that the client never received")
		}
	}
	for _, n := range f.codeTokens {
		if n > 1 {
			t.Errorf("%d token responses for one code", n)
		}
	}
	for _, n := range f.refreshTokens {
		if n > 1 {
			t.Errorf("%d token responses for one refresh token", n)
		}
	}
}
