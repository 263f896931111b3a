package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// nativeID is a public native app (application_type native, RFC 8252) with a loopback
// IP redirect registered without a port and a private-use URI scheme redirect.
const (
	nativeID       = "native-app"
	nativeLoopback = "http://127.0.0.1/cb"
	nativeScheme   = "com.example.app:/oauth2redirect"
)

func nativeServer(tb testing.TB) *testServer {
	tb.Helper()
	store := seededStore(tb, memory.New())
	if err := store.PutClient(tb.Context(), &oauth.Client{ID: nativeID, Name: "Example Desktop", ApplicationType: oauth.ApplicationTypeNative,
		Consent: oauth.ConsentAlways, RedirectURIs: []string{nativeLoopback, nativeScheme}, TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid"}); err != nil {
		tb.Fatal(err)
	}
	return newServer(tb, withStore(store))
}

func nativeParams(redirect string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {nativeID}, "redirect_uri": {redirect}, "scope": {"openid"},
		"state": {"native-state"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// TestAuthorize_RFC8252_NativeRedirects: on the wire, a native app's pushed request
// names its loopback redirect on the port it listens on (RFC 8252 §7.3) or its
// private-use URI (§7.1), and the authorization response goes there; a URI that does
// not match is a JSON invalid_request at /par and an error page at /authorize, never a
// redirect (RFC 6749 §4.1.2.1, docs/design.md decision 11); a web client's loopback
// redirect keeps exact matching (RFC 9700 §4.1.3).
func TestAuthorize_RFC8252_NativeRedirects(t *testing.T) {
	ts := nativeServer(t)
	approve := func(t *testing.T, redirect string) *url.URL {
		t.Helper()
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, nativeParams(redirect).Encode())
		if r.Status != http.StatusCreated {
			t.Fatalf("push with redirect_uri %s: %d %s", redirect, r.Status, r.Body)
		}
		b := ts.browser(t)
		consent := b.login(t, nativeID, r.JSON["request_uri"].(string))
		resp := b.submit(t, consent, url.Values{"decision": {"approve"}})
		if resp.Status != http.StatusSeeOther {
			t.Fatalf("approve: %d %s", resp.Status, resp.Body)
		}
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("code") == "" || q.Get("state") != "native-state" || q.Get("iss") != ts.URL {
			t.Errorf("authorization response %s lacks code, state or iss", u)
		}
		return u
	}
	t.Run("RFC 8252 §7.3 the response goes to the loopback port of the request", func(t *testing.T) {
		u := approve(t, "http://127.0.0.1:54321/cb")
		if got := u.Scheme + "://" + u.Host + u.Path; got != "http://127.0.0.1:54321/cb" {
			t.Errorf("redirected to %s, want http://127.0.0.1:54321/cb", u)
		}
	})
	t.Run("RFC 8252 §7.1 the consent page names the app's scheme and lets the form go there", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, nativeParams(nativeScheme).Encode())
		if r.Status != http.StatusCreated {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
		consent := ts.browser(t).login(t, nativeID, r.JSON["request_uri"].(string))
		if !strings.Contains(consent.Body, `<strong class="host">com.example.app</strong>`) {
			t.Errorf("the consent page does not name com.example.app:\n%s", consent.Body)
		}
		// CSP Level 3 §6.7.2.8: form-action applies to the redirect that answers the
		// consent form, so the app's scheme must be a source of it.
		if csp := consent.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' com.example.app:;") {
			t.Errorf("CSP %q does not allow the form to go to com.example.app:", csp)
		}
	})
	t.Run("RFC 8252 §7.1 the response goes to the private-use URI", func(t *testing.T) {
		u := approve(t, nativeScheme)
		if got := strings.SplitN(u.String(), "?", 2)[0]; got != nativeScheme {
			t.Errorf("redirected to %s, want %s?…", u, nativeScheme)
		}
	})
	t.Run("RFC 8252 §7.3 another path at /par is invalid_request", func(t *testing.T) {
		r := ts.do(t, nil, http.MethodPost, "/par", "", form, nativeParams("http://127.0.0.1:54321/cb/other").Encode())
		if r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidRequest {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
	})
	for name, tc := range map[string]struct{ client, redirect string }{
		"RFC 8252 §7.3 direct: another path is an error page":                  {nativeID, "http://127.0.0.1:54321/cb/other"},
		"RFC 8252 §8.3 direct: localhost is no loopback IP redirect":           {nativeID, "http://localhost:54321/cb"},
		"RFC 9700 §4.1.3 direct: a web client's loopback port must match":      {publicID, "http://127.0.0.1:9998/cb"},
		"RFC 8252 §7.1 direct: a private-use URI with another path is refused": {nativeID, nativeScheme + "/x"},
	} {
		t.Run(name, func(t *testing.T) {
			q := nativeParams(tc.redirect)
			q.Set("client_id", tc.client)
			r := ts.browser(t).get(t, "/authorize?"+q.Encode())
			if r.Status != http.StatusBadRequest || r.Header.Get("Location") != "" ||
				!strings.Contains(r.Body, "The redirect address is not registered for this application.") {
				t.Fatalf("direct request with %s: %d %v %s, want the error page", tc.redirect, r.Status, r.Header, r.Body)
			}
		})
	}
}
