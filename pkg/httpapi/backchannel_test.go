package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// logoutReceiver is a relying party's backchannel_logout_uri: it keeps the
// logout_token of each POST and answers status.
type logoutReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
}

func newLogoutReceiver(t *testing.T, status int) *logoutReceiver {
	t.Helper()
	lr := &logoutReceiver{}
	lr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			lr.mu.Lock()
			lr.tokens = append(lr.tokens, form.Get("logout_token"))
			lr.mu.Unlock()
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(lr.Close)
	return lr
}

func (lr *logoutReceiver) received() []string {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return append([]string(nil), lr.tokens...)
}

// backchannelServer serves the test seed with confID registered to receive logout
// tokens at uri, loopback allowed as a local run allows it.
func backchannelServer(t *testing.T, uri string, opts ...serverOption) *testServer {
	t.Helper()
	store := seededStore(t, memory.New())
	ctx := context.Background()
	c, err := store.GetClient(ctx, confID)
	if err != nil {
		t.Fatal(err)
	}
	c.BackchannelLogoutURI = uri
	c.BackchannelLogoutSessionRequired = true
	if err := oauth.CheckBackchannelLogoutURI(c); err != nil {
		t.Fatal(err)
	}
	if err := store.PutClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK": "true", "METRICS": "true"}
	return newServer(t, append([]serverOption{withStore(store), withEnv(env)}, opts...)...)
}

// claimsOf verifies tok with the server's keys and returns its typ and claims.
func claimsOf(t *testing.T, ts *testServer, tok string) (string, map[string]any) {
	t.Helper()
	payload, err := ts.keys.Verify(tok)
	if err != nil {
		t.Fatalf("the logout token does not verify with the server's keys: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	head, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	return h.Typ, claims
}

// Back-Channel Logout 1.0 §2.5: an RP-initiated logout POSTs a logout token to the
// session's client before the browser is answered; §2.4 its claims, sid the ID
// token's; the outcome is logged per client, never the token.
func TestLogout_BackchannelLogout_2_5_RPInitiatedLogoutTellsTheClient(t *testing.T) {
	lr := newLogoutReceiver(t, http.StatusOK)
	var logs, emf syncBuffer
	ts := backchannelServer(t, lr.URL+"/bcl", withLogs(&logs), withMetrics(&emf))
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	if got := lr.received(); len(got) != 0 {
		t.Fatalf("tokens before the logout: %d", len(got))
	}
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}})); !isSignedOutPage(r) {
		t.Fatalf("logout: %d\n%s", r.Status, r.Body)
	}
	got := lr.received()
	if len(got) != 1 {
		t.Fatalf("received %d logout tokens, want 1", len(got))
	}
	typ, claims := claimsOf(t, ts, got[0])
	_, idClaims := claimsOf(t, ts, idt)
	if typ != "logout+jwt" || claims["iss"] != idClaims["iss"] || claims["aud"] != confID ||
		claims["sub"] != idClaims["sub"] || claims["sid"] == nil || claims["sid"] != idClaims["sid"] {
		t.Fatalf("typ %q claims %v (ID token %v)", typ, claims, idClaims)
	}
	if ev, _ := claims["events"].(map[string]any); ev[oauth.BackchannelLogoutEvent] == nil {
		t.Fatalf("events %v", claims["events"])
	}
	if _, ok := claims["nonce"]; ok {
		t.Fatal("a nonce in a logout token")
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"backchannel_logout","client_id":"`+confID+`","outcome":"delivered","attempts":1,"status":200`) {
		t.Fatalf("no delivered line:\n%s", out)
	}
	if strings.Contains(out, got[0]) || strings.Contains(out, strings.Split(got[0], ".")[1]) {
		t.Fatal("the log has the logout token")
	}
	if strings.Contains(emf.String(), "BackchannelLogoutFailures") {
		t.Fatal("a delivered logout counted as a failure")
	}
}

// Back-Channel Logout 1.0 §2.5: "Not you?" on the login page ends the session, and its
// clients are told as at a logout.
func TestSession_BackchannelLogout_2_5_NotYouTellsTheClient(t *testing.T) {
	lr := newLogoutReceiver(t, http.StatusNoContent)
	ts := backchannelServer(t, lr.URL)
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, with(pushParams(), "prompt", "select_account"))))
	if after := postFollow(t, b, formOfStep(t, page, "switch")); !isLoginPage(after) {
		t.Fatalf("Not you?: %d", after.Status)
	}
	got := lr.received()
	if len(got) != 1 {
		t.Fatalf("received %d logout tokens, want 1", len(got))
	}
	_, claims := claimsOf(t, ts, got[0])
	_, idClaims := claimsOf(t, ts, idt)
	if claims["sid"] != idClaims["sid"] || claims["aud"] != confID {
		t.Fatalf("claims %v", claims)
	}
}

// Back-Channel Logout 1.0 §2.8: a client that answers 5xx twice is refused after one
// retry; the logout completes anyway, the line says so and the failure is counted.
func TestLogout_BackchannelLogout_2_8_AFailingClientDoesNotStopTheLogout(t *testing.T) {
	lr := newLogoutReceiver(t, http.StatusInternalServerError)
	var logs, emf syncBuffer
	ts := backchannelServer(t, lr.URL, withLogs(&logs), withMetrics(&emf))
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}})); !isSignedOutPage(r) || !sessionCleared(r) {
		t.Fatalf("logout: %d", r.Status)
	}
	if got := lr.received(); len(got) != 2 {
		t.Fatalf("received %d POSTs, want 2 (one retry)", len(got))
	}
	out := logs.String()
	if !strings.Contains(out, `"level":"WARN","msg":"backchannel_logout","client_id":"`+confID+`","outcome":"refused","attempts":2,"status":500`) {
		t.Fatalf("no refused line:\n%s", out)
	}
	if !strings.Contains(emf.String(), `"BackchannelLogoutFailures":1`) {
		t.Fatalf("no failure counted:\n%s", emf.String())
	}
}

// Without BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK (as in Lambda) a loopback
// backchannel_logout_uri is never connected to: the logout completes, unreachable.
func TestLogout_BackchannelLogout_4_LoopbackRefusedByDefault(t *testing.T) {
	lr := newLogoutReceiver(t, http.StatusOK)
	var logs syncBuffer
	store := seededStore(t, memory.New())
	c, err := store.GetClient(context.Background(), confID)
	if err != nil {
		t.Fatal(err)
	}
	c.BackchannelLogoutURI = lr.URL
	if err := store.PutClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, withStore(store), withLogs(&logs))
	b := ts.browser(t)
	idt, _ := signedIn(t, ts, b, "openid")
	if r := b.get(t, logoutPath(url.Values{"id_token_hint": {idt}})); !isSignedOutPage(r) {
		t.Fatalf("logout: %d", r.Status)
	}
	if got := lr.received(); len(got) != 0 {
		t.Fatalf("a loopback receiver got %d tokens", len(got))
	}
	if !strings.Contains(logs.String(), `"outcome":"unreachable","attempts":1`) {
		t.Fatalf("no unreachable line:\n%s", logs.String())
	}
}

// Back-Channel Logout 1.0 §2.1 and Front-Channel Logout 1.0 §3: the OP metadata.
func TestDiscovery_BackchannelLogout_2_1_Metadata(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodGet, "/.well-known/openid-configuration", "", "", "")
	if r.JSON["backchannel_logout_supported"] != true || r.JSON["backchannel_logout_session_supported"] != true ||
		r.JSON["frontchannel_logout_supported"] != false {
		t.Fatalf("%v %v %v", r.JSON["backchannel_logout_supported"], r.JSON["backchannel_logout_session_supported"], r.JSON["frontchannel_logout_supported"])
	}
}
