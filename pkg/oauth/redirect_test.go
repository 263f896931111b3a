package oauth_test

import (
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestRedirectURI_RFC8252_Matching: which redirect URI a request may name, one row per
// rule: a native app's loopback IP redirect matches on any port (RFC 8252 §7.3) and in
// nothing else; localhost (§8.3), https and web clients match exactly (RFC 9700
// §4.1.3); private-use URI schemes match exactly (§7.1). Each row is pushed (RFC 9126
// §2.1) and sent straight to /authorize, which apply the same rule; a refused URI is
// invalid_request that never goes to the redirect URI (RFC 6749 §4.1.2.1).
func TestRedirectURI_RFC8252_Matching(t *testing.T) {
	const native, web = oauth.ApplicationTypeNative, ""
	for _, tc := range []struct {
		name       string
		appType    string
		registered string
		requested  string
		ok         bool
	}{
		{"RFC 8252 §7.3 native: the port is ignored at 127.0.0.1", native, "http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", true},
		{"RFC 8252 §7.3 native: the port is ignored at [::1]", native, "http://[::1]:8080/cb", "http://[::1]:51000/cb", true},
		{"RFC 8252 §7.3 native: a registered port may be left out", native, "http://127.0.0.1:8080/cb", "http://127.0.0.1/cb", true},
		{"RFC 8252 §7.3 native: the registered URI itself", native, "http://127.0.0.1/cb", "http://127.0.0.1/cb", true},
		{"RFC 8252 §7.3 native: the port is ignored with a matching query", native, "http://127.0.0.1/cb?tenant=a", "http://127.0.0.1:6000/cb?tenant=a", true},
		{"RFC 8252 §7.3 native: no path, any port", native, "http://127.0.0.1", "http://127.0.0.1:6000", true},
		{"RFC 8252 §7.3 native: another path is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:49152/cb/x", false},
		{"RFC 8252 §7.3 native: a trailing slash is another path", native, "http://127.0.0.1/cb", "http://127.0.0.1:49152/cb/", false},
		{"RFC 8252 §7.3 native: the path matches case-sensitively", native, "http://127.0.0.1/cb", "http://127.0.0.1:49152/CB", false},
		{"RFC 8252 §7.3 native: another query is refused", native, "http://127.0.0.1/cb?tenant=a", "http://127.0.0.1:6000/cb?tenant=b", false},
		{"RFC 8252 §7.3 native: an added query is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:6000/cb?x=1", false},
		{"RFC 8252 §7.3 native: the other IP version is refused", native, "http://127.0.0.1/cb", "http://[::1]:6000/cb", false},
		{"RFC 8252 §7.3 native: another loopback address is refused", native, "http://127.0.0.1/cb", "http://127.0.0.2:6000/cb", false},
		{"RFC 8252 §7.3 native: a host that begins with the IP literal is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1.evil.example:6000/cb", false},
		{"RFC 8252 §7.3 native: userinfo after the port is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:6000@evil.example/cb", false},
		{"RFC 8252 §7.3 native: port 0 is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:0/cb", false},
		{"RFC 8252 §7.3 native: port 65536 is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:65536/cb", false},
		{"RFC 8252 §7.3 native: a port with a leading zero is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:08080/cb", false},
		{"RFC 8252 §7.3 native: an empty port is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:/cb", false},
		{"RFC 8252 §7.3 native: a fragment is refused", native, "http://127.0.0.1/cb", "http://127.0.0.1:6000/cb#x", false},
		{"RFC 8252 §7.3 native: https on loopback matches exactly", native, "https://127.0.0.1/cb", "https://127.0.0.1:6000/cb", false},
		{"RFC 8252 §8.3 native: localhost is not a loopback IP redirect, another port is refused", native, "http://localhost/cb", "http://localhost:6000/cb", false},
		{"RFC 8252 §8.3 native: localhost matches exactly", native, "http://localhost:6000/cb", "http://localhost:6000/cb", true},
		{"RFC 9700 §4.1.3 web: another port at 127.0.0.1 is refused", web, "http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", false},
		{"RFC 9700 §4.1.3 web: another port at [::1] is refused", web, "http://[::1]:8080/cb", "http://[::1]:8081/cb", false},
		{"RFC 9700 §4.1.3 web (application_type web): another port is refused", oauth.ApplicationTypeWeb, "http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", false},
		{"RFC 9700 §4.1.3 web: the registered loopback URI itself", web, "http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb", true},
		{"RFC 8252 §7.1 native: a private-use URI scheme matches exactly", native, "com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect", true},
		{"RFC 8252 §7.1 native: a private-use URI with another path is refused", native, "com.example.app:/oauth2redirect", "com.example.app:/oauth2redirect/x", false},
		{"RFC 8252 §7.1 native: a private-use URI with an authority is refused", native, "com.example.app:/oauth2redirect", "com.example.app://oauth2redirect", false},
		{"RFC 8252 §7.2 native: a claimed https URI matches exactly", native, "https://app.example.com/cb", "https://app.example.com:8443/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			d.putClient(&oauth.Client{ID: "app", ApplicationType: tc.appType, RedirectURIs: []string{tc.registered},
				TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid"})
			params := authParams("app", "redirect_uri", tc.requested, "scope", "openid")

			res, err := d.push(d.client("app"), params, oauth.DPoP{})
			if tc.ok {
				if err != nil {
					t.Fatalf("push of %s (registered %s): %v", tc.requested, tc.registered, err)
				}
				tx := d.mustResume("app", res.RequestURI)
				if got := tx.Request.Request.RedirectURI; got != tc.requested {
					t.Errorf("the request's redirect URI = %q, want the requested %q (the response goes to the port asked for)", got, tc.requested)
				}
			} else if e := wantErr(t, err, oauth.CodeInvalidRequest); e.Redirect || e.Description != oauth.RedirectURINotRegistered {
				t.Errorf("push of %s (registered %s): %+v, want the fixed unregistered description, not redirectable", tc.requested, tc.registered, e)
			}

			_, req, err := d.startDirect(params)
			if tc.ok {
				if err != nil || req.RedirectURI != tc.requested {
					t.Fatalf("direct request of %s: %v, %+v", tc.requested, err, req)
				}
			} else if e := wantErr(t, err, oauth.CodeInvalidRequest); e.Redirect {
				t.Errorf("direct request of %s: the error may be redirected", tc.requested)
			}
		})
	}
}

// TestRedirectURI_RFC8252_7_3_TokenRequestNamesThePortUsed: the token request names the
// redirect URI of the authorization request, port included (RFC 6749 §4.1.3: "their
// values MUST be identical"); the registered URI without the port is not it.
func TestRedirectURI_RFC8252_7_3_TokenRequestNamesThePortUsed(t *testing.T) {
	d := newDomain(t)
	d.putClient(&oauth.Client{ID: "app", ApplicationType: oauth.ApplicationTypeNative, RedirectURIs: []string{"http://127.0.0.1/cb"},
		TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid"})
	c := d.client("app")
	used := "http://127.0.0.1:50123/cb"
	for _, tc := range []struct {
		name, redirectURI string
		code              string
	}{
		{"RFC 6749 §4.1.3 the registered URI without the port is invalid_grant", "http://127.0.0.1/cb", oauth.CodeInvalidGrant},
		{"RFC 6749 §4.1.3 the URI with the port used is accepted", used, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := d.code(c, authParams("app", "redirect_uri", used, "scope", "openid"))
			params := tokenParams(code, "redirect_uri", tc.redirectURI, "client_id", "app")
			resp, err := d.exchange(c, params, oauth.DPoP{})
			wantOutcome(t, tc.code, err, resp != nil, resp)
		})
	}
}

// TestFAPI2_5_3_2_2_RedirectURIScheme: under PROFILE=fapi2 the server "shall not allow
// redirect URIs that use the "http" scheme except for native clients that use loopback
// interface Redirection as described in Section 7.3 of [RFC8252]" (FAPI 2.0 Security
// Profile §5.3.2.2 item 8).
func TestFAPI2_5_3_2_2_RedirectURIScheme(t *testing.T) {
	for _, tc := range []struct {
		name, appType, registered, requested string
		ok                                   bool
	}{
		{"FAPI 2.0 §5.3.2.2 a native client's loopback IP redirect on any port is allowed", oauth.ApplicationTypeNative, "http://127.0.0.1/cb", "http://127.0.0.1:50123/cb", true},
		{"FAPI 2.0 §5.3.2.2 a native client's [::1] redirect is allowed", oauth.ApplicationTypeNative, "http://[::1]/cb", "http://[::1]/cb", true},
		{"FAPI 2.0 §5.3.2.2 a native client's private-use URI scheme is not http", oauth.ApplicationTypeNative, "com.example.app:/cb", "com.example.app:/cb", true},
		{"FAPI 2.0 §5.3.2.2 https is allowed", "", "https://client.example.org/cb", "https://client.example.org/cb", true},
		{"FAPI 2.0 §5.3.2.2 a web client's loopback http redirect is refused", "", "http://127.0.0.1:9000/cb", "http://127.0.0.1:9000/cb", false},
		{"FAPI 2.0 §5.3.2.2 a native client's localhost redirect is refused (RFC 8252 §8.3, not §7.3)", oauth.ApplicationTypeNative, "http://localhost:9000/cb", "http://localhost:9000/cb", false},
		{"FAPI 2.0 §5.3.2.2 a native client's other loopback address is refused (not §7.3)", oauth.ApplicationTypeNative, "http://127.0.0.2:9000/cb", "http://127.0.0.2:9000/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t, withFAPI2())
			c := d.changeClient(jwtID, func(c *oauth.Client) {
				c.ApplicationType, c.RedirectURIs = tc.appType, []string{tc.registered}
			})
			_, err := d.push(c, authParams(jwtID, "redirect_uri", tc.requested), oauth.DPoP{})
			if tc.ok {
				if err != nil {
					t.Fatalf("push: %v", err)
				}
				return
			}
			if e := wantErr(t, err, oauth.CodeInvalidRequest); e.Redirect || e.Description != oauth.RedirectURIInsecure {
				t.Errorf("push: %+v, want the fixed insecure description, not redirectable", e)
			}
		})
	}
	t.Run("FAPI 2.0 §5.3.2.2 with RFC 9126 §7.4 a client that is no longer native is refused at /authorize", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		c := d.changeClient(jwtID, func(c *oauth.Client) {
			c.ApplicationType, c.RedirectURIs = oauth.ApplicationTypeNative, []string{"http://127.0.0.1/cb"}
		})
		uri := d.mustPush(c, authParams(jwtID, "redirect_uri", "http://127.0.0.1/cb"))
		d.changeClient(jwtID, func(c *oauth.Client) { c.ApplicationType = oauth.ApplicationTypeWeb })
		_, err := d.resume(jwtID, uri, false)
		if e := wantErr(t, err, oauth.CodeInvalidRequest); e.Redirect {
			t.Error("the refusal may be redirected")
		}
	})
}

// TestCheckRedirectURIs_RFC8252: what a client may register, by application_type
// (OpenID Connect Registration §2; RFC 8252 §7.1, §7.2, §7.3, §8.4; RFC 9700 §2.1).
func TestCheckRedirectURIs_RFC8252(t *testing.T) {
	for _, tc := range []struct {
		name, appType, uri string
		ok                 bool
	}{
		{"OIDC Registration §2 web is the default: https", "", "https://client.example.org/cb", true},
		{"OIDC Registration §2 web: http on loopback for development", oauth.ApplicationTypeWeb, "http://127.0.0.1:8080/cb", true},
		{"RFC 8252 §7.1 web: a private-use URI scheme is refused", "", "com.example.app:/cb", false},
		{"RFC 8252 §7.1 web (application_type web): a private-use URI scheme is refused", oauth.ApplicationTypeWeb, "com.example.app:/cb", false},
		{"RFC 8252 §7.1 native: a reverse-domain private-use URI scheme", oauth.ApplicationTypeNative, "com.example.app:/oauth2redirect/example-provider", true},
		{"RFC 8252 §7.1 native: a private-use URI with a query", oauth.ApplicationTypeNative, "com.example.app:/cb?x=1", true},
		{"RFC 8252 §8.4 native: a scheme without a period is refused", oauth.ApplicationTypeNative, "myapp:/cb", false},
		{"RFC 8252 §7.1 native: two slashes after the scheme are refused", oauth.ApplicationTypeNative, "com.example.app://cb", false},
		{"RFC 8252 §7.1 native: no slash after the scheme is refused", oauth.ApplicationTypeNative, "com.example.app:cb", false},
		{"RFC 8252 §7.1 native: a private-use URI with a fragment is refused", oauth.ApplicationTypeNative, "com.example.app:/cb#x", false},
		{"RFC 8252 §7.2 native: a claimed https URI", oauth.ApplicationTypeNative, "https://app.example.com/cb", true},
		{"RFC 8252 §7.3 native: a loopback IP redirect without a port", oauth.ApplicationTypeNative, "http://127.0.0.1/cb", true},
		{"RFC 8252 §7.3 native: a loopback IPv6 redirect", oauth.ApplicationTypeNative, "http://[::1]/cb", true},
		{"RFC 8252 §8.3 native: localhost is accepted, and matched exactly", oauth.ApplicationTypeNative, "http://localhost/cb", true},
		{"RFC 9700 §2.1 native: http off loopback is refused", oauth.ApplicationTypeNative, "http://app.example.com/cb", false},
		{"RFC 9700 §2.1 web: http off loopback is refused", "", "http://client.example.org/cb", false},
		{"RFC 6749 §3.1.2 a relative URI is refused", oauth.ApplicationTypeNative, "/cb", false},
		{"OIDC Registration §2 an unknown application_type is refused", "desktop", "https://client.example.org/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oauth.CheckRedirectURIs(&oauth.Client{ID: "c", ApplicationType: tc.appType, RedirectURIs: []string{tc.uri}})
			if (err == nil) != tc.ok {
				t.Fatalf("CheckRedirectURIs(%s, %q) = %v, want ok %v", tc.appType, tc.uri, err, tc.ok)
			}
		})
	}
	if err := oauth.CheckRedirectURIs(&oauth.Client{ID: "c", ApplicationType: oauth.ApplicationTypeNative}); err == nil {
		t.Error("a client without redirect_uris was accepted")
	}
}

// TestFormPost_2_ARedirectURIABrowserCannotPostToIsRefused: form_post and
// form_post.jwt are answered by an auto-submitted form (OAuth 2.0 Form Post Response
// Mode §2), which a browser cannot post to a native app's private-use scheme (RFC 8252
// §7.1): invalid_request, redirected in the default mode. Query and jwt work there.
func TestFormPost_2_ARedirectURIABrowserCannotPostToIsRefused(t *testing.T) {
	d := newDomain(t)
	d.putClient(&oauth.Client{ID: "app", ApplicationType: oauth.ApplicationTypeNative,
		RedirectURIs:            []string{"com.example.app:/cb", "http://127.0.0.1/cb"},
		TokenEndpointAuthMethod: oauth.AuthNone, Scope: "openid"})
	for _, tc := range []struct {
		name, redirectURI, mode string
		ok                      bool
	}{
		{"Form Post §2 form_post to a private-use scheme is invalid_request", "com.example.app:/cb", oauth.ResponseModeFormPost, false},
		{"Form Post §2 form_post.jwt to a private-use scheme is invalid_request", "com.example.app:/cb", oauth.ResponseModeFormPostJWT, false},
		{"RFC 8252 §7.1 query to a private-use scheme works", "com.example.app:/cb", "query", true},
		{"Form Post §2 form_post to a loopback redirect works", "http://127.0.0.1:4711/cb", oauth.ResponseModeFormPost, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := authParams("app", "redirect_uri", tc.redirectURI, "scope", "openid", "response_mode", tc.mode)
			_, err := d.push(d.client("app"), params, oauth.DPoP{})
			if tc.ok {
				if err != nil {
					t.Fatalf("push: %v", err)
				}
				return
			}
			if e := wantErr(t, err, oauth.CodeInvalidRequest); !e.Redirect || !strings.Contains(e.Description, "needs an http or https redirect URI") {
				t.Errorf("push: %+v, want a redirected invalid_request naming the redirect URI", e)
			}
		})
	}
}
