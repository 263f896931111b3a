package main

// End-to-end stories of the authorization code flow with PAR, over the harness of
// harness_test.go.

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

// TestPushedAuthorizationCodeFlowEndToEnd is the whole flow: push, sign in,
// consent, 303 with code/state/iss, exchange with PKCE, verified ID and access tokens.
func TestPushedAuthorizationCodeFlowEndToEnd(t *testing.T) {
	happyPath(t, start(t, nil))
}

func happyPath(t *testing.T, l *local) {
	a, pr := l.pushApp(t)
	b := l.browser(t)

	login := b.open(t, appID, pr.RequestURI)
	if !httpapitest.IsLoginPage(login) {
		t.Fatalf("login page: %d\n%s", login.Status, login.Body)
	}
	wantPageHeaders(t, login)
	if wantCookies(t, login) == 0 {
		t.Error("the login page sets no transaction cookie")
	}
	if strings.Contains(login.Body, a.state) || strings.Contains(login.Body, a.nonce) {
		t.Error("the login page shows pushed parameters (state or nonce)")
	}

	consent := b.signIn(t, login)
	wantPageHeaders(t, consent)
	if !strings.Contains(consent.Body, "E2E App") || !strings.Contains(consent.Body, "app.example.com") {
		t.Errorf("the consent page does not name the client and its redirect host:\n%s", consent.Body)
	}

	r := b.decide(t, consent, "approve")
	wantCookies(t, r)
	code := l.authorizationResponse(t, a, r)

	tok := a.mustExchange(t, code)
	idt := l.verifyIDToken(t, a, tok)
	if idt.Subject != userSubject {
		t.Errorf("ID token sub = %q, want %q", idt.Subject, userSubject)
	}
	var claims struct {
		Name          string `json:"name"`
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		AuthTime      int64  `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Name != "Alice Example" || claims.Email != "alice@example.org" || !claims.EmailVerified || claims.AuthTime == 0 {
		t.Errorf("ID token claims = %+v", claims)
	}
	l.verifyAccessToken(t, tok, appID, userSubject, "openid profile email")
}

// TestRequestURIIsRejectedAfterTheCodeWasIssued: RFC 9126 §4 one-time use, enforced
// at code issuance (FAPI 2.0 §5.3.2.2 note 3).
func TestRequestURIIsRejectedAfterTheCodeWasIssued(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, appID, pr.RequestURI))
	l.authorizationResponse(t, a, b.decide(t, consent, "approve"))

	wantErrorPage(t, b.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	other := l.browser(t)
	wantErrorPage(t, other.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	// The consent form posted again (back button) must not issue a second code.
	wantErrorPage(t, b.decide(t, consent, "approve"), http.StatusBadRequest, "")
}

// TestReloadOfAuthorizeBeforeCompletionWorks: FAPI 2.0 §5.3.2.2 note 3 — reloading
// the authorization page before the code is issued does not burn the request_uri.
func TestReloadOfAuthorizeBeforeCompletionWorks(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	if !httpapitest.IsLoginPage(b.open(t, appID, pr.RequestURI)) {
		t.Fatal("first load is not the login page")
	}
	login := b.open(t, appID, pr.RequestURI)
	consent := b.signIn(t, login)
	for i := range 2 {
		if p := b.open(t, appID, pr.RequestURI); !httpapitest.IsConsentPage(p) {
			t.Fatalf("reload %d after login: want the consent page, got %d:\n%s", i, p.Status, p.Body)
		} else {
			consent = p
		}
	}
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	a.mustExchange(t, code)
}

// TestExpiredRequestURIIsRejected: RFC 9126 §4 "An expired request_uri MUST be
// rejected as invalid."
func TestExpiredRequestURIIsRejected(t *testing.T) {
	localOnly(t, injectedClock)
	l := start(t, nil)
	_, pr := l.pushApp(t)
	l.advance(t, time.Duration(pr.ExpiresIn)*time.Second+time.Second)
	wantErrorPage(t, l.browser(t).open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
}

// TestTransactionContinuesAfterExpiresInOnceStarted: docs/design.md decision 2 —
// expires_in bounds when the reference can first be redeemed, not how long the
// user may take to sign in.
func TestTransactionContinuesAfterExpiresInOnceStarted(t *testing.T) {
	localOnly(t, injectedClock)
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	l.advance(t, 2*time.Duration(pr.ExpiresIn)*time.Second)
	if p := b.open(t, appID, pr.RequestURI); !httpapitest.IsLoginPage(p) {
		t.Fatalf("reload after expires_in: want the login page, got %d:\n%s", p.Status, p.Body)
	}
	consent := b.signIn(t, login)
	l.advance(t, time.Duration(pr.ExpiresIn)*time.Second)
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	tok := a.mustExchange(t, code)
	l.verifyIDToken(t, a, tok)

	// Another browser, which never started the transaction, cannot pick it up late.
	_, pr2 := l.pushApp(t)
	l.browser(t).open(t, appID, pr2.RequestURI)
	l.advance(t, time.Duration(pr2.ExpiresIn)*time.Second+time.Second)
	wantErrorPage(t, l.browser(t).open(t, appID, pr2.RequestURI), http.StatusBadRequest, "invalid_request_uri")
}

// TestTransactionStopsAtItsDeadline: the transaction deadline (default 10 min)
// bounds login and consent even for the browser that started it.
func TestTransactionStopsAtItsDeadline(t *testing.T) {
	localOnly(t, injectedClock)
	l := start(t, nil)
	_, pr := l.pushApp(t)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	l.advance(t, 2*time.Minute)
	consent := b.signIn(t, login)
	l.advance(t, 8*time.Minute+time.Second) // 10 min and 1 s after the push
	wantErrorPage(t, b.decide(t, consent, "approve"), http.StatusBadRequest, "")
	wantErrorPage(t, b.open(t, appID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")

	// Nor can a login form left open past the deadline be submitted.
	_, pr2 := l.pushApp(t)
	b2 := l.browser(t)
	login2 := b2.open(t, appID, pr2.RequestURI)
	l.advance(t, 10*time.Minute+time.Second)
	r := b2.Submit(t, login2, url.Values{"username": {userName}, "password": {userPassword}})
	wantErrorPage(t, r, http.StatusBadRequest, "")
}

// TestRequestURIOfAnotherClientIsRejected: RFC 9126 §4 via RFC 9101 §6.3 — the
// client_id must match the one the request was pushed by; the failed attempt does
// not burn the rightful client's request.
func TestRequestURIOfAnotherClientIsRejected(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	wantErrorPage(t, l.browser(t).open(t, otherID, pr.RequestURI), http.StatusBadRequest, "invalid_request_uri")
	wantErrorPage(t, l.browser(t).open(t, "no-such-client", pr.RequestURI), http.StatusBadRequest, "invalid_request")
	code := l.authorize(t, a, pr.RequestURI)
	a.mustExchange(t, code)
}

// TestReplayedCodeIsInvalidGrant: RFC 6749 §4.1.2 — a code used twice is denied.
func TestReplayedCodeIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	if _, err := a.exchange(t.Context(), code); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err := a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestWrongCodeVerifierIsInvalidGrant: RFC 7636 §4.6; the failed attempt spends
// the code, so the verifier cannot be guessed by retrying.
func TestWrongCodeVerifierIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	_, err := a.conf.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantTokenError(t, err, "invalid_grant")
	_, err = a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestMissingCodeVerifierIsInvalidGrant: PKCE is required for every client.
func TestMissingCodeVerifierIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	_, err := a.conf.Exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestWrongRedirectURIAtTokenIsInvalidGrant: RFC 6749 §4.1.3 — redirect_uri must be
// identical to the one of the authorization request, even if it is registered.
func TestWrongRedirectURIAtTokenIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	for _, uri := range []string{appRedirect2, "https://evil.example/cb"} {
		a := newRequest(l.app())
		code := l.pushAndAuthorize(t, a)
		conf := *a.conf
		conf.RedirectURL = uri
		_, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(a.verifier))
		wantTokenError(t, err, "invalid_grant")
	}
}

// TestCodeOfAnotherClientIsInvalidGrant: RFC 6749 §4.1.3 — the code must have been
// issued to the authenticated client, even with the right verifier.
func TestCodeOfAnotherClientIsInvalidGrant(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	thief := l.rp(otherID, otherSecret, appRedirect, "openid")
	_, err := thief.Exchange(t.Context(), code, oauth2.VerifierOption(a.verifier))
	wantTokenError(t, err, "invalid_grant")
}

// TestExpiredCodeIsInvalidGrant: RFC 6749 §4.1.2 — the code "MUST expire shortly
// after it is issued" (60 s by default).
func TestExpiredCodeIsInvalidGrant(t *testing.T) {
	localOnly(t, injectedClock)
	l := start(t, nil)
	a := newRequest(l.app())
	code := l.pushAndAuthorize(t, a)
	l.advance(t, 61*time.Second)
	_, err := a.exchange(t.Context(), code)
	wantTokenError(t, err, "invalid_grant")
}

// TestDenyRedirectsWithAccessDenied: RFC 6749 §4.1.2.1 — the user's refusal goes
// to the client with error, state and iss (RFC 9207 §2: error responses too).
func TestDenyRedirectsWithAccessDenied(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	r := b.decide(t, b.signIn(t, b.open(t, appID, pr.RequestURI)), "deny")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("deny: want 303, got %d:\n%s", r.Status, r.Body)
	}
	loc := r.Location(t)
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != appRedirect {
		t.Errorf("redirected to %q, want %q", got, appRedirect)
	}
	if q.Get("error") != "access_denied" || q.Get("state") != a.state || q.Get("iss") != l.srv.Issuer || q.Has("code") {
		t.Errorf("deny response %s: want error=access_denied, state=%s, iss=%s, no code", loc, a.state, l.srv.Issuer)
	}
}

// TestWrongPasswordShowsTheLoginPageAgain: no redirect, a message, and the right
// password still works afterwards.
func TestWrongPasswordShowsTheLoginPageAgain(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	for _, user := range []string{userName, "mallory"} {
		r := b.Submit(t, login, url.Values{"username": {user}, "password": {"wrong password"}})
		if !httpapitest.IsLoginPage(r) || r.Header.Get("Location") != "" {
			t.Fatalf("wrong password for %s: want the login page again, got %d %s:\n%s", user, r.Status, r.Header.Get("Location"), r.Body)
		}
		if !strings.Contains(r.Body, `role="alert"`) || !strings.Contains(r.Body, "incorrect") {
			t.Errorf("no error message on the login page:\n%s", r.Body)
		}
		wantPageHeaders(t, r)
		login = r
	}
	code := l.authorizationResponse(t, a, b.decide(t, b.signIn(t, login), "approve"))
	a.mustExchange(t, code)
}

// TestMissingOrWrongCSRFTokenIsForbidden: the login and consent forms are CSRF
// protected; a forged post gets a 403 page and changes nothing.
func TestMissingOrWrongCSRFTokenIsForbidden(t *testing.T) {
	l := start(t, nil)
	a, pr := l.pushApp(t)
	b := l.browser(t)
	login := b.open(t, appID, pr.RequestURI)
	creds := url.Values{"username": {userName}, "password": {userPassword}}
	for name, csrf := range map[string]string{"missing": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"} {
		t.Run("login/"+name, func(t *testing.T) {
			extra := url.Values{"csrf": {csrf}}
			for k, v := range creds {
				extra[k] = v
			}
			wantErrorPage(t, b.Submit(t, login, extra), http.StatusForbidden, "")
		})
	}
	consent := b.signIn(t, login)
	_, beforeLogin := httpapitest.Form(t, login)
	for name, csrf := range map[string]string{"missing": "", "wrong": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"from before login": beforeLogin.Get("csrf")} {
		t.Run("consent/"+name, func(t *testing.T) {
			wantErrorPage(t, b.Submit(t, consent, url.Values{"csrf": {csrf}, "decision": {"approve"}}), http.StatusForbidden, "")
		})
	}
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	a.mustExchange(t, code)
}

// TestNonPushedRequestFromClientRequiringPARIsInvalidRequest: RFC 9126 §5/§6 and
// docs/design.md decision 8, per client.
func TestNonPushedRequestFromClientRequiringPARIsInvalidRequest(t *testing.T) {
	l := start(t, nil)
	a := newRequest(l.rp(parOnlyID, parOnlySecret, appRedirect, "openid"))
	l.wantPARRequired(t, a, l.browser(t).Get(t, a.url()))
	// Pushed, the same client goes through.
	code := l.pushAndAuthorize(t, a)
	a.mustExchange(t, code)
}

// TestNonPushedRequestWithServerRequiringPARIsInvalidRequest: RFC 9126 §5 and
// docs/design.md decision 8, globally (REQUIRE_PAR=true), published in discovery.
func TestNonPushedRequestWithServerRequiringPARIsInvalidRequest(t *testing.T) {
	l := start(t, map[string]string{"REQUIRE_PAR": "true"})
	if !l.meta.RequirePAR {
		t.Error("discovery does not publish require_pushed_authorization_requests: true")
	}
	a := newRequest(l.app())
	l.wantPARRequired(t, a, l.browser(t).Get(t, a.url()))
	code := l.pushAndAuthorize(t, a)
	a.mustExchange(t, code)
}

// wantPARRequired checks r refuses a non-pushed request as RFC 9126 §4 says, at the
// client's redirect URI (RFC 6749 §4.1.2.1): a 303 with error=invalid_request, a
// description saying PAR is required, the request's state and iss (RFC 9207).
func (l *local) wantPARRequired(t *testing.T, a *authRequest, r httpapitest.Page) {
	t.Helper()
	loc, q := responseAt(t, a, r)
	if q.Get("error") != "invalid_request" || q.Get("state") != a.state || q.Get("iss") != l.srv.Issuer || q.Has("code") ||
		!strings.Contains(q.Get("error_description"), "pushed authorization requests are required") {
		t.Errorf("PAR-required response %s: want error=invalid_request saying so, state=%s, iss=%s, no code", loc, a.state, l.srv.Issuer)
	}
}

// TestNonPushedRequestFromNormalClientWorks: without PAR policy, a plain
// authorization request is stored and continues under the server's own request_uri.
func TestNonPushedRequestFromNormalClientWorks(t *testing.T) {
	l := start(t, nil)
	if l.meta.RequirePAR {
		t.Error("discovery publishes require_pushed_authorization_requests without REQUIRE_PAR")
	}
	a := newRequest(l.app())
	b := l.browser(t)
	r := b.Get(t, a.url())
	if r.Status != http.StatusSeeOther {
		t.Fatalf("direct request: want 303 to continue, got %d:\n%s", r.Status, r.Body)
	}
	next := r.Location(t)
	if next.Host != r.URL.Host || next.Path != r.URL.Path ||
		!strings.HasPrefix(next.Query().Get("request_uri"), "urn:ietf:params:oauth:request_uri:") ||
		next.Query().Get("client_id") != appID || next.Query().Has("state") || next.Query().Has("code_challenge") {
		t.Fatalf("direct request continues at %s", next)
	}
	consent := b.signIn(t, b.Get(t, next.String()))
	code := l.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	tok := a.mustExchange(t, code)
	l.verifyIDToken(t, a, tok)
	l.verifyAccessToken(t, tok, appID, userSubject, "openid profile email")
	wantErrorPage(t, b.Get(t, next.String()), http.StatusBadRequest, "invalid_request_uri")
}

// TestConcurrentApprovalsIssueExactlyOneCode: docs/design.md decision 4 — fifty
// concurrent approvals of one transaction (same cookie, same CSRF token): exactly
// one 303 with a code, every other one an error page.
func TestConcurrentApprovalsIssueExactlyOneCode(t *testing.T) {
	concurrentApprovals(t, start(t, nil), 50)
}

// concurrentApprovals sends n approvals of one transaction at once.
func concurrentApprovals(t *testing.T, l *local, n int) {
	a, pr := l.pushApp(t)
	b := l.browser(t)
	consent := b.signIn(t, b.open(t, appID, pr.RequestURI))
	action, fields := httpapitest.Form(t, consent)
	fields.Set("decision", "approve")
	target, err := consent.URL.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	var cookie []string
	for _, c := range b.Client.Jar.Cookies(target) {
		cookie = append(cookie, c.Name+"="+c.Value)
	}
	// Each request carries the same cookie and form and goes over its own
	// connection, opened beforehand, so that all of them reach the server at once.
	var (
		wg    sync.WaitGroup
		ready sync.WaitGroup
		gate  = make(chan struct{})
		pages = make([]httpapitest.Page, n)
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			transport := &http.Transport{}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", strings.Join(cookie, "; "))
				err = warmUp(client, l.meta.JWKSURI)
			}
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-gate
			resp, err := client.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			pages[i] = httpapitest.Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), URL: req.URL}
		}()
	}
	ready.Wait()
	close(gate)
	wg.Wait()

	var codes []string
	statuses := map[int]int{}
	for i, p := range pages {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		statuses[p.Status]++
		if p.Status == http.StatusSeeOther {
			codes = append(codes, l.authorizationResponse(t, a, p))
			continue
		}
		wantErrorPage(t, p, http.StatusBadRequest, "")
	}
	if len(codes) != 1 {
		t.Fatalf("%d concurrent approvals: %d codes issued (statuses %v), want exactly 1", n, len(codes), statuses)
	}
	if _, err := a.exchange(t.Context(), codes[0]); err != nil {
		t.Fatalf("exchange of the one code: %v", err)
	}
}

// warmUp opens client's connection to the server with a harmless GET.
func warmUp(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}
