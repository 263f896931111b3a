package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoginPage_OIDCCore_3_1_2_1_LoginHint: login_hint, "Hint to the Authorization
// Server about the login identifier the End-User might use to log in" (OpenID Connect
// Core §3.1.2.1), pre-fills the username field of the login page (the page contract's
// username field, docs/design.md "Page contract") when it could be a username:
// escaped by html/template into the value attribute, at most as long as a username
// may be, and never written to the log, pushed or sent straight to /authorize.
func TestLoginPage_OIDCCore_3_1_2_1_LoginHint(t *testing.T) {
	logs := &syncBuffer{}
	ts := newServer(t, withLogs(logs))
	loginPage := func(t *testing.T, hint string) response {
		t.Helper()
		params := pushParams()
		params.Set("login_hint", hint)
		r := ts.browser(t).get(t, authorizePath(confID, ts.push(t, confID, confSecret, params)))
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("login page: %d %s", r.Status, r.Body)
		}
		return r
	}
	usernameField := func(t *testing.T, r response) string {
		t.Helper()
		i := strings.Index(r.Body, `<input type="text" id="username" name="username"`)
		if i < 0 {
			t.Fatalf("no username field: %s", r.Body)
		}
		field, _, _ := strings.Cut(r.Body[i:], ">")
		return field
	}

	t.Run("OIDC Core §3.1.2.1 login_hint pre-fills the username and the password gets the focus", func(t *testing.T) {
		r := loginPage(t, "alice@example.org")
		if f := usernameField(t, r); !strings.Contains(f, `value="alice@example.org"`) || strings.Contains(f, "autofocus") {
			t.Errorf("username field %s, want the hint as its value and no autofocus", f)
		}
		if !strings.Contains(r.Body, `autocomplete="current-password" required autofocus`) {
			t.Error("the password field does not get the focus")
		}
	})
	t.Run("OIDC Core §3.1.2.1 the hint is escaped in the value attribute", func(t *testing.T) {
		r := loginPage(t, `x" autofocus onfocus="alert(1)"><script>alert(2)</script>`)
		f := usernameField(t, r)
		if strings.Contains(r.Body, "<script>alert(2)") || strings.Contains(f, `"alert(1)"`) {
			t.Fatalf("the hint escaped the attribute: %s", f)
		}
		if !strings.Contains(f, `value="x&#34; autofocus onfocus=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"`) {
			t.Errorf("username field %s, want the hint HTML-escaped as its value", f)
		}
	})
	t.Run("OIDC Core §3.1.2.1 a hint of the longest username (256 bytes) is pre-filled", func(t *testing.T) {
		hint := strings.Repeat("h", 256)
		if f := usernameField(t, loginPage(t, hint)); !strings.Contains(f, `value="`+hint+`"`) {
			t.Errorf("username field %s", f)
		}
	})
	t.Run("OIDC Core §3.1.2.1 a hint longer than any username is not pre-filled", func(t *testing.T) {
		if f := usernameField(t, loginPage(t, strings.Repeat("h", 257))); !strings.Contains(f, `value=""`) || !strings.Contains(f, "autofocus") {
			t.Errorf("username field %s, want it empty and focused", f)
		}
	})
	t.Run("OIDC Core §3.1.2.1 a hint with surrounding white space is not pre-filled", func(t *testing.T) {
		if f := usernameField(t, loginPage(t, " alice ")); !strings.Contains(f, `value=""`) {
			t.Errorf("username field %s, want it empty", f)
		}
	})
	t.Run("OIDC Core §3.1.2.1 without a hint the username is empty", func(t *testing.T) {
		if f := usernameField(t, loginPage(t, "")); !strings.Contains(f, `value=""`) || !strings.Contains(f, "autofocus") {
			t.Errorf("username field %s", f)
		}
	})
	t.Run("the hint is never logged", func(t *testing.T) {
		const marker = "hint-marker-7f3a9c@example.org"
		loginPage(t, marker)
		// Straight to /authorize, where the hint is in the query string.
		q := pushParams()
		q.Set("client_id", publicID)
		q.Set("redirect_uri", "http://127.0.0.1:9999/cb")
		q.Set("scope", "openid")
		q.Set("login_hint", marker)
		b := ts.browser(t)
		// A direct request is stored and continued under a request_uri (a 303 to it).
		page := b.get(t, "/authorize?"+q.Encode())
		if page.Status == http.StatusSeeOther {
			page = b.get(t, page.Header.Get("Location"))
		}
		if page.Status != http.StatusOK || !strings.Contains(page.Body, `value="`+marker+`"`) {
			t.Fatalf("direct request: %d %s", page.Status, page.Body)
		}
		// A failed sign-in with the hinted username, and an overlong hint refused at /par.
		b.submit(t, page, url.Values{"username": {marker}, "password": {"wrong-" + password}})
		params := pushParams()
		params.Set("login_hint", marker+strings.Repeat("x", 3000))
		if r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, params.Encode()); r.Status != http.StatusBadRequest {
			t.Fatalf("overlong hint: %d %s", r.Status, r.Body)
		}
		out := logs.String()
		if n := strings.Count(out, `"route":"/authorize"`); n < 10 { // six pages above, four here
			t.Fatalf("%d /authorize access lines, want at least 10:\n%s", n, out)
		}
		if strings.Contains(out, "hint-marker") {
			t.Errorf("the login_hint is in the log:\n%s", out)
		}
	})
}
