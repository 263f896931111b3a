package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// errorCase is what one row of TestAuthorize_RFC6749_4_1_2_1_PageOrRedirect runs
// against: a server over a faulty view of a memory store (CLIENT_CACHE_TTL=0, so a
// changed client counts at once), and a browser.
type errorCase struct {
	ts     *testServer
	store  *memory.Store
	faulty *oauthtest.Faulty
	b      *browser
}

// push is conf-client's valid pushed request (state xyz-state), with kv changed.
func (c *errorCase) push(t *testing.T, kv ...string) string {
	t.Helper()
	return c.ts.push(t, confID, confSecret, with(pushParams(), kv...))
}

// loginPage is the login page of a fresh push.
func (c *errorCase) loginPage(t *testing.T) response {
	t.Helper()
	return c.b.get(t, authorizePath(confID, c.push(t)))
}

// consentPage is the consent page of a fresh push, the user signed in.
func (c *errorCase) consentPage(t *testing.T) response {
	t.Helper()
	return c.b.login(t, confID, c.push(t))
}

// post posts fields to /authorize as the browser.
func (c *errorCase) post(t *testing.T, fields url.Values) response {
	t.Helper()
	return asResponse(t, c.b.Post(t, "/authorize", fields))
}

// direct is a non-pushed authorization request for conf-client, with kv changed.
func (c *errorCase) direct(t *testing.T, kv ...string) response {
	t.Helper()
	return c.b.get(t, "/authorize?"+with(pushParams(), kv...).Encode())
}

// errorAnswer is what a row expects: an error page with status and code, or, with
// status 303, the error redirect to the client with code, state and a description
// containing desc.
type errorAnswer struct {
	status int
	code   string
	state  string
	desc   string
	// login: the login page again, with status and the message msg.
	login bool
	msg   string
}

func loginAgain(status int, msg string) errorAnswer {
	return errorAnswer{status: status, login: true, msg: msg}
}

func page(status int, code string) errorAnswer { return errorAnswer{status: status, code: code} }

func redirected(code, state, desc string) errorAnswer {
	return errorAnswer{status: http.StatusSeeOther, code: code, state: state, desc: desc}
}

// TestAuthorize_RFC6749_4_1_2_1_PageOrRedirect is the table of docs/design.md
// decision 11, row by row: every error /authorize answers, and whether it is an error
// page or the error redirect to the client. RFC 6749 §4.1.2.1: "If the request fails
// due to a missing, invalid, or mismatching redirection URI, or if the client
// identifier is missing or invalid, the authorization server SHOULD inform the
// resource owner of the error and MUST NOT automatically redirect the user-agent to
// the invalid redirection URI"; otherwise "the authorization server informs the
// client" at the redirect URI, with state and (RFC 9207 §2) iss.
func TestAuthorize_RFC6749_4_1_2_1_PageOrRedirect(t *testing.T) {
	for _, row := range []struct {
		name string
		env  map[string]string
		run  func(t *testing.T, c *errorCase) response
		want errorAnswer
	}{
		// The request itself.
		{name: "RFC 6749 §3.1 a malformed query string", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response { return c.b.get(t, "/authorize?client_id=%zz") }},
		{name: "RFC 9110 §15.5.6 a method other than GET or POST", want: page(405, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.ts.do(t, nil, http.MethodDelete, authorizePath(confID, c.push(t)), "", "", "")
			}},
		{name: "RFC 9126 §2.3 a body over 64 KiB", want: page(413, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.ts.do(t, nil, http.MethodPost, "/authorize", "", form, "state="+strings.Repeat("a", 65<<10))
			}},
		{name: "RFC 6749 §3.1 a page field sent twice", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.post(t, url.Values{"pargate_step": {"login", "login"}})
			}},

		// A request_uri: nothing is trusted until it resolves.
		{name: "RFC 6749 §3.1 request_uri sent twice", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				return c.b.get(t, authorizePath(confID, uri)+"&request_uri="+url.QueryEscape(uri))
			}},
		{name: "RFC 6749 §4.1.2.1 client_id missing next to request_uri", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, "/authorize?request_uri="+url.QueryEscape(c.push(t)))
			}},
		{name: "RFC 6749 §4.1.2.1 an unknown client next to request_uri", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response { return c.b.get(t, authorizePath("nobody", c.push(t))) }},
		{name: "RFC 6749 §4.1.2.1 a client disabled since the push", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.Disabled = true })
				return c.b.get(t, authorizePath(confID, uri))
			}},
		{name: "RFC 9126 §4 an unknown request_uri", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, authorizePath(confID, oauth.RequestURIPrefix+"unknown"))
			}},
		{name: "RFC 9126 §4 via RFC 9101 §6.3 a request_uri pushed by another client", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response { return c.b.get(t, authorizePath(postID, c.push(t))) }},
		{name: "RFC 9126 §4 an expired request_uri", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				c.ts.clock.Advance(61 * time.Second)
				return c.b.get(t, authorizePath(confID, uri))
			}},
		{name: "RFC 9126 §4 a request_uri used for a code", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				c.b.approve(t, c.b.login(t, confID, uri))
				return c.ts.browser(t).get(t, authorizePath(confID, uri))
			}},
		{name: "RFC 9126 §7.4 a redirect URI no longer registered", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.RedirectURIs = []string{"https://new.example.org/cb"} })
				return c.b.get(t, authorizePath(confID, uri))
			}},
		{name: "FAPI 2.0 §5.3.2.2 an http redirect URI of a client no longer native", env: map[string]string{"PROFILE": "fapi2"},
			want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				// Pushed as a native app's loopback IP redirect (RFC 8252 §7.3), then the
				// client is made a web client: the URI is still registered, but under
				// fapi2 a web client has no http redirect.
				changeClient(t, c.store, pkjwtID, func(cl *oauth.Client) {
					cl.ApplicationType, cl.RedirectURIs = oauth.ApplicationTypeNative, []string{"http://127.0.0.1/cb"}
				})
				r := c.ts.do(t, nil, http.MethodPost, "/par", "", form, assertionForm(t, sign(t, clientKey, "", assertion(c.ts, nil)),
					with(pushParams(), "client_id", pkjwtID, "redirect_uri", "http://127.0.0.1/cb")).Encode())
				if r.Status != http.StatusCreated {
					t.Fatalf("push: %d %s", r.Status, r.Body)
				}
				changeClient(t, c.store, pkjwtID, func(cl *oauth.Client) { cl.ApplicationType = oauth.ApplicationTypeWeb })
				return c.b.get(t, authorizePath(pkjwtID, r.JSON["request_uri"].(string)))
			}},
		{name: "RFC 9101 §5 request next to request_uri (GET)", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "request and request_uri"),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, authorizePath(confID, c.push(t))+"&request=a.b.c")
			}},
		{name: "RFC 9101 §5 request next to request_uri (POST)", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "request and request_uri"),
			run: func(t *testing.T, c *errorCase) response {
				return c.post(t, url.Values{"client_id": {confID}, "request_uri": {c.push(t)}, "request": {"a.b.c"}})
			}},
		{name: "RFC 9101 §5 request next to a request_uri stored from /authorize", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "request and request_uri"),
			run: func(t *testing.T, c *errorCase) response {
				next := c.direct(t).Header.Get("Location")
				return c.b.get(t, next+"&request=a.b.c")
			}},
		{name: "RFC 9101 §5 request next to an unknown request_uri", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, authorizePath(confID, oauth.RequestURIPrefix+"unknown")+"&request=a.b.c")
			}},
		{name: "RFC 9126 §4 a request stored from /authorize, the client requiring PAR since", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "pushed authorization requests are required"),
			run: func(t *testing.T, c *errorCase) response {
				next := c.direct(t).Header.Get("Location")
				changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.RequirePushedAuthorizationRequests = true })
				return c.b.get(t, next)
			}},
		{name: "OIDC Core §3.1.2.1 prompt=none without a session", want: redirected(oauth.CodeLoginRequired, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, authorizePath(confID, c.push(t, "prompt", "none")))
			}},
		{name: "OIDC Core §3.1.2.6 prompt=none with a session, consent not remembered", want: redirected(oauth.CodeConsentRequired, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response {
				c.consentPage(t) // signs in: the browser has a session
				return c.b.get(t, authorizePath(confID, c.push(t, "prompt", "none")))
			}},
		{name: "OIDC Core §3.1.2.6 prompt=none with a session, max_age=0", want: redirected(oauth.CodeLoginRequired, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response {
				c.consentPage(t)
				return c.b.get(t, authorizePath(confID, c.push(t, "prompt", "none", "max_age", "0")))
			}},
		{name: "docs/design.md decision 16 an outage reading the session", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				c.consentPage(t)
				uri := c.push(t)
				c.faulty.FailMethod(oauthtest.MethodGetSession, oauthtest.Before)
				return c.b.get(t, authorizePath(confID, uri))
			}},
		{name: "docs/design.md decision 16 an outage reading the pushed request", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				uri := c.push(t)
				c.faulty.FailMethod(oauthtest.MethodGetPushedRequest, oauthtest.Before)
				return c.b.get(t, authorizePath(confID, uri))
			}},

		// A request sent to /authorize without PAR: pages until the redirect URI is
		// established, redirects after.
		{name: "RFC 6749 §4.1.2.1 direct: client_id missing", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "client_id", "") }},
		{name: "RFC 6749 §4.1.2.1 direct: an unknown client", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "client_id", "nobody") }},
		{name: "RFC 6749 §4.1.2.1 direct: an unregistered redirect_uri", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.direct(t, "redirect_uri", "https://evil.example/cb")
			}},
		{name: "RFC 6749 §3.1.2.3 direct: redirect_uri missing, two registered", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.direct(t, "client_id", twoURIID, "redirect_uri", "", "scope", "openid")
			}},
		{name: "RFC 6749 §3.1 direct: a parameter sent twice", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.get(t, "/authorize?"+pushParams().Encode()+"&scope=openid")
			}},
		{name: "RFC 9126 §6 direct: the client requires PAR", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "pushed authorization requests are required"),
			run: func(t *testing.T, c *errorCase) response {
				return c.direct(t, "client_id", parOnlyID, "scope", "openid")
			}},
		{name: "RFC 9126 §5 direct: the server requires PAR", env: map[string]string{"REQUIRE_PAR": "true"},
			want: redirected(oauth.CodeInvalidRequest, "xyz-state", "pushed authorization requests are required"),
			run:  func(t *testing.T, c *errorCase) response { return c.direct(t) }},
		{name: "RFC 9126 §6 direct: the client requires PAR, an unregistered redirect_uri", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.direct(t, "client_id", parOnlyID, "scope", "openid", "redirect_uri", "https://evil.example/cb")
			}},
		{name: "RFC 6749 §4.1.2.1 direct: a state too long to return", want: redirected(oauth.CodeInvalidRequest, "", ""),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "state", strings.Repeat("s", 2049)) }},
		{name: "RFC 6749 §4.1.2.1 direct: an unsupported response_type", want: redirected(oauth.CodeUnsupportedResponseType, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "response_type", "token") }},
		{name: "RFC 6749 §4.1.2.1 direct: a scope the client may not ask for", want: redirected(oauth.CodeInvalidScope, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "scope", "openid admin") }},
		{name: "RFC 7636 §4.4.1 direct: code_challenge missing", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "code_challenge"),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "code_challenge", "") }},
		{name: "OIDC Core §3.1.2.6 direct: a request object", want: redirected(oauth.CodeRequestNotSupported, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response { return c.direct(t, "request", "a.b.c") }},
		{name: "docs/design.md decision 16 direct: an outage storing the request", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				c.faulty.FailMethod(oauthtest.MethodCreatePushedRequest, oauthtest.Before)
				return c.direct(t)
			}},

		// The login form.
		{name: "RFC 9126 §2.2 login: a malformed request_uri", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.loginPage(t), url.Values{"username": {username}, "password": {password}, "request_uri": {"x"}})
			}},
		{name: "RFC 6749 §4.1.2.1 login: no transaction cookie", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.ts.browser(t).submit(t, c.loginPage(t), url.Values{"username": {username}, "password": {password}})
			}},
		{name: "RFC 6749 §10.12 login: a CSRF token that does not match", want: page(403, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.loginPage(t), url.Values{"username": {username}, "password": {password}, "csrf": {"forged"}})
			}},
		{name: "RFC 9126 §4 via RFC 9101 §6.3 login: a client_id other than the request's", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.loginPage(t), url.Values{"username": {username}, "password": {password}, "client_id": {postID}})
			}},
		{name: "NIST SP 800-63B §5.2.2 login: a wrong password", want: loginAgain(200, "The username or password is incorrect."),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.loginPage(t), url.Values{"username": {username}, "password": {"wrong"}})
			}},
		{name: "NIST SP 800-63B §5.2.2 login: the username locked", want: loginAgain(429, "Too many failed sign-in attempts."),
			run: func(t *testing.T, c *errorCase) response {
				// Five failures over two requests (three end one request).
				var p response
				for _, n := range []int{3, 2} {
					p = c.loginPage(t)
					for range n {
						p = c.b.submit(t, p, url.Values{"username": {username}, "password": {"wrong"}})
					}
				}
				return c.b.submit(t, p, url.Values{"username": {username}, "password": {password}})
			}},
		{name: "NIST SP 800-63B §5.2.2 login: too many failed sign-ins for the request", want: page(429, oauth.CodeAccessDenied),
			run: func(t *testing.T, c *errorCase) response {
				p := c.loginPage(t)
				for range 3 {
					p = c.b.submit(t, p, url.Values{"username": {username}, "password": {"wrong"}})
				}
				return c.b.submit(t, p, url.Values{"username": {username}, "password": {password}})
			}},
		{name: "docs/design.md decision 16 login: an outage reading the user", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				p := c.loginPage(t)
				c.faulty.FailMethod(oauthtest.MethodGetUser, oauthtest.Before)
				return c.b.submit(t, p, url.Values{"username": {username}, "password": {password}})
			}},
		{name: "docs/design.md decision 16 login: an outage creating the session", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				p := c.loginPage(t)
				c.faulty.FailMethod(oauthtest.MethodCreateSession, oauthtest.Before)
				return c.b.submit(t, p, url.Values{"username": {username}, "password": {password}})
			}},

		// The consent form.
		{name: "RFC 6749 §4.1.2.1 consent: before signing in", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.loginPage(t), url.Values{"pargate_step": {"consent"}, "decision": {"approve"}})
			}},
		{name: "RFC 6749 §4.1.2.1 consent: a decision that is neither approve nor deny", want: page(400, oauth.CodeInvalidRequest),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.consentPage(t), url.Values{"decision": {"maybe"}})
			}},
		{name: "RFC 6749 §4.1.2.1 consent: the user disabled since signing in", want: redirected(oauth.CodeAccessDenied, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response {
				p := c.consentPage(t)
				changeUser(t, c.store, username, func(u *oauth.User) { u.Disabled = true })
				return c.b.submit(t, p, url.Values{"decision": {"approve"}})
			}},
		{name: "RFC 9126 §4 consent: approved already (another tab)", want: page(400, oauth.CodeInvalidRequestURI),
			run: func(t *testing.T, c *errorCase) response {
				p := c.consentPage(t)
				// The other tab: a browser holding the same transaction cookie.
				other := c.ts.browser(t)
				u, _ := url.Parse(c.ts.URL + "/authorize")
				other.Client.Jar.SetCookies(u, c.b.Client.Jar.Cookies(u))
				c.b.approve(t, p)
				return other.submit(t, p, url.Values{"decision": {"approve"}})
			}},
		{name: "RFC 6749 §4.1.2.1 consent: the user denies", want: redirected(oauth.CodeAccessDenied, "xyz-state", ""),
			run: func(t *testing.T, c *errorCase) response {
				return c.b.submit(t, c.consentPage(t), url.Values{"decision": {"deny"}})
			}},
		{name: "RFC 9126 §4 consent: a request stored from /authorize, the client requiring PAR since", want: redirected(oauth.CodeInvalidRequest, "xyz-state", "pushed authorization requests are required"),
			run: func(t *testing.T, c *errorCase) response {
				login := c.b.Get(t, c.direct(t).Header.Get("Location"))
				p := asResponse(t, c.b.SignIn(t, login, username, password))
				changeClient(t, c.store, confID, func(cl *oauth.Client) { cl.RequirePushedAuthorizationRequests = true })
				return c.b.submit(t, p, url.Values{"decision": {"approve"}})
			}},
		{name: "docs/design.md decision 16 consent: an outage issuing the code", want: page(503, oauth.CodeTemporarilyUnavailable),
			run: func(t *testing.T, c *errorCase) response {
				p := c.consentPage(t)
				c.faulty.FailMethod(oauthtest.MethodIssueCode, oauthtest.Before)
				return c.b.submit(t, p, url.Values{"decision": {"approve"}})
			}},
	} {
		t.Run(row.name, func(t *testing.T) {
			env := map[string]string{"CLIENT_CACHE_TTL": "0"}
			for k, v := range row.env {
				env[k] = v
			}
			store := seededStore(t, memory.New())
			c := &errorCase{store: store, faulty: oauthtest.NewFaulty(store)}
			c.ts = newServer(t, withStore(c.faulty), withEnv(env))
			c.b = c.ts.browser(t)
			r := row.run(t, c)
			if row.want.login {
				if r.Status != row.want.status || r.Header.Get("Location") != "" || !strings.Contains(r.Body, `name="password"`) ||
					!strings.Contains(r.Body, row.want.msg) {
					t.Fatalf("want the login page %d saying %q, got %d:\n%s", row.want.status, row.want.msg, r.Status, r.Body)
				}
				if r.Status == http.StatusTooManyRequests {
					wantRetryAfter(t, r)
				}
				return
			}
			if row.want.status != http.StatusSeeOther {
				wantPage(t, r, row.want.status, row.want.code)
				// docs/design.md decision 11: every way a request_uri can fail shows
				// the same words.
				if row.want.code == oauth.CodeInvalidRequestURI && !strings.Contains(r.Body, "This sign-in link has expired or has already been used.") {
					t.Errorf("the request_uri page does not say what every other does:\n%s", r.Body)
				}
				if row.want.status == http.StatusServiceUnavailable {
					wantRetryAfter(t, r)
				}
				return
			}
			q := wantErrorRedirect(t, r, row.want.code, row.want.state, c.ts.URL)
			if !strings.Contains(q.Get("error_description"), row.want.desc) {
				t.Errorf("error_description %q, want it to say %q", q.Get("error_description"), row.want.desc)
			}
		})
	}
}

// wantErrorRedirect checks r is the error redirect to the client (RFC 6749 §4.1.2.1:
// a 303, FAPI 2.0 §5.3.2.2) at its registered redirect URI, with error code, state
// (none when state is "") and iss (RFC 9207 §2), and no code; it returns the query.
func wantErrorRedirect(t *testing.T, r response, code, state, issuer string) url.Values {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, redirectURI+"?") {
		t.Fatalf("want a 303 to %s, got %d (Location %q):\n%s", redirectURI, r.Status, loc, r.Body)
	}
	q, err := url.ParseQuery(loc[len(redirectURI)+1:])
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("error") != code || q.Get("iss") != issuer || q.Has("code") {
		t.Errorf("error redirect %s, want error=%s and iss=%s", loc, code, issuer)
	}
	if got, ok := q["state"]; (state == "") == ok || (ok && got[0] != state) {
		t.Errorf("error redirect %s, want state %q", loc, state)
	}
	return q
}

// TestPAR_RFC9101_5_RequestAndRequestURI: the back channel of the same rule. A push
// carrying a request object and a request_uri is invalid_request (RFC 9126 §2.1: the
// request_uri "MUST NOT be provided"), whatever the object holds.
func TestPAR_RFC9101_5_RequestAndRequestURI(t *testing.T) {
	ts := newServer(t)
	ro := sign(t, clientKey, "oauth-authz-req+jwt", requestObject(ts, func(m map[string]any) { m["iss"], m["client_id"] = pkjwtID, pkjwtID }))
	body := assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), url.Values{"request": {ro}, "request_uri": {oauth.RequestURIPrefix + "x"}})
	if r := ts.do(t, nil, http.MethodPost, "/par", "", form, body.Encode()); r.Status != http.StatusBadRequest || r.JSON["error"] != oauth.CodeInvalidRequest {
		t.Fatalf("request with request_uri at /par: %d %s", r.Status, r.Body)
	}
	alone := assertionForm(t, sign(t, clientKey, "", assertion(ts, nil)), url.Values{"request": {ro}})
	if r := ts.do(t, nil, http.MethodPost, "/par", "", form, alone.Encode()); r.Status != http.StatusCreated {
		t.Fatalf("the same request object alone: %d %s", r.Status, r.Body)
	}
}
