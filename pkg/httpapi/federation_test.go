package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// Brokered login at the edge (issue 13; docs/design.md decision 35), against a fake
// oauth.Upstream: the relying-party leg itself (discovery, PAR, ID token validation)
// is pkg/federation's, tested there and end to end in infra/localapi.

const (
	corpID     = "corp"
	corpIssuer = "https://idp.example.com"
)

// fakeUpstream plays the upstream: Begin returns a random state and an authorization
// URL at the provider's issuer; Finish checks the state and answers by the callback's
// query: error=CODE is the upstream's error response, code=sub:SUB an identity with
// that subject (and the claims and acr/amr set on the fake).
type fakeUpstream struct {
	mu        sync.Mutex
	beginErr  error
	finishErr error
	claims    map[string]any
	acr       string
	amr       []string
	authTime  time.Time         // the upstream's auth_time, zero for none
	asked     oauth.UpstreamAsk // what the last Begin was asked
	finished  int
}

func (f *fakeUpstream) Begin(_ context.Context, p *oauth.IdentityProvider, callback string, ask oauth.UpstreamAsk) (*oauth.UpstreamStart, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = ask
	if f.beginErr != nil {
		return nil, f.beginErr
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	state := base64.RawURLEncoding.EncodeToString(b)
	return &oauth.UpstreamStart{ProviderID: p.ID, State: state, Nonce: "n-" + state, CodeVerifier: "v-" + state,
		AuthorizationURL: p.Issuer + "/authorize?" + url.Values{"state": {state}, "redirect_uri": {callback}}.Encode()}, nil
}

func (f *fakeUpstream) Finish(_ context.Context, p *oauth.IdentityProvider, start *oauth.UpstreamStart, callback string, q url.Values) (*oauth.UpstreamIdentity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished++
	if f.finishErr != nil {
		return nil, f.finishErr
	}
	if q.Get("state") != start.State || start.ProviderID != p.ID || !strings.HasSuffix(callback, "/federation/callback") {
		return nil, oauth.ErrUpstreamInvalid
	}
	if e := q.Get("error"); e != "" {
		return nil, &oauth.UpstreamError{Code: e}
	}
	sub, ok := strings.CutPrefix(q.Get("code"), "sub:")
	if !ok {
		return nil, oauth.ErrUpstreamInvalid
	}
	claims := map[string]any{"sub": sub}
	for k, v := range f.claims {
		claims[k] = v
	}
	return &oauth.UpstreamIdentity{ProviderID: p.ID, Issuer: p.Issuer, Subject: sub, Claims: claims, ACR: f.acr, AMR: f.amr, AuthTime: f.authTime}, nil
}

// hostedUI is an Upstream whose authorization endpoint is on another origin than
// its issuer (a Cognito hosted UI), as httpapi.UpstreamAuthorizationEndpoint says.
type hostedUI struct{ *fakeUpstream }

func (hostedUI) AuthorizationEndpoint(context.Context, *oauth.IdentityProvider) (string, error) {
	return "https://auth.hosted.example/oauth2/authorize?x=1", nil
}

func withUpstream(u oauth.Upstream) serverOption {
	return func(o *serverOptions) { o.upstream = u }
}

// fedCase is a server over the test seed with the providers corp (enabled, Corp SSO)
// and off (disabled), and a browser.
type fedCase struct {
	ts    *testServer
	store *memory.Store
	up    *fakeUpstream
	b     *browser
}

func newFedCase(t testing.TB, env map[string]string) *fedCase {
	t.Helper()
	store := seededStore(t, memory.New())
	for _, p := range []*oauth.IdentityProvider{
		{ID: corpID, DisplayName: "Corp SSO", Issuer: corpIssuer, ClientID: "broker", ClientSecret: "x", Enabled: true},
		{ID: "off", DisplayName: "Switched Off", Issuer: "https://off.example.com", ClientID: "broker", ClientSecret: "x"},
		{ID: "other", DisplayName: "Other", Issuer: "https://other.example.net", ClientID: "broker", ClientSecret: "x", Enabled: true},
	} {
		if err := store.PutIdentityProvider(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if env == nil {
		env = map[string]string{}
	}
	env["CLIENT_CACHE_TTL"] = "0"
	c := &fedCase{store: store, up: &fakeUpstream{}}
	c.ts = newServer(t, withStore(store), withEnv(env), withUpstream(c.up))
	c.b = c.ts.browser(t)
	return c
}

func (c *fedCase) loginPage(t *testing.T, kv ...string) response {
	t.Helper()
	return c.b.get(t, authorizePath(confID, c.ts.push(t, confID, confSecret, with(pushParams(), kv...))))
}

// federate presses the provider button id on the login page.
func (c *fedCase) federate(t *testing.T, login response, id string) response {
	t.Helper()
	f := httpapiHidden(login)
	f.Set("pargate_step", "federate")
	f.Del("username")
	f.Set("idp", id)
	return asResponse(t, c.b.Post(t, "/authorize", f))
}

// httpapiHidden are the login page's hidden fields (the forms share them).
func httpapiHidden(p response) url.Values {
	v := url.Values{}
	for _, name := range []string{"client_id", "request_uri", "csrf"} {
		i := strings.Index(p.Body, `name="`+name+`" value="`)
		if i < 0 {
			continue
		}
		rest := p.Body[i+len(`name="`+name+`" value="`):]
		v.Set(name, strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'").Replace(rest[:strings.Index(rest, `"`)]))
	}
	return v
}

// toUpstream checks r is the 303 to the upstream and returns its state.
func toUpstream(t *testing.T, r response) string {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, corpIssuer+"/authorize?") {
		t.Fatalf("want a 303 to the upstream, got %d (Location %q):\n%s", r.Status, loc, r.Body)
	}
	u, _ := url.Parse(loc)
	return u.Query().Get("state")
}

// callback is the upstream's redirect back with query.
func (c *fedCase) callback(t *testing.T, query url.Values) response {
	t.Helper()
	return c.b.get(t, "/federation/callback?"+query.Encode())
}

// signInUpstream runs login page → button → upstream → callback as sub and returns
// the page /authorize shows afterwards (the consent page for conf-client).
func (c *fedCase) signInUpstream(t *testing.T, sub string) response {
	t.Helper()
	state := toUpstream(t, c.federate(t, c.loginPage(t), corpID))
	r := c.callback(t, url.Values{"state": {state}, "code": {"sub:" + sub}})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/authorize?") {
		t.Fatalf("callback: want a 303 back to /authorize, got %d (Location %q):\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return c.b.get(t, r.Header.Get("Location"))
}

const corpButton = `<button type="submit" name="idp" value="corp">Continue with Corp SSO</button>`

func TestFederation_Issue13LoginPage(t *testing.T) {
	t.Run("issue 13 §2 the button contract, above the password form, the form-action allowing the upstream", func(t *testing.T) {
		c := newFedCase(t, nil)
		p := c.loginPage(t)
		if p.Status != 200 || !strings.Contains(p.Body, corpButton) || !strings.Contains(p.Body, `value="other">Continue with Other</button>`) {
			t.Fatalf("login page lacks the provider buttons:\n%s", p.Body)
		}
		if strings.Contains(p.Body, `value="off"`) {
			t.Error("a disabled provider has a button")
		}
		if strings.Index(p.Body, corpButton) > strings.Index(p.Body, `name="username"`) {
			t.Error("the provider buttons are not above the password form")
		}
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self' https://client.example.org "+corpIssuer) || !strings.Contains(csp, "https://other.example.net") {
			t.Errorf("CSP %q: form-action must allow the upstreams' origins (the button's 303 goes there)", csp)
		}
	})
	t.Run("CSP Level 3 §6.3.1 form-action allows the authorization endpoint the Upstream names (a hosted UI on another origin)", func(t *testing.T) {
		store := seededStore(t, memory.New())
		_ = store.PutIdentityProvider(context.Background(), &oauth.IdentityProvider{ID: corpID, DisplayName: "Corp SSO", Issuer: "https://cognito-idp.example.com/pool", ClientID: "b", ClientSecret: "x", Enabled: true})
		ts := newServer(t, withStore(store), withUpstream(hostedUI{&fakeUpstream{}}))
		p := ts.browser(t).get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
		csp := p.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "https://cognito-idp.example.com") || !strings.Contains(csp, "https://auth.hosted.example") || strings.Contains(csp, "/oauth2") {
			t.Errorf("CSP %q: want the issuer's and the authorization endpoint's origins", csp)
		}
	})
	t.Run("issue 13 §1 client metadata identity_providers restricts the buttons", func(t *testing.T) {
		c := newFedCase(t, nil)
		changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.IdentityProviders = []string{"other"} })
		p := c.loginPage(t)
		if strings.Contains(p.Body, corpButton) || !strings.Contains(p.Body, `value="other"`) {
			t.Fatalf("buttons of a client restricted to other:\n%s", p.Body)
		}
		// A button the page did not offer is refused when posted.
		wantPage(t, c.federate(t, p, corpID), 400, oauth.CodeInvalidRequest)
	})
	t.Run("issue 13 §2 the provider button has the login form's CSRF protection", func(t *testing.T) {
		c := newFedCase(t, nil)
		p := c.loginPage(t)
		f := httpapiHidden(p)
		f.Set("pargate_step", "federate")
		f.Set("idp", corpID)
		f.Set("csrf", "forged")
		wantPage(t, asResponse(t, c.b.Post(t, "/authorize", f)), 403, oauth.CodeInvalidRequest)
		if c.up.finished != 0 {
			t.Error("upstream reached")
		}
	})
	t.Run("issue 13 §2 a disabled or unknown provider posted is a page", func(t *testing.T) {
		c := newFedCase(t, nil)
		p := c.loginPage(t)
		wantPage(t, c.federate(t, p, "off"), 400, oauth.CodeInvalidRequest)
		wantPage(t, c.federate(t, p, "nobody"), 400, oauth.CodeInvalidRequest)
	})
	t.Run("issue 13 §2 LOCAL_LOGIN=false hides the password form and refuses its post", func(t *testing.T) {
		c := newFedCase(t, map[string]string{"LOCAL_LOGIN": "false"})
		p := c.loginPage(t)
		if !strings.Contains(p.Body, corpButton) || strings.Contains(p.Body, `name="password"`) {
			t.Fatalf("login page with LOCAL_LOGIN=false:\n%s", p.Body)
		}
		f := httpapiHidden(p)
		f.Set("pargate_step", "login")
		f.Set("username", username)
		f.Set("password", password)
		wantPage(t, asResponse(t, c.b.Post(t, "/authorize", f)), 400, oauth.CodeInvalidRequest)
	})
	t.Run("issue 13 §2 LOCAL_LOGIN=false and no provider for the client is an error page", func(t *testing.T) {
		c := newFedCase(t, map[string]string{"LOCAL_LOGIN": "false"})
		changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.IdentityProviders = []string{} })
		wantPage(t, c.loginPage(t), 400, oauth.CodeUnauthorizedClient)
	})
	t.Run("issue 13 §1 idp_hint of a provider the client may use skips the login page", func(t *testing.T) {
		c := newFedCase(t, nil)
		toUpstream(t, c.loginPage(t, "idp_hint", corpID))
	})
	t.Run("RFC 6749 §3.1 idp_hint of a provider the client may not use is ignored", func(t *testing.T) {
		c := newFedCase(t, nil)
		for _, hint := range []string{"off", "nobody"} {
			if p := c.loginPage(t, "idp_hint", hint); p.Status != 200 || !strings.Contains(p.Body, corpButton) {
				t.Errorf("idp_hint=%s: %d\n%s", hint, p.Status, p.Body)
			}
		}
	})
	t.Run("issue 13 without an Upstream the page has no buttons", func(t *testing.T) {
		store := seededStore(t, memory.New())
		_ = store.PutIdentityProvider(context.Background(), &oauth.IdentityProvider{ID: corpID, DisplayName: "Corp SSO", Issuer: corpIssuer, ClientID: "b", ClientSecret: "x", Enabled: true})
		ts := newServer(t, withStore(store))
		p := ts.browser(t).get(t, authorizePath(confID, ts.push(t, confID, confSecret, pushParams())))
		if strings.Contains(p.Body, `name="idp"`) {
			t.Errorf("buttons without an Upstream:\n%s", p.Body)
		}
	})
}

// TestFederation_Issue13SignIn: the whole brokered login at the edge, then exactly
// what follows a password login, and the ID token (OIDC Core §2 amr, acr; idp).
func TestFederation_Issue13SignIn(t *testing.T) {
	c := newFedCase(t, nil)
	c.up.claims = map[string]any{"name": "Una Upstream", "email": "una@corp.example", "email_verified": true}
	c.up.acr, c.up.amr = "urn:corp:loa:2", []string{"mfa", "hwk"}
	consent := c.signInUpstream(t, "una-1")
	if !isConsent(consent) {
		t.Fatalf("after the callback: want the consent page, got %d:\n%s", consent.Status, consent.Body)
	}
	if !strings.Contains(consent.Body, "Signed in as <strong>Una Upstream</strong>") || strings.Contains(consent.Body, "idp:corp:") {
		t.Errorf("the consent page names the brokered user by its generated username:\n%s", consent.Body)
	}
	code := c.b.approve(t, consent).Get("code")
	claims := idTokenOf(t, c.ts, code)
	amr, _ := claims["amr"].([]any)
	if len(amr) != 3 || amr[0] != "fed" || amr[1] != "mfa" || claims["acr"] != "urn:corp:loa:2" || claims["idp"] != corpID || claims["name"] != "Una Upstream" {
		t.Fatalf("ID token claims %v: want amr [fed mfa hwk], the upstream's acr, idp corp, the mapped name", claims)
	}
	sub := claims["sub"].(string)
	if sub == "una-1" || sub == "" || claims["sid"] == nil {
		t.Fatalf("sub %q must be the local user's own, with a session's sid", sub)
	}

	t.Run("OIDC Core §3.1.2.1 the brokered login's session is reused, and keeps amr, acr and idp", func(t *testing.T) {
		p := c.b.get(t, authorizePath(confID, c.ts.push(t, confID, confSecret, pushParams())))
		if !isConsent(p) {
			t.Fatalf("second authorization: want the consent page (session reused), got %d:\n%s", p.Status, p.Body)
		}
		again := idTokenOf(t, c.ts, c.b.approve(t, p).Get("code"))
		if again["sub"] != sub || again["idp"] != corpID || again["acr"] != "urn:corp:loa:2" {
			t.Errorf("reused session's ID token %v", again)
		}
	})
	t.Run("issue 13 §4 a second login through the upstream is the same local user", func(t *testing.T) {
		other := c.ts.browser(t)
		d := &fedCase{ts: c.ts, store: c.store, up: c.up, b: other}
		p := d.signInUpstream(t, "una-1")
		if got := idTokenOf(t, c.ts, d.b.approve(t, p).Get("code"))["sub"]; got != sub {
			t.Errorf("second login sub %v, want %s", got, sub)
		}
	})
	t.Run("issue 13 §4 a brokered user is shown by name, never by its generated username", func(t *testing.T) {
		p := c.b.get(t, authorizePath(confID, c.ts.push(t, confID, confSecret, with(pushParams(), "prompt", "select_account"))))
		if !strings.Contains(p.Body, "Continue as Una Upstream") || strings.Contains(p.Body, "idp:corp:") {
			t.Errorf("select_account page:\n%s", p.Body)
		}
		// RP-Initiated Logout 1.0 §5: the confirmation page without a hint.
		if p := c.b.get(t, "/logout"); p.Status != 200 || !strings.Contains(p.Body, "Una Upstream") || strings.Contains(p.Body, "idp:corp:") {
			t.Errorf("logout confirmation page: %d\n%s", p.Status, p.Body)
		}
	})
}

// TestFederationCallback_RFC6749_4_1_2_1_PageOrRedirect: the callback's rows of the
// table in docs/design.md decision 11 — a page until the answer is trusted, then the
// client's redirect with error, state and iss (RFC 9207).
func TestFederationCallback_RFC6749_4_1_2_1_PageOrRedirect(t *testing.T) {
	begin := func(t *testing.T, c *fedCase) string {
		return toUpstream(t, c.federate(t, c.loginPage(t), corpID))
	}
	for _, row := range []struct {
		name string
		run  func(t *testing.T, c *fedCase) response
		want errorAnswer
	}{
		{name: "issue 13 §3 the upstream's access_denied", want: redirected(oauth.CodeAccessDenied, "xyz-state", ""),
			run: func(t *testing.T, c *fedCase) response {
				return c.callback(t, url.Values{"state": {begin(t, c)}, "error": {"access_denied"}})
			}},
		{name: "issue 13 §3 the upstream's login_required", want: redirected(oauth.CodeLoginRequired, "xyz-state", ""),
			run: func(t *testing.T, c *fedCase) response {
				return c.callback(t, url.Values{"state": {begin(t, c)}, "error": {"login_required"}})
			}},
		{name: "issue 13 §3 an upstream error about the broker's registration is access_denied", want: redirected(oauth.CodeAccessDenied, "xyz-state", ""),
			run: func(t *testing.T, c *fedCase) response {
				return c.callback(t, url.Values{"state": {begin(t, c)}, "error": {"invalid_scope"}})
			}},
		{name: "issue 13 §4 a disabled local user, the upstream having signed in", want: redirected(oauth.CodeAccessDenied, "xyz-state", ""),
			run: func(t *testing.T, c *fedCase) response {
				consent := c.signInUpstream(t, "dis-1")
				c.b.approve(t, consent)
				user, err := c.store.GetAccountLink(context.Background(), oauth.LinkKey(corpID, "dis-1"))
				if err != nil {
					t.Fatal(err)
				}
				changeUser(t, c.store, user.Username, func(u *oauth.User) { u.Disabled = true })
				c.b = c.ts.browser(t)
				return c.callback(t, url.Values{"state": {begin(t, c)}, "code": {"sub:dis-1"}})
			}},
		{name: "issue 13 §3 an upstream that is down when the button is pressed", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *fedCase) response {
				c.up.beginErr = fmt.Errorf("discovery: %w", oauth.ErrUpstreamUnavailable)
				return c.federate(t, c.loginPage(t), corpID)
			}},
		{name: "issue 13 §3 an upstream that is down at the code exchange", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				c.up.finishErr = fmt.Errorf("token endpoint: %w", oauth.ErrUpstreamUnavailable)
				return c.callback(t, url.Values{"state": {state}, "code": {"sub:x"}})
			}},
		{name: "OIDC Core §3.1.3.7 an answer that fails validation", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				c.up.finishErr = fmt.Errorf("id token: wrong aud: %w", oauth.ErrUpstreamInvalid)
				return c.callback(t, url.Values{"state": {state}, "code": {"sub:x"}})
			}},
		{name: "RFC 9700 §4.7.1 a callback without its browser's cookie", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				return c.ts.browser(t).get(t, "/federation/callback?"+url.Values{"state": {state}, "code": {"sub:x"}}.Encode())
			}},
		{name: "RFC 9700 §4.7.1 a callback with another state", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				begin(t, c)
				return c.callback(t, url.Values{"state": {"forged-state"}, "code": {"sub:x"}})
			}},
		{name: "OIDC Core §3.1.2.7 a replayed callback, cookie and all", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				u, _ := url.Parse(c.ts.URL + "/federation/callback")
				saved := c.b.Client.Jar.Cookies(u)
				first := c.callback(t, url.Values{"state": {state}, "code": {"sub:rp-1"}})
				if first.Status != http.StatusSeeOther {
					t.Fatalf("first callback: %d %s", first.Status, first.Body)
				}
				replay := c.ts.browser(t)
				replay.Client.Jar.SetCookies(u, saved)
				return replay.get(t, "/federation/callback?"+url.Values{"state": {state}, "code": {"sub:rp-1"}}.Encode())
			}},
		{name: "issue 13 §3 a callback without state", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				begin(t, c)
				return c.callback(t, url.Values{"code": {"sub:x"}})
			}},
		{name: "RFC 6749 §3.1 a callback parameter sent twice", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				return c.b.get(t, "/federation/callback?state="+url.QueryEscape(state)+"&code=a&code=b")
			}},
		{name: "RFC 9126 §4 a callback after the request was used for a code", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *fedCase) response {
				login := c.loginPage(t)
				state := toUpstream(t, c.federate(t, login, corpID))
				// The same transaction signed in with the password and approved meanwhile.
				c.b.approve(t, asResponse(t, c.b.SignIn(t, c.b.Get(t, authorizePath(confID, httpapiHidden(login).Get("request_uri"))), username, password)))
				return c.callback(t, url.Values{"state": {state}, "code": {"sub:x"}})
			}},
		{name: "issue 13 §3 a provider disabled since the button was pressed", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				p, _ := c.store.GetIdentityProvider(context.Background(), corpID)
				p.Enabled = false
				_ = c.store.PutIdentityProvider(context.Background(), p)
				return c.callback(t, url.Values{"state": {state}, "code": {"sub:x"}})
			}},
		{name: "issue 13 §1 a provider the client no longer offers", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				state := begin(t, c)
				changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.IdentityProviders = []string{"other"} })
				return c.callback(t, url.Values{"state": {state}, "code": {"sub:x"}})
			}},
		{name: "RFC 9110 §15.5.6 a POST to the callback", want: page(405, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *fedCase) response {
				return asResponse(t, c.b.Post(t, "/federation/callback", url.Values{"state": {begin(t, c)}}))
			}},
	} {
		t.Run(row.name, func(t *testing.T) {
			c := newFedCase(t, nil)
			r := row.run(t, c)
			if row.want.status != http.StatusSeeOther {
				wantPage(t, r, row.want.status, row.want.code)
				if row.want.status == http.StatusServiceUnavailable {
					wantRetryAfter(t, r)
				}
				return
			}
			wantErrorRedirect(t, r, row.want.code, row.want.state, c.ts.URL)
		})
	}
}

// TestFederation_UpstreamCookie: the upstream cookie's attributes (docs/design.md
// decision 35): HttpOnly, SameSite=Lax (the upstream's redirect back is a top-level
// GET), scoped to the callback on a loopback http issuer, spent by the callback.
func TestFederation_UpstreamCookie(t *testing.T) {
	c := newFedCase(t, nil)
	r := c.federate(t, c.loginPage(t), corpID)
	var up *http.Cookie
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if strings.HasPrefix(ck.Name, "pargate_up_") {
			up = ck
		}
	}
	if up == nil || !up.HttpOnly || up.SameSite != http.SameSiteLaxMode || up.Path != "/federation/callback" || up.MaxAge <= 0 {
		t.Fatalf("upstream cookie %+v", up)
	}
	if strings.Contains(up.Value, toUpstream(t, r)) {
		t.Error("the upstream cookie shows its state: it must be sealed")
	}
	done := c.callback(t, url.Values{"state": {toUpstream(t, r)}, "code": {"sub:ck"}})
	if !strings.Contains(strings.Join(done.Header.Values("Set-Cookie"), "\n"), up.Name+"=; Path=/federation/callback; Max-Age=0") {
		t.Errorf("the callback does not delete the upstream cookie: %v", done.Header.Values("Set-Cookie"))
	}
}

// FuzzFederationCallback: whatever query and cookies reach /federation/callback
// without an upstream cookie this server sealed, the answer is an error page — 400
// (or 405 for another method), never a redirect, never 5xx — it reflects nothing as
// markup, and the upstream is never asked to finish (RFC 9700 §4.7.1: a response not
// bound to this browser's transaction is not followed).
func FuzzFederationCallback(f *testing.F) {
	c := newFedCase(f, nil)
	h := c.ts.handler.Routes()
	tags := templateTags(f)
	f.Add("state=abc&code=sub:x", "", false)
	f.Add("state=abc&error=access_denied&iss=https%3A%2F%2Fidp.example.com", "pargate_up_0123456789abcdef=0.AAAA", false)
	f.Add("state=%3Cscript%3Ealert(1)%3C%2Fscript%3E&code=%22%3E%3Cimg%3E", "pargate_up_x=%zz", false)
	f.Add("%zz&;&=", "", true)
	f.Add("state=a&state=b", "", false)
	f.Add("code=x", "pargate_session="+strings.Repeat("A", 43), false)
	f.Fuzz(func(t *testing.T, query, cookie string, post bool) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, c.ts.URL+"/federation/callback", nil)
		req.URL.RawQuery = query
		req.RequestURI = ""
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		in := []any{query, cookie, post}
		if want := map[bool]int{false: 400, true: 405}[post]; rec.Code != want {
			t.Fatalf("status %d (want %d) for input %q: %s", rec.Code, want, in, rec.Body)
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			t.Fatalf("redirect to %q for input %q", loc, in)
		}
		wantNoMarkupInjection(t, tags, rec.Body.String(), in...)
		c.up.mu.Lock()
		defer c.up.mu.Unlock()
		if c.up.finished != 0 {
			t.Fatalf("the upstream was asked to finish for input %q", in)
		}
	})
}

// OIDC Core §3.1.2.1: a login page shown for prompt=login or max_age is a new
// authentication; a login through the upstream asks the upstream for the same
// (oauth.UpstreamAsk), and the ID token's auth_time is the upstream's (§2: when the
// End-User authenticated), not the callback's.
func TestFederation_OIDCCore_3_1_2_1_FreshnessGoesUpstreamAndAuthTimeComesBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kv     []string
		login  bool
		maxAge int // -1: none
	}{
		{"no prompt, no max_age", nil, false, -1},
		{"prompt=login", []string{"prompt", "login"}, true, -1},
		{"max_age=600", []string{"max_age", "600"}, false, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newFedCase(t, nil)
			c.up.authTime = time.Now().Add(-5 * time.Minute).Truncate(time.Second)
			state := toUpstream(t, c.federate(t, c.loginPage(t, tc.kv...), corpID))
			c.up.mu.Lock()
			asked := c.up.asked
			c.up.mu.Unlock()
			if asked.Login != tc.login || (asked.MaxAge == nil) != (tc.maxAge < 0) || (asked.MaxAge != nil && *asked.MaxAge != tc.maxAge) {
				t.Fatalf("asked upstream %+v, want login %v max_age %d", asked, tc.login, tc.maxAge)
			}
			r := c.callback(t, url.Values{"state": {state}, "code": {"sub:una-1"}})
			consent := c.b.get(t, r.Header.Get("Location"))
			claims := idTokenOf(t, c.ts, c.b.approve(t, consent).Get("code"))
			if at, _ := claims["auth_time"].(float64); int64(at) != c.up.authTime.Unix() {
				t.Errorf("auth_time %v, want the upstream's %d", claims["auth_time"], c.up.authTime.Unix())
			}
		})
	}
}
