package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

func isLoginPage(r response) bool {
	return r.Status == http.StatusOK && strings.Contains(r.Body, `name="password"`)
}

// sessionCookieOf is the browser's single sign-on session cookie, or nil.
func sessionCookieOf(t *testing.T, ts *testServer, b *browser) *http.Cookie {
	t.Helper()
	base, err := url.Parse(ts.URL + "/authorize")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Client.Jar.Cookies(base) {
		if c.Name == "pargate_session" {
			return c
		}
	}
	return nil
}

// OIDC Core §3.1.2.1: a second authorization in the same browser skips the login page
// (confID is registered with consent: always, so the consent page follows; remembered
// consent is consent_test.go), and the code is issued for the session's user.
func TestSession_OIDCCore_3_1_2_1_SecondAuthorizationSkipsTheLogin(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	if q := b.approve(t, b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))); q.Get("code") == "" {
		t.Fatalf("first authorization: %v", q)
	}
	first := sessionCookieOf(t, ts, b)
	if first == nil || len(first.Value) != 43 {
		t.Fatalf("no session cookie of a 256-bit id after the login: %+v", first)
	}
	page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
	if !isConsent(page) || !strings.Contains(page.Body, "Signed in as <strong>"+username+"</strong>") {
		t.Fatalf("second authorization: want the consent page for %s, got %d\n%s", username, page.Status, page.Body)
	}
	if q := b.approve(t, page); q.Get("code") == "" {
		t.Fatalf("second authorization: %v", q)
	}
	if again := sessionCookieOf(t, ts, b); again == nil || again.Value != first.Value {
		t.Fatal("the session cookie changed without a login")
	}
}

// OIDC Core §3.1.2.1: prompt=login and max_age (elapsed ≥ max_age; 0 included) show
// the login page although the browser has a session; signing in again replaces the
// session (a new id, the old one ended).
func TestSession_OIDCCore_3_1_2_1_PromptLoginAndMaxAgeAskAgain(t *testing.T) {
	for _, kv := range [][]string{{"prompt", "login"}, {"max_age", "0"}, {"prompt", "login consent"}} {
		t.Run(strings.Join(kv, "="), func(t *testing.T) {
			ts := newServer(t)
			b := ts.browser(t)
			b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))
			first := sessionCookieOf(t, ts, b)
			uri := ts.push(t, confID, confSecret, with(pushParams(), kv...))
			if page := b.get(t, authorizePath(confID, uri)); !isLoginPage(page) {
				t.Fatalf("with a session: want the login page, got %d\n%s", page.Status, page.Body)
			}
			if q := b.approve(t, b.login(t, confID, uri)); q.Get("code") == "" {
				t.Fatalf("after signing in again: %v", q)
			}
			second := sessionCookieOf(t, ts, b)
			if second == nil || second.Value == first.Value {
				t.Fatal("signing in again kept the session id")
			}
			// The old id names no session any more: a browser still holding it signs in.
			old := ts.browser(t)
			base, _ := url.Parse(ts.URL + "/authorize")
			old.Client.Jar.SetCookies(base, []*http.Cookie{{Name: first.Name, Value: first.Value, Path: "/"}})
			if page := old.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams()))); !isLoginPage(page) {
				t.Fatalf("with the replaced session id: want the login page, got %d", page.Status)
			}
		})
	}
}

// OIDC Core §3.1.2.1 max_age not yet elapsed reuses the session.
func TestSession_OIDCCore_3_1_2_1_MaxAgeNotElapsedReuses(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))
	uri := ts.push(t, confID, confSecret, with(pushParams(), "max_age", "3600"))
	if page := b.get(t, authorizePath(confID, uri)); !isConsent(page) {
		t.Fatalf("max_age=3600 a moment after the login: want the consent page, got %d\n%s", page.Status, page.Body)
	}
}

// OIDC Core §2 (and the hardening issue's tokens_valid_after): a session whose user
// was disabled, cut off or re-created since the login ends at its next use: the
// login page, and the cookie deleted.
func TestSession_OIDCCore_2_ChangedUserEndsTheSession(t *testing.T) {
	for name, change := range map[string]func(u *oauth.User){
		"disabled":                   func(u *oauth.User) { u.Disabled = true },
		"password changed (cut off)": func(u *oauth.User) { u.TokensValidAfter = time.Now().UTC().Add(time.Second) },
		"deleted and re-created":     func(u *oauth.User) { u.Sub = "a-new-subject" },
	} {
		t.Run(name, func(t *testing.T) {
			store := seededStore(t, memory.New())
			ts := newServer(t, withStore(store))
			b := ts.browser(t)
			b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))
			changeUser(t, store, username, change)
			page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
			if !isLoginPage(page) {
				t.Fatalf("a session of a user %s: want the login page, got %d\n%s", name, page.Status, page.Body)
			}
			if c := sessionCookieOf(t, ts, b); c != nil {
				t.Fatalf("the session cookie was kept: %+v", c)
			}
		})
	}
}

// The session cookie under an https issuer: __Host- prefixed, Secure, HttpOnly,
// SameSite=Lax, Path=/, no Domain, until the session's absolute deadline; over http
// (a local run) unprefixed and not Secure.
func TestSession_CookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		cookie string
		secure bool
	}{
		{"https issuer", httpsIssuer, "__Host-pargate_session", true},
		{"http issuer", nil, "pargate_session", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []serverOption
			if tc.env != nil {
				opts = append(opts, withEnv(tc.env))
			}
			ts := newServer(t, opts...)
			login := ts.startTx(t)
			r := ts.postWith(t, login, credentialsForm, txCookie(t, login))
			if r.Status != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", r.Status, r.Body)
			}
			var got *http.Cookie
			for _, c := range (&http.Response{Header: r.Header}).Cookies() {
				if strings.HasSuffix(c.Name, "pargate_session") {
					got = c
				}
			}
			if got == nil {
				t.Fatalf("no session cookie in %q", r.Header.Values("Set-Cookie"))
			}
			if got.Name != tc.cookie || got.Secure != tc.secure || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode ||
				got.Path != "/" || got.Domain != "" || got.MaxAge != int((12*time.Hour).Seconds()) || len(got.Value) != 43 {
				t.Fatalf("session cookie %+v", got)
			}
		})
	}
}

// idTokenOf exchanges code for tokens and returns the verified ID token's claims.
func idTokenOf(t *testing.T, ts *testServer, code string) map[string]any {
	t.Helper()
	tr := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode())
	if tr.Status != 200 {
		t.Fatalf("token: %d %s", tr.Status, tr.Body)
	}
	return ts.verifiedClaims(t, tr.JSON["id_token"].(string))
}

// OIDC Core §2 (auth_time, amr) and OIDC Back-Channel Logout §2.1 (sid): the ID
// tokens of one session carry its sid and the login's auth_time and amr; a new login
// (prompt=login) is a new session: another sid, a new auth_time.
func TestSession_OIDCCore_2_IDTokenCarriesSidAmrAndAuthTime(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	first := idTokenOf(t, ts, b.approve(t, b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))).Get("code"))
	sid, ok := first["sid"].(string)
	if !ok || len(sid) != 43 {
		t.Fatalf("sid %v, want a 43-character string", first["sid"])
	}
	if amr, _ := first["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
		t.Fatalf("amr %v, want [pwd]", first["amr"])
	}
	if c := sessionCookieOf(t, ts, b); c == nil || strings.Contains(sid, c.Value) || sid == oauth.HashKey(c.Value) {
		t.Fatal("the sid is the session id or its store key")
	}
	page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
	second := idTokenOf(t, ts, b.approve(t, page).Get("code"))
	if second["sid"] != sid || second["auth_time"] != first["auth_time"] {
		t.Fatalf("second authorization of the session: sid %v auth_time %v, want %v %v", second["sid"], second["auth_time"], sid, first["auth_time"])
	}
	ts.clock.Advance(time.Minute)
	uri := ts.push(t, confID, confSecret, with(pushParams(), "prompt", "login"))
	third := idTokenOf(t, ts, b.approve(t, b.login(t, confID, uri)).Get("code"))
	if third["sid"] == sid || third["auth_time"] == first["auth_time"] {
		t.Fatalf("after prompt=login: sid %v auth_time %v, want both new", third["sid"], third["auth_time"])
	}
}

// OpenID Connect Discovery §3 / OIDC Core §3.1.2.1: prompt_values_supported lists
// none, login, consent and select_account (the login page's "Continue as"); claims_supported
// the session's auth_time, amr and sid, and a brokered login's acr and idp (issue 13).
func TestSession_DiscoveryListsPromptValuesAndSessionClaims(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodGet, "/.well-known/openid-configuration", "", "", "")
	if r.Status != 200 {
		t.Fatalf("discovery: %d", r.Status)
	}
	has := func(field string, want ...string) {
		t.Helper()
		got, _ := r.JSON[field].([]any)
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("%s %v lacks %q", field, got, w)
			}
		}
	}
	has("prompt_values_supported", "none", "login", "consent", "select_account")
	has("claims_supported", "auth_time", "amr", "sid", "acr", "idp")
}

// postFollow posts fields to /authorize and follows the 303 (Post/Redirect/Get).
func postFollow(t *testing.T, b *browser, fields url.Values) response {
	t.Helper()
	r := asResponse(t, b.Post(t, "/authorize", fields))
	if r.Status != http.StatusSeeOther {
		t.Fatalf("post %s: %d, want 303\n%s", fields.Get("pargate_step"), r.Status, r.Body)
	}
	return b.get(t, r.Header.Get("Location"))
}

// formOfStep returns the hidden fields of the form on page whose pargate_step is step.
func formOfStep(t *testing.T, page response, step string) url.Values {
	t.Helper()
	for _, f := range strings.Split(page.Body, "<form")[1:] {
		if strings.Contains(f, `name="pargate_step" value="`+step+`"`) {
			return httpapitest.HiddenFields(f)
		}
	}
	t.Fatalf("no %s form on the page:\n%s", step, page.Body)
	return nil
}

// OIDC Core §3.1.2.1 prompt=select_account: the login page offers the session's user
// ("Continue as NAME", which signs in without the password) and "Not you?", which
// ends the session for this browser and shows the plain login page.
func TestSession_OIDCCore_3_1_2_1_ContinueAsAndNotYou(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))
	page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, with(pushParams(), "prompt", "select_account"))))
	if !isLoginPage(page) || !strings.Contains(page.Body, "Continue as "+username) || !strings.Contains(page.Body, "Not you?") {
		t.Fatalf("select_account with a session: want the login page offering the session\n%s", page.Body)
	}
	consent := postFollow(t, b, formOfStep(t, page, "continue"))
	if !isConsent(consent) {
		t.Fatalf("Continue as: want the consent page, got %d\n%s", consent.Status, consent.Body)
	}
	if q := b.approve(t, consent); q.Get("code") == "" {
		t.Fatalf("Continue as: %v", q)
	}

	page = b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, with(pushParams(), "prompt", "select_account"))))
	after := postFollow(t, b, formOfStep(t, page, "switch"))
	if !isLoginPage(after) || strings.Contains(after.Body, "Not you?") {
		t.Fatalf("Not you?: want the plain login page, got %d\n%s", after.Status, after.Body)
	}
	if c := sessionCookieOf(t, ts, b); c != nil {
		t.Fatalf("Not you? kept the session cookie %+v", c)
	}
	if page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams()))); !isLoginPage(page) {
		t.Fatalf("after Not you?: a new authorization must sign in, got %d", page.Status)
	}
}

// OIDC Core §3.1.2.1: under prompt=login the page names the session's user with
// "Not you?" but offers no "Continue as", and a forged continue does not sign in.
func TestSession_OIDCCore_3_1_2_1_PromptLoginCannotContinue(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	b.login(t, confID, ts.push(t, confID, confSecret, pushParams()))
	page := b.get(t, authorizePath(confID, ts.push(t, confID, confSecret, with(pushParams(), "prompt", "login"))))
	if !isLoginPage(page) || strings.Contains(page.Body, "Continue as") || !strings.Contains(page.Body, "Not you?") {
		t.Fatalf("prompt=login with a session: want the login page with Not you? only\n%s", page.Body)
	}
	forged := formOfStep(t, page, "switch")
	forged.Set("pargate_step", "continue")
	if r := postFollow(t, b, forged); !isLoginPage(r) {
		t.Fatalf("a forged continue under prompt=login: want the login page, got %d\n%s", r.Status, r.Body)
	}
}
