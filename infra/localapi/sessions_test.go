package main

// End to end, on both targets (the lambda one runs the authorize bootstrap behind
// template.yaml, so its role's session# statement and SESSION_* variables are in
// play): single sign-on sessions (OIDC Core §3.1.2.1; docs/design.md decision 31)
// with one cookie-jar browser, golang.org/x/oauth2 for the code and go-oidc for the
// ID token.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

// pushWith pushes a's request with extra parameters and returns its request_uri.
func pushWith(t *testing.T, l *local, a *authRequest, extra url.Values) string {
	t.Helper()
	params := a.params(t)
	for k, v := range extra {
		params[k] = v
	}
	resp := httpapitest.PostForm(t, l.meta.PAREndpoint, params, map[string]string{"Authorization": basicAuth(a.conf.ClientID, a.conf.ClientSecret)})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var pr pushResponse
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &pr) != nil {
		t.Fatalf("push: %d %s", resp.StatusCode, body)
	}
	return pr.RequestURI
}

// The second authorization of the same browser skips the login page, and both ID
// tokens name the same session (sid) and authentication (auth_time, amr); prompt=none
// with the session is consent_required (consent is not remembered yet), redirected
// with state and iss.
func TestSession_OIDCCore_3_1_2_1_SecondAuthorizationSkipsTheLogin(t *testing.T) {
	l := start(t, nil)
	b := l.browser(t)

	first, firstURI := l.pushApp(t)
	consent := b.signIn(t, b.open(t, first.conf.ClientID, firstURI.RequestURI))
	tok1 := first.mustExchange(t, l.authorizationResponse(t, first, b.decide(t, consent, "approve")))
	var c1 struct {
		SID      string   `json:"sid"`
		AMR      []string `json:"amr"`
		AuthTime int64    `json:"auth_time"`
	}
	if err := l.verifyIDToken(t, first, tok1).Claims(&c1); err != nil {
		t.Fatal(err)
	}
	if c1.SID == "" || len(c1.AMR) != 1 || c1.AMR[0] != "pwd" || c1.AuthTime == 0 {
		t.Fatalf("first ID token: sid %q amr %v auth_time %d", c1.SID, c1.AMR, c1.AuthTime)
	}

	second, secondURI := l.pushApp(t)
	page := b.open(t, second.conf.ClientID, secondURI.RequestURI)
	if page.Status != http.StatusOK || strings.Contains(page.Body, `name="password"`) || !strings.Contains(page.Body, `value="approve"`) {
		t.Fatalf("second authorization: want the consent page without a login, got %d:\n%s", page.Status, page.Body)
	}
	tok2 := second.mustExchange(t, l.authorizationResponse(t, second, b.decide(t, page, "approve")))
	var c2 struct {
		SID      string `json:"sid"`
		AuthTime int64  `json:"auth_time"`
	}
	if err := l.verifyIDToken(t, second, tok2).Claims(&c2); err != nil {
		t.Fatal(err)
	}
	if c2.SID != c1.SID || c2.AuthTime != c1.AuthTime {
		t.Fatalf("second ID token: sid %q auth_time %d, want %q %d", c2.SID, c2.AuthTime, c1.SID, c1.AuthTime)
	}

	silent := newRequest(l.app())
	r := b.open(t, silent.conf.ClientID, pushWith(t, l, silent, url.Values{"prompt": {"none"}}))
	_, q := responseAt(t, silent, r)
	if q.Get("error") != "consent_required" || q.Get("state") != silent.state || q.Get("iss") != l.srv.Issuer || q.Get("code") != "" {
		t.Fatalf("prompt=none with a session: %v", q)
	}
}
