package oauth

// Fuzz targets of the core's parsers and matchers, as properties: what each accepts
// is what the specification allows, and nothing panics. `go test` runs the seeds
// (f.Add and testdata/fuzz/FuzzXxx/*); `make fuzz` runs each target for FUZZTIME.
// The HTTP edge has its own targets in pkg/httpapi/fuzz_test.go.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckParams: RFC 6749 §3.1 and Appendix B parameter hygiene on any form body.
// Accepted parameters appear once, are UTF-8 without control characters (JSON
// whitespace only in JSON-valued parameters) and are bounded in length.
func FuzzCheckParams(f *testing.F) {
	for _, s := range []string{
		"response_type=code&client_id=c&scope=openid",
		"scope=openid&scope=openid",
		"state=a%00b", "state=a%C2%85b", "state=%ff", "%ff=1", "a%01b=1",
		"claims=%7B%0A%22x%22%3A1%7D", "state=%0A", "request=" + strings.Repeat("a", 9000),
		"login_hint=" + strings.Repeat("a", 9000), "=&=", "a=1;b=2",
		"resource=https%3A%2F%2Fapi.example.com%2F&resource=urn%3Ax", "resource=a&resource=%00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		params, _ := url.ParseQuery(raw)
		if checkParams(params) != nil {
			return
		}
		for name, values := range params {
			// RFC 6749 §3.1, §3.2: "Request and response parameters MUST NOT be included
			// more than once" — but RFC 8707 §2: "Multiple resource parameters MAY be used".
			if len(values) != 1 && name != "resource" {
				t.Fatalf("%q: parameter %q accepted %d times", raw, name, len(values))
			}
			for _, v := range values {
				checkAcceptedValue(t, raw, name, v)
			}
		}
	})
}

// checkAcceptedValue is FuzzCheckParams's property of one accepted value.
func checkAcceptedValue(t *testing.T, raw, name, v string) {
	t.Helper()
	// RFC 6749 Appendix B: names and values are UTF-8 before they are
	// form-urlencoded.
	if !utf8.ValidString(name) || !utf8.ValidString(v) {
		t.Fatalf("%q: non-UTF-8 parameter %q accepted", raw, name)
	}
	// RFC 6749 Appendix A: no parameter grammar admits CR, LF or the other C0
	// controls but tab (UNICODECHARNOCRLF); this server refuses tab, DEL and the
	// C1 controls too, except JSON whitespace (RFC 8259 §2) in the values of
	// JSON-valued parameters.
	jsonValued := slices.Contains(largeParams, name)
	for _, r := range name + v {
		if r == '\t' || r == '\n' || r == '\r' {
			if jsonValued && !strings.ContainsRune(name, r) {
				continue
			}
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			t.Fatalf("%q: control character %U in parameter %q accepted", raw, r, name)
		}
	}
	// No RFC sets a length: maxValueLen is this server's own bound, which keeps
	// what it stores and logs small.
	if !jsonValued && len(v) > maxValueLen {
		t.Fatalf("%q: %d-byte %s accepted", raw, len(v), name)
	}
}

// FuzzResources: RFC 8707 §2 and §2.2 on any resource parameters of an authorization
// request and of a token request, for a client that registered some resources. What
// the authorization request is allowed is a set of absolute URIs without fragment,
// each registered or the server's own audience; what a token is for is some of those,
// never another (narrow, never widen).
func FuzzResources(f *testing.F) {
	const iss, api = "https://as.example.org", "https://api.example.org/"
	f.Add("resource=https%3A%2F%2Fapi.example.org%2F", "", api)
	f.Add("resource=https%3A%2F%2Fapi.example.org%2F&resource=urn%3Aledger", "resource=urn%3Aledger", api+" urn:ledger")
	f.Add("", "resource=https%3A%2F%2Fapi.example.org%2F", api)
	f.Add("resource=https%3A%2F%2Fapi.example.org%2F%23", "", api+"#")
	f.Add("resource=%2Frel", "resource=https%3A%2F%2Fas.example.org", "/rel")
	f.Add("resource=https%3A%2F%2Fas.example.org", "resource=https%3A%2F%2Fas.example.org", "")
	s := NewService(Config{Issuer: iss}, nil, nil)
	f.Fuzz(func(t *testing.T, authRaw, tokenRaw, registered string) {
		authParams, _ := url.ParseQuery(authRaw)
		tokenParams, _ := url.ParseQuery(tokenRaw)
		c := &Client{ID: "c", Resources: strings.Fields(registered)}
		allowed := func(r string) bool { return r == iss || slices.Contains(c.Resources, r) }
		granted, err := s.requestResources(c, authParams)
		if err != nil {
			if err.Code != CodeInvalidTarget {
				t.Fatalf("%q: error %s, want invalid_target", authRaw, err.Code)
			}
			return
		}
		for _, r := range granted {
			u, perr := url.Parse(r)
			// RFC 8707 §2: "MUST be an absolute URI ... MUST NOT include a fragment".
			if perr != nil || !u.IsAbs() || strings.Contains(r, "#") || !allowed(r) {
				t.Fatalf("%q: resource %q accepted", authRaw, r)
			}
			if !slices.Contains(authParams["resource"], r) {
				t.Fatalf("%q: resource %q granted but not requested", authRaw, r)
			}
		}
		aud, err := s.tokenAudience(c, &Grant{Resources: granted}, tokenParams)
		if err != nil {
			return
		}
		within := granted
		if len(within) == 0 {
			within = []string{iss}
		}
		// RFC 8707 §2.2: never wider than the grant.
		for _, a := range aud {
			if !slices.Contains(within, a) || !allowed(a) {
				t.Fatalf("%q then %q: token for %q beyond the grant %q", authRaw, tokenRaw, a, within)
			}
		}
		if len(aud) == 0 {
			t.Fatalf("%q then %q: a token without an audience", authRaw, tokenRaw)
		}
	})
}

// FuzzParseScope: RFC 6749 §3.3 scope = scope-token *( SP scope-token ),
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). Accepted tokens are valid, unique,
// at most 100, and exactly the space-separated tokens of the input.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"openid profile email", " openid  openid ", "", "a\tb", `a"b`, `a\b`, "caf\u00e9", "~ !", strings.Repeat("x ", 150)} {
		f.Add(s)
	}
	token := regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseScope(s)
		// RFC 6749 §4.1.2.1, §5.2: a malformed scope is invalid_scope.
		if err != nil {
			if err.Code != CodeInvalidScope {
				t.Fatalf("%q: error %s, want invalid_scope", s, err.Code)
			}
			return
		}
		// RFC 6749 §3.3: "a list of space-delimited, case-sensitive strings", order-
		// independent, so a repeated token adds nothing; at most 100 is this server's
		// bound.
		var want []string
		for _, tok := range strings.Split(s, " ") {
			if tok != "" && !slices.Contains(want, tok) {
				want = append(want, tok)
			}
		}
		if !slices.Equal(got, want) || len(got) > 100 {
			t.Fatalf("%q: parsed %q, want %q", s, got, want)
		}
		// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
		for _, tok := range got {
			if !token.MatchString(tok) {
				t.Fatalf("%q: invalid scope-token %q accepted", s, tok)
			}
		}
	})
}

// validPrefix mirrors what the seed accepts as a pushed_redirect_uri_prefixes entry
// (pkg/seed checkRedirectPrefix): absolute, with a host and a path, no fragment or
// userinfo, https (http only on loopback).
func validPrefix(p string) bool {
	u, err := url.Parse(p)
	if err != nil || !u.IsAbs() || u.Host == "" || !strings.HasPrefix(u.Path, "/") || u.Fragment != "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && IsLoopback(u.Hostname()))
}

// FuzzRedirectAllowed: redirect URI matching (RFC 6749 §3.1.2.2, RFC 9700 §4.1.3,
// RFC 9126 §2.4 and §7.2). An accepted URI is registered exactly, or — for a pushed
// request of a client with credentials — starts with a registered prefix, has no
// fragment or userinfo, and uses https or loopback http; under a prefix the seed
// accepts, it names the prefix's host. The authorization response built on an
// accepted URI (RFC 6749 §4.1.2, RFC 9207) goes to the same scheme and host, keeps
// the URI's query, carries code, state and iss, and has no fragment.
func FuzzRedirectAllowed(f *testing.F) {
	const reg, prefix = "https://client.example.org/cb", "https://tenant.example.org/cb/"
	for _, uri := range []string{
		reg, prefix, prefix + "x?y=1", prefix + "x#f", prefix + "x#", "https://tenant.example.org@evil.example/cb/",
		"https://tenant.example.org.evil.example/cb/", "http://tenant.example.org/cb/", prefix + "x?a=1;b=2",
		prefix + "x?a=%zz", prefix + "%2e%2e/%2e%2e/evil", "http://127.0.0.1:9/cb/", "http://[::1]:9/cb/x",
	} {
		f.Add(uri, reg, prefix, false, true)
		f.Add(uri, reg, prefix, true, true)
		f.Add(uri, reg, prefix, false, false)
	}
	f.Add("http://127.0.0.1:9/cb/x", reg, "http://127.0.0.1:9/cb/", false, true)
	f.Add("https://tenant.example.org", reg, "https://tenant.example.org", false, true)
	f.Add("https://tenant.example.org.evil.example/", reg, "https://tenant.example.org", false, true)
	s := NewService(Config{Issuer: "https://as.example.org"}, nil, nil)
	f.Fuzz(func(t *testing.T, uri, registered, prefix string, public, pushed bool) {
		c := &Client{ID: "c", RedirectURIs: []string{registered}, TokenEndpointAuthMethod: AuthClientSecretBasic}
		if public {
			c.TokenEndpointAuthMethod = AuthNone
		}
		if prefix != "" {
			c.PushedRedirectURIPrefixes = []string{prefix}
		}
		if !redirectAllowed(c, uri, pushed) {
			return
		}
		in := []any{uri, registered, prefix, public, pushed}
		if uri != registered {
			u, err := url.Parse(uri)
			switch {
			// RFC 6749 §3.1.2.3 / RFC 9700 §4.1.3: exact matching, which RFC 9126 §2.4
			// relaxes for pushed requests of clients with credentials (§7.2: never a
			// public one), here to a registered prefix.
			case !pushed || public || prefix == "" || !strings.HasPrefix(uri, prefix):
				t.Fatalf("%q: accepted without an exact match or a prefix for an authenticated push", in)
			// RFC 6749 §3.1.2: "MUST NOT include a fragment component"; userinfo would
			// make the host ambiguous (pargate's prefix rule, CONFORMANCE.md §2.4 row).
			case err != nil || strings.Contains(uri, "#") || u.User != nil:
				t.Fatalf("%q: accepted with a fragment or userinfo", in)
			// RFC 9700 §2.1 / RFC 8252 §7.3: plain http only on loopback.
			case u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())):
				t.Fatalf("%q: accepted with scheme %q", in, u.Scheme)
			}
			// RFC 9126 §2.4: "a certain URI prefix" is only safe if it pins the host.
			if p, _ := url.Parse(prefix); validPrefix(prefix) && (u.Host != p.Host || u.Scheme != p.Scheme) {
				t.Fatalf("%q: a URI under the prefix names %s://%s", in, u.Scheme, u.Host)
			}
		}
		u, err := url.Parse(uri)
		if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || strings.Contains(uri, "#") {
			return // only well-formed URIs can be registered (pkg/seed)
		}
		ar, err := s.response(context.Background(), &Client{ID: "c"}, &AuthorizationRequest{RedirectURI: uri}, url.Values{"code": {"the-code"}, "state": {"the-state"}})
		if err != nil {
			t.Fatalf("%q: authorization response: %v", in, err)
		}
		resp, err := url.Parse(ar.URL())
		if err != nil {
			t.Fatalf("%q: authorization response URL does not parse: %v", in, err)
		}
		// RFC 6749 §4.1.2: code and state in the query of the redirect URI; RFC 9207 §2:
		// iss too; RFC 6749 §3.1.2: no fragment.
		q := resp.Query()
		if resp.Scheme != u.Scheme || resp.Host != u.Host || resp.Fragment != "" ||
			q.Get("code") != "the-code" || q.Get("state") != "the-state" || q.Get("iss") != "https://as.example.org" {
			t.Fatalf("%q: authorization response %s", in, resp)
		}
		// RFC 6749 §3.1.2: the query component "MUST be retained when adding additional
		// query parameters" (for the form-urlencoded pairs it holds).
		if orig, err := url.ParseQuery(u.RawQuery); err == nil {
			for k, vs := range orig {
				if k != "code" && k != "state" && k != "iss" && !slices.Equal(q[k], vs) {
					t.Fatalf("%q: query parameter %s=%q lost from %s", in, k, vs, resp)
				}
			}
		}
	})
}

// FuzzLoopbackRedirect: a native client's loopback IP redirects (RFC 8252 §7.3). A
// request URI accepted for a native client without being registered is an http URI on
// the registered URI's IP literal (127.0.0.1 or [::1]) that differs from it only in
// the port: a port of 1 to 65535 or none, the same path and query, no userinfo, no
// fragment. For a web client nothing but the registered URI is accepted (RFC 9700
// §4.1.3).
func FuzzLoopbackRedirect(f *testing.F) {
	for _, pair := range [][2]string{
		{"http://127.0.0.1:50123/cb", "http://127.0.0.1/cb"},
		{"http://[::1]:8080/cb?x=1", "http://[::1]/cb?x=1"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb"},
		{"http://127.0.0.1:1@evil.example/cb", "http://127.0.0.1/cb"},
		{"http://127.0.0.1.evil.example/cb", "http://127.0.0.1/cb"},
		{"http://127.0.0.1:65536/cb", "http://127.0.0.1/cb"},
		{"http://127.0.0.1:0080/cb", "http://127.0.0.1/cb"},
		{"http://127.0.0.1:80/cb#f", "http://127.0.0.1/cb#f"},
		{"http://127.0.0.1:80?x", "http://127.0.0.1?x"},
		{"http://localhost:80/cb", "http://localhost/cb"},
		{"https://127.0.0.1:80/cb", "https://127.0.0.1/cb"},
		{"http://[::1]:80/cb", "http://127.0.0.1/cb"},
		{"http://127.0.0.1:80/%2e%2e/cb", "http://127.0.0.1/%2e%2e/cb"},
	} {
		f.Add(pair[0], pair[1], true)
		f.Add(pair[0], pair[1], false)
	}
	f.Fuzz(func(t *testing.T, uri, registered string, native bool) {
		c := &Client{ID: "c", RedirectURIs: []string{registered}, TokenEndpointAuthMethod: AuthNone}
		if native {
			c.ApplicationType = ApplicationTypeNative
		}
		if !redirectAllowed(c, uri, true) || uri == registered {
			return
		}
		in := []any{uri, registered, native}
		if !native {
			t.Fatalf("%q: a web client accepted an unregistered URI", in)
		}
		u, err := url.Parse(uri)
		r, rerr := url.Parse(registered)
		switch {
		case err != nil || rerr != nil:
			t.Fatalf("%q: accepted a URI that does not parse (%v, %v)", in, err, rerr)
		case u.Scheme != "http" || r.Scheme != "http":
			t.Fatalf("%q: port freedom outside http", in)
		case u.Hostname() != r.Hostname() || (u.Hostname() != "127.0.0.1" && u.Hostname() != "::1"):
			t.Fatalf("%q: port freedom on host %q (registered %q)", in, u.Hostname(), r.Hostname())
		case u.User != nil || u.Fragment != "" || strings.Contains(uri, "#"):
			t.Fatalf("%q: accepted with userinfo or a fragment", in)
		case u.EscapedPath() != r.EscapedPath() || u.RawQuery != r.RawQuery || u.ForceQuery != r.ForceQuery:
			t.Fatalf("%q: the path or query differs", in)
		}
		if p := u.Port(); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 || p[0] == '0' {
				t.Fatalf("%q: accepted port %q", in, p)
			}
		}
	})
}

// FuzzPKCE: RFC 7636 §4.1 (code_verifier = 43*128unreserved), §4.2 (S256), §4.6
// (verification) against a direct reading of the text.
func FuzzPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Add(strings.Repeat("a", 42), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN")
	f.Add(strings.Repeat("~", 128), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=")
	f.Add(strings.Repeat("a", 129), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c\n")
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX\u00e9", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM")
	verifier := regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)
	f.Fuzz(func(t *testing.T, v, challenge string) {
		// RFC 7636 §4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT /
		// "-" / "." / "_" / "~".
		if got, want := validPKCEValue(v), verifier.MatchString(v); got != want {
			t.Fatalf("validPKCEValue(%q) = %v, want %v", v, got, want)
		}
		// RFC 7636 §4.2, §4.6: S256 is BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))
		// == code_challenge, and nothing else.
		sum := sha256.Sum256([]byte(v))
		if got, want := verifyS256(v, challenge), base64.RawURLEncoding.EncodeToString(sum[:]) == challenge; got != want {
			t.Fatalf("verifyS256(%q, %q) = %v, want %v", v, challenge, got, want)
		}
		if verifyS256(v, base64.RawURLEncoding.EncodeToString(sum[:])) != true {
			t.Fatalf("verifyS256(%q, its own S256) = false", v)
		}
		// A challenge that passes the syntax check and the parameter hygiene (no
		// control characters, so no newlines the base64 decoder would skip) is the
		// base64url encoding of a 32-byte digest.
		if validS256Challenge(challenge) && checkParams(url.Values{"code_challenge": {challenge}}) == nil {
			b, err := base64.RawURLEncoding.DecodeString(challenge)
			if err != nil || len(b) != sha256.Size {
				t.Fatalf("validS256Challenge(%q) accepted %d bytes (%v)", challenge, len(b), err)
			}
		}
	})
}
