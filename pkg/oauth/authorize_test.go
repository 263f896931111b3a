package oauth_test

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestResume_Rules: RFC 9126 §4, what a request_uri at the authorization endpoint
// must be. Every failure is one page, never a redirect.
func TestResume_Rules(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare runs after conf-client pushed uri and returns the client_id and
		// request_uri to resume, and whether the browser already holds it.
		prepare func(d *domain, uri string) (clientID, requestURI string, resumed bool)
		code    string // "" for success
	}{
		{name: "RFC 9126 §4 a fresh request_uri resolves",
			prepare: func(_ *domain, uri string) (string, string, bool) { return confID, uri, false }},
		{name: "RFC 9126 §4 client_id is required",
			prepare: func(_ *domain, uri string) (string, string, bool) { return "", uri, false }, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §4.1.2.1 unknown client is a page, invalid_request",
			prepare: func(_ *domain, uri string) (string, string, bool) { return "nobody", uri, false }, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §4.1.2.1 disabled client is a page, invalid_request",
			prepare: func(d *domain, uri string) (string, string, bool) {
				d.changeClient(confID, func(c *oauth.Client) { c.Disabled = true })
				return confID, uri, false
			}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.2 request_uri without the URN prefix is invalid_request_uri",
			prepare: func(_ *domain, uri string) (string, string, bool) {
				return confID, strings.TrimPrefix(uri, oauth.RequestURIPrefix), false
			}, code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §4 unknown reference is invalid_request_uri",
			prepare: func(_ *domain, uri string) (string, string, bool) { return confID, uri + "x", false }, code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §4 via RFC 9101 §6.3 client_id must match the pushing client",
			prepare: func(_ *domain, uri string) (string, string, bool) { return postID, uri, false }, code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §4 an expired request_uri MUST be rejected",
			prepare: later(60*time.Second, false), code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §4 one second before expires_in still resolves",
			prepare: later(59*time.Second, false)},
		{name: "docs/design.md decision 2 a resumed transaction outlives expires_in",
			prepare: later(5*time.Minute, true)},
		{name: "docs/design.md decision 2 a resumed transaction ends at its deadline",
			prepare: later(10*time.Minute, true), code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §4 request_uri is one-time use",
			prepare: func(d *domain, uri string) (string, string, bool) {
				d.mustApprove(d.mustResume(confID, uri))
				return confID, uri, true
			}, code: oauth.CodeInvalidRequestURI},
		{name: "RFC 9126 §7.4 redirect URI removed from the client since the push is invalid_request",
			prepare: func(d *domain, uri string) (string, string, bool) {
				d.changeClient(confID, func(c *oauth.Client) { c.RedirectURIs = []string{"https://new.example.org/cb"} })
				return confID, uri, false
			}, code: oauth.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			uri := d.mustPush(d.client(confID), authParams(confID))
			id, ruri, resumed := tc.prepare(d, uri)
			tx, err := d.resume(id, ruri, resumed)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tx.Client.ID != confID || tx.Request.Key != oauth.HashKey(strings.TrimPrefix(uri, oauth.RequestURIPrefix)) || tx.Request.Request.State != "st-"+confID {
					t.Errorf("transaction = client %s request %+v", tx.Client.ID, tx.Request)
				}
				return
			}
			if tx != nil {
				t.Fatalf("resume succeeded: %+v", tx)
			}
			if e := wantErr(t, err, tc.code); e.Redirect {
				t.Errorf("a resume error is redirectable: %v", e)
			}
		})
	}
}

// later is a TestResume_Rules row's prepare that resumes conf-client's request_uri
// dur after the push, the browser holding it already or not (resumed).
func later(dur time.Duration, resumed bool) func(*domain, string) (string, string, bool) {
	return func(d *domain, uri string) (string, string, bool) {
		d.advance(dur)
		return confID, uri, resumed
	}
}

// TestResumeRequest_RFC9101_5_RequestAndRequestURI: OIDC Core §6 "If one of these
// parameters is used, the other MUST NOT be used in the same request". A request next
// to a request_uri that resolves is invalid_request at the pushed request's redirect
// URI; next to one that does not resolve, the request_uri's own error (a page).
func TestResumeRequest_RFC9101_5_RequestAndRequestURI(t *testing.T) {
	d := newDomain(t)
	uri := d.mustPush(d.client(confID), authParams(confID))
	key, _ := oauth.RequestKey(uri)
	tx, err := d.svc.ResumeRequest(d.ctx, url.Values{"client_id": {confID}, "request_uri": {uri}, "request": {"a.b.c"}}, key, oauth.FirstRedemption)
	if e := wantErr(t, err, oauth.CodeInvalidRequest); !e.Redirect || tx == nil || tx.Request.Request.State != "st-"+confID {
		t.Errorf("request with request_uri: redirect %v transaction %+v", e.Redirect, tx)
	}
	// RFC 6749 §3.1: a parameter without a value is as if omitted.
	if _, err := d.svc.ResumeRequest(d.ctx, url.Values{"client_id": {confID}, "request_uri": {uri}, "request": {""}}, key, oauth.FirstRedemption); err != nil {
		t.Errorf("an empty request next to request_uri: %v", err)
	}
	tx, err = d.svc.ResumeRequest(d.ctx, url.Values{"client_id": {confID}, "request_uri": {uri + "x"}, "request": {"a.b.c"}}, key+"x", oauth.FirstRedemption)
	if e := wantErr(t, err, oauth.CodeInvalidRequestURI); e.Redirect || tx != nil {
		t.Errorf("request with an unknown request_uri: redirect %v transaction %+v", e.Redirect, tx)
	}
	// The refusal consumed nothing: the reference still resolves without request.
	if _, err := d.svc.ResumeRequest(d.ctx, url.Values{"client_id": {confID}, "request_uri": {uri}}, key, oauth.FirstRedemption); err != nil {
		t.Fatal(err)
	}
}

// TestStartDirect_Rules: an authorization request sent to /authorize without PAR.
func TestStartDirect_Rules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      func(*oauth.Config)
		client   func(*oauth.Client)
		params   []string
		code     string
		redirect bool
	}{
		{name: "RFC 6749 §4.1.1 a valid direct request is stored for the flow"},
		{name: "RFC 9126 §5 require_pushed_authorization_requests server metadata refuses direct requests at the redirect URI",
			cfg: func(c *oauth.Config) { c.RequirePAR = true }, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 9126 §6 require_pushed_authorization_requests client metadata refuses direct requests at the redirect URI",
			client: func(c *oauth.Client) { c.RequirePushedAuthorizationRequests = true }, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 9126 §4 PAR required comes before the rest of the request is judged",
			client: func(c *oauth.Client) { c.RequirePushedAuthorizationRequests = true }, params: []string{"code_challenge", absent, "response_type", "token"},
			code: oauth.CodeInvalidRequest, redirect: true},
		{name: "RFC 6749 §4.1.2.1 PAR required with an unregistered redirect_uri is a page",
			client: func(c *oauth.Client) { c.RequirePushedAuthorizationRequests = true }, params: []string{"redirect_uri", "https://evil.example/cb"},
			code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §3.1 client_id twice is invalid_request", params: []string{"client_id", confID + "\x00dup"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §4.1.2.1 missing client_id is a page", params: []string{"client_id", absent}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §4.1.2.1 unregistered redirect_uri is never redirected to", params: []string{"redirect_uri", "https://evil.example/cb"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 9126 §2.4 prefix matching is for pushed requests only", params: []string{"redirect_uri", redirect + "/x"}, code: oauth.CodeInvalidRequest},
		{name: "RFC 6749 §4.1.2.1 errors after the redirect URI go to it", params: []string{"code_challenge", absent}, code: oauth.CodeInvalidRequest, redirect: true},
		{name: "OIDC Core §3.1.2.6 request objects at /authorize are request_not_supported", params: []string{"request", "a.b.c"}, code: "request_not_supported", redirect: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomainFor(t, tc.cfg, confID, tc.client)
			params := authParams(confID, tc.params...)
			if v := params.Get("client_id"); strings.HasSuffix(v, "\x00dup") {
				params["client_id"] = []string{confID, confID}
			}
			uri, req, err := d.startDirect(params)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				tx := d.mustResume(confID, uri)
				if tx.Request.Pushed || req.State != "st-"+confID || tx.Request.Request.CodeChallenge != challenge {
					t.Errorf("stored direct request: pushed %v request %+v", tx.Request.Pushed, tx.Request.Request)
				}
				// The direct request follows the same one-time path.
				q := d.mustApprove(tx)
				if q.Get("code") == "" || q.Get("state") != "st-"+confID {
					t.Errorf("authorization response = %v", q)
				}
				return
			}
			if uri != "" {
				t.Fatalf("request stored as %s", uri)
			}
			e := wantErr(t, err, tc.code)
			if e.Redirect != tc.redirect {
				t.Errorf("Redirect = %v, want %v", e.Redirect, tc.redirect)
			}
			if tc.redirect && (req == nil || req.RedirectURI != redirect || req.State != "st-"+confID) {
				t.Errorf("a redirectable error needs the request's redirect URI and state: %+v", req)
			}
			// RFC 9126 §4 via RFC 6749 §4.1.2.1: the description says why.
			if tc.redirect && (tc.client != nil || tc.cfg != nil) {
				if !strings.Contains(e.Description, "pushed authorization requests are required") {
					t.Errorf("description %q does not say PAR is required", e.Description)
				}
			}
		})
	}
	t.Run("RFC 9126 §4 a direct request is refused at resume once the client requires PAR", func(t *testing.T) {
		d := newDomain(t)
		uri, _, err := d.startDirect(authParams(confID))
		if err != nil {
			t.Fatal(err)
		}
		d.changeClient(confID, func(c *oauth.Client) { c.RequirePushedAuthorizationRequests = true })
		tx, err := d.resume(confID, uri, true)
		// RFC 6749 §4.1.2.1: the client and its redirect URI are established, so the
		// refusal goes there, with the transaction that names it.
		if e := wantErr(t, err, oauth.CodeInvalidRequest); !e.Redirect || tx == nil || tx.Request.Request.State != "st-"+confID {
			t.Errorf("PAR required at resume: redirect %v transaction %+v", e.Redirect, tx)
		}
	})
}

// TestApprove: issuing the code (RFC 6749 §4.1.2) in the step that consumes the
// request (FAPI 2.0 §5.3.2.2 note 3).
func TestApprove(t *testing.T) {
	t.Run("RFC 6749 §4.1.2 response carries code and state, RFC 9207 §2 iss", func(t *testing.T) {
		d := newDomain(t)
		raw, err := d.approve(d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, "redirect_uri", redirect+"/t?keep=1"))), username)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		// RFC 6749 §3.1.2: the redirect URI's own query "MUST be retained".
		if u.Scheme+"://"+u.Host+u.Path != redirect+"/t" || q.Get("keep") != "1" || q.Get("state") != "st-"+confID || q.Get("iss") != issuer || len(q.Get("code")) != 43 {
			t.Errorf("authorization response = %s", raw)
		}
	})
	t.Run("RFC 6749 §4.1.2 no state parameter when the request had none", func(t *testing.T) {
		d := newDomain(t)
		q := d.mustApprove(d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, "state", absent))))
		if _, ok := q["state"]; ok || q.Get("code") == "" {
			t.Errorf("authorization response = %v", q)
		}
	})
	t.Run("RFC 9126 §4 approving the same transaction twice issues one code", func(t *testing.T) {
		d := newDomain(t)
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		d.mustApprove(tx)
		_, err := d.approve(tx, username)
		wantErr(t, err, oauth.CodeInvalidRequestURI)
	})
	t.Run("FAPI 2.0 §5.3.2.2 concurrent approvals issue exactly one code", func(t *testing.T) {
		d := newDomain(t)
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 20 {
			wg.Go(func() {
				if _, err := d.approve(tx, username); err == nil {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d approvals succeeded, want 1", won)
		}
	})
	t.Run("docs/design.md decision 2 approval after the transaction deadline fails", func(t *testing.T) {
		d := newDomain(t)
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		d.advance(10 * time.Minute)
		_, err := d.approve(tx, username)
		wantErr(t, err, oauth.CodeInvalidRequestURI)
	})
	t.Run("RFC 6749 §4.1.2.1 a user deleted meanwhile is access_denied to the client", func(t *testing.T) {
		d := newDomain(t)
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		_, err := d.approve(tx, "ghost")
		if e := wantErr(t, err, oauth.CodeAccessDenied); !e.Redirect {
			t.Error("access_denied must go to the redirect URI")
		}
	})
	t.Run("RFC 6749 §4.1.2.1 a user disabled meanwhile is access_denied to the client", func(t *testing.T) {
		d := newDomain(t)
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		d.putUser(&oauth.User{Username: "bob", PasswordHash: cheapHash("x"), Disabled: true})
		_, err := d.approve(tx, "bob")
		if e := wantErr(t, err, oauth.CodeAccessDenied); !e.Redirect {
			t.Error("access_denied must go to the redirect URI")
		}
	})
}

// TestErrorURL: RFC 6749 §4.1.2.1 error responses with state and RFC 9207 iss.
func TestErrorURL(t *testing.T) {
	d := newDomain(t)
	req := &oauth.AuthorizationRequest{RedirectURI: "https://client.example.org/cb?a=b#frag", State: "xyz"}
	u, err := url.Parse(d.errorURL(req, oauth.AccessDenied(`user said "no"`)))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	// RFC 6749 §5.2: error_description excludes '"'.
	if q.Get("error") != oauth.CodeAccessDenied || q.Get("state") != "xyz" || q.Get("iss") != issuer ||
		q.Get("a") != "b" || q.Get("error_description") != "user said 'no'" || u.Fragment != "" {
		t.Errorf("error URL = %s", u)
	}
	u, _ = url.Parse(d.errorURL(&oauth.AuthorizationRequest{RedirectURI: redirect}, &oauth.Error{Code: oauth.CodeServerError}))
	if _, ok := u.Query()["error_description"]; ok || u.Query().Has("state") {
		t.Errorf("error URL without description and state = %s", u)
	}
}

// TestLogin: the built-in login page's password check.
func TestLogin(t *testing.T) {
	d := newDomain(t)
	d.putUser(&oauth.User{Username: "bob", PasswordHash: cheapHash("pw"), Disabled: true})
	d.putUser(&oauth.User{Username: "mallory", PasswordHash: "plain"})
	u, err := d.login(username, password)
	if err != nil || u.Subject() != subject {
		t.Fatalf("login = %v %v", u, err)
	}
	for name, c := range map[string][2]string{
		"wrong password": {username, password + "!"},
		"empty password": {username, ""},
		"empty username": {"", password},
		"overlong user":  {strings.Repeat("u", 257), password},
		"disabled user":  {"bob", "pw"},
		"unknown user":   {"nobody", password},
	} {
		if u, err := d.login(c[0], c[1]); !errors.Is(err, oauth.ErrBadCredentials) || u != nil {
			t.Errorf("%s: %v %v, want ErrBadCredentials", name, u, err)
		}
	}
	// A malformed stored hash is the server's fault, not the user's.
	_, err = d.login("mallory", "x")
	wantErr(t, err, oauth.CodeServerError)
	if (&oauth.User{Username: "u"}).Subject() != "u" {
		t.Error("Subject without a sub claim must be the username")
	}
}
