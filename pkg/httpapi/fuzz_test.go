package httpapi_test

// Fuzz targets of the HTTP edge. Each one drives the real handler (app.NewHandler
// over the in-memory store, seeded like the route tests) through httptest, so what is
// asserted is what a client would see on the wire: no input ever gets a 5xx, every
// back-channel answer is RFC 6749 §5.2 JSON with a code the endpoint may return, and
// nothing is accepted that the specification says must be refused.
//
// `go test` runs the seeds (f.Add and testdata/fuzz/FuzzXxx/*) as ordinary tests;
// `make fuzz` runs each target for FUZZTIME. Inputs may carry placeholders ($ISSUER,
// $EXP, $JTI, $REQUEST_URI, ...) that are replaced at run time, so a checked-in seed
// can hold a valid, unexpired, not-yet-replayed token while the fuzzer mutates what
// surrounds it.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
)

// fuzzIssuer is the issuer of the fuzzed server. The handler is called directly, not
// through the test server's listener, so the issuer can be a real https URL.
const fuzzIssuer = "https://as.example.org"

// Error codes each endpoint may answer with. RFC 9126 §2.3: the PAR endpoint uses
// the token endpoint's format and codes (RFC 6749 §5.2), the authorization endpoint's
// (§4.1.2.1) and extensions such as invalid_request_object; codes about user
// interaction (login_required, consent_required, ...) "are never returned". 5xx codes
// (server_error, temporarily_unavailable) are not in the lists: no input may cause them.
var (
	parErrors = []string{"invalid_request", "invalid_client", "unauthorized_client", "invalid_scope",
		"unsupported_response_type", "invalid_request_object", "invalid_dpop_proof", "use_dpop_nonce",
		"invalid_authorization_details"} // RFC 9396 §5
	tokenErrors = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "invalid_dpop_proof", "use_dpop_nonce"}
)

// fuzzServer is the handler under test.
type fuzzServer struct {
	h       http.Handler
	dpopKey jose.JSONWebKey
}

// newFuzzServer serves fuzzIssuer at the wall-clock time: the inputs carry times
// taken from time.Now when they run.
func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	ts := newServer(tb, withEnv(map[string]string{"ISSUER": fuzzIssuer}), withWallClock())
	dk, err := keys.Generate(keys.ES256)
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzServer{h: ts.handler.Routes(), dpopKey: dk}
}

// serve runs one request through the handler.
func (fs *fuzzServer) serve(method, path, rawQuery string, header http.Header, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, fuzzIssuer+path, bytes.NewReader(body))
	req.URL.RawQuery = rawQuery
	req.RequestURI = ""
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	fs.h.ServeHTTP(rec, req)
	return rec
}

// post sends a form POST to a back-channel endpoint with the given Authorization
// and DPoP header values ("" omits them; DPoP values are split on newlines, so an
// input can send the header more than once).
func (fs *fuzzServer) post(path string, body []byte, auth, dpop string) *httptest.ResponseRecorder {
	h := http.Header{"Content-Type": {form}}
	if auth != "" {
		h["Authorization"] = []string{auth}
	}
	if dpop != "" {
		h["Dpop"] = strings.Split(dpop, "\n")
	}
	return fs.serve(http.MethodPost, path, "", h, body)
}

// wantJSONAnswer checks a back-channel response: not 5xx, a status in statuses,
// RFC 6749 §5.1/§5.2 headers, a JSON body, and on errors an allowed code. It returns
// the decoded body.
func wantJSONAnswer(t *testing.T, rec *httptest.ResponseRecorder, statuses []int, codes []string, input ...any) map[string]any {
	t.Helper()
	// docs/design.md decision 10: 5xx is for storage outages and bugs, never for
	// what a client sent.
	if rec.Code >= 500 {
		t.Fatalf("status %d for input %q: %s", rec.Code, input, rec.Body)
	}
	// RFC 6749 §5.2 (400, 401), RFC 9126 §2.2 (201) and §2.3 (413): only the statuses
	// the endpoint may answer with.
	if !slices.Contains(statuses, rec.Code) {
		t.Fatalf("status %d (want one of %v) for input %q: %s", rec.Code, statuses, input, rec.Body)
	}
	// RFC 6749 §5.1/§5.2: the answer is an application/json body.
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q for input %q", ct, input)
	}
	// RFC 6749 §5.1: "Cache-Control" "no-store" and "Pragma" "no-cache" (RFC 9126
	// §2.2's example answers the same way).
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Pragma") != "no-cache" {
		t.Fatalf("cacheable response (%v) for input %q", rec.Header(), input)
	}
	// RFC 6749 §5.1: the parameters are members at "the highest structure level" of
	// one JSON object.
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object (%v) for input %q: %s", err, input, rec.Body)
	}
	if rec.Code >= 400 {
		// RFC 6749 §5.2 and RFC 9126 §2.3: an error code of the endpoint, none about user
		// interaction and none of the 5xx kind.
		code, _ := m["error"].(string)
		if !slices.Contains(codes, code) {
			t.Fatalf("error %q (want one of %v) for input %q: %s", code, codes, input, rec.Body)
		}
		// RFC 6749 §5.2: "Values for the error_description parameter MUST NOT include
		// characters outside the set %x20-21 / %x23-5B / %x5D-7E."
		desc, _ := m["error_description"].(string)
		for i := 0; i < len(desc); i++ {
			if c := desc[i]; c < 0x20 || c == 0x22 || c == 0x5c || c > 0x7e {
				t.Fatalf("error_description %q has %q for input %q", desc, c, input)
			}
		}
		// RFC 6749 §5.2: invalid_client "MAY return an HTTP 401"; this server always
		// does, and only for it.
		if (rec.Code == http.StatusUnauthorized) != (code == "invalid_client") {
			t.Fatalf("status %d with error %s for input %q", rec.Code, code, input)
		}
	}
	return m
}

// wantPushed checks a 201 pushed authorization response (RFC 9126 §2.2).
func wantPushed(t *testing.T, m map[string]any, input ...any) {
	t.Helper()
	// RFC 9126 §2.2: request_uri, here in the urn:ietf:params:oauth:request_uri:
	// namespace, with a part from a cryptographically strong generator (RFC 6749
	// §10.10: guessing at most 2^-128; 43 base64url characters carry 256 bits).
	uri, _ := m["request_uri"].(string)
	ref, ok := strings.CutPrefix(uri, "urn:ietf:params:oauth:request_uri:")
	if !ok || len(ref) < 43 {
		t.Fatalf("request_uri %q for input %q", uri, input)
	}
	// RFC 9126 §2.2: expires_in is "a positive integer" of seconds.
	if n, _ := m["expires_in"].(float64); n <= 0 || n != float64(int(n)) {
		t.Fatalf("expires_in %v for input %q", m["expires_in"], input)
	}
}

// basicScheme reports whether auth uses the Basic scheme (RFC 7617 §2), as the
// edge recognises it.
func basicScheme(auth string) bool {
	scheme, _, ok := strings.Cut(auth, " ")
	return ok && strings.EqualFold(scheme, "Basic")
}

// wantWWWAuthenticate: RFC 6749 §5.2, after a failed Basic attempt the server MUST
// answer 401 with WWW-Authenticate; without Basic it sends none.
func wantWWWAuthenticate(t *testing.T, rec *httptest.ResponseRecorder, auth string, input ...any) {
	t.Helper()
	got := rec.Header().Get("WWW-Authenticate")
	switch {
	// RFC 6749 §5.2: after Basic, 401 "and include the WWW-Authenticate response
	// header field matching the authentication scheme used by the client".
	case rec.Code == http.StatusUnauthorized && basicScheme(auth) && !strings.HasPrefix(got, "Basic "):
		t.Fatalf("401 after Basic without WWW-Authenticate: Basic (%q) for input %q", got, input)
	// RFC 7235 §3.1: "The server generating a 401 response MUST send a
	// WWW-Authenticate header field containing at least one challenge", whatever
	// method the client tried; Basic is the one header scheme clients may use.
	case rec.Code == http.StatusUnauthorized && !strings.HasPrefix(got, "Basic "):
		t.Fatalf("401 without a Basic challenge (%q) for input %q", got, input)
	// A challenge belongs to a 401 only.
	case got != "" && rec.Code != http.StatusUnauthorized:
		t.Fatalf("WWW-Authenticate %q on a %d for input %q", got, rec.Code, input)
	}
}

// FuzzPAR: arbitrary form bodies, Authorization and DPoP headers at /par (RFC 9126
// §2, §2.3). Never a 5xx; always JSON: 201 with request_uri and expires_in, or an
// error code of RFC 6749 §5.2 / RFC 9126 §2.3.
func FuzzPAR(f *testing.F) {
	fs := newFuzzServer(f)
	valid := pushParams().Encode()
	f.Add([]byte(valid), basic(confID, confSecret), "")
	f.Add([]byte(with(pushParams(), "client_id", "").Encode()), basic(confID, confSecret), "")
	f.Add([]byte(with(pushParams(), "client_id", postID, "client_secret", postSecret, "scope", "openid").Encode()), "", "")
	f.Add([]byte(with(pushParams(), "client_id", publicID, "redirect_uri", "http://127.0.0.1:9999/cb", "scope", "openid").Encode()), "", "")
	f.Add([]byte(valid+"&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"), basic(confID, confSecret), "")
	f.Add([]byte(valid+"&scope=openid"), basic(confID, confSecret), "")
	f.Add([]byte("%zz=1&a=%"), basic(confID, confSecret), "")
	f.Add([]byte(valid), "Basic !!!", "")
	f.Add([]byte(valid), basic(confID, confSecret), "not.a.jwt")
	f.Add([]byte(valid), basic(confID, confSecret), "a\nb")
	f.Add([]byte("request=eyJhbGciOiJub25lIn0.e30."), basic(jarID, jarSec), "")
	f.Add([]byte(with(pushParams(), "dpop_jkt", "AAAA", "max_age", "-1", "prompt", "none login").Encode()), basic(confID, confSecret), "")
	f.Fuzz(func(t *testing.T, body []byte, auth, dpop string) {
		rec := fs.post("/par", body, auth, dpop)
		m := wantJSONAnswer(t, rec, []int{201, 400, 401, 413}, parErrors, body, auth, dpop)
		// RFC 9126 §2.2: a push that succeeds is a 201 with request_uri and expires_in.
		if rec.Code == http.StatusCreated {
			wantPushed(t, m, body, auth, dpop)
		}
		wantWWWAuthenticate(t, rec, auth, body, auth, dpop)
	})
}

// FuzzToken: arbitrary form bodies and headers at /token (RFC 6749 §3.2, §5.2). No
// code was ever issued by this server, so nothing may succeed.
func FuzzToken(f *testing.F) {
	fs := newFuzzServer(f)
	body := url.Values{"grant_type": {"authorization_code"}, "code": {"abc"}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	f.Add([]byte(body.Encode()), basic(confID, confSecret), "")
	f.Add([]byte(with(body, "grant_type", "refresh_token").Encode()), basic(confID, confSecret), "")
	f.Add([]byte(with(body, "client_id", publicID).Encode()), "", "")
	f.Add([]byte(body.Encode()+"&code=x"), basic(confID, confSecret), "x.y.z")
	f.Add([]byte("grant_type=authorization_code&code="), "", "")
	f.Fuzz(func(t *testing.T, body []byte, auth, dpop string) {
		rec := fs.post("/token", body, auth, dpop)
		// RFC 6749 §4.1.3, §6: a code or refresh token this server never issued is not
		// valid, so no 200; RFC 6749 §5.2 errors only.
		wantJSONAnswer(t, rec, []int{400, 401, 413}, tokenErrors, body, auth, dpop)
		wantWWWAuthenticate(t, rec, auth, body, auth, dpop)
	})
}

// templateTags returns the elements the page templates (pages/*.html) and
// http.Redirect (a) produce. A tag outside the set in a response means input was
// reflected unescaped.
func templateTags(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("pages/*.html")
	if err != nil || len(files) == 0 {
		tb.Fatalf("page templates: %v", err)
	}
	tags := []string{"a"}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range tagPattern.FindAllStringSubmatch(string(b), -1) {
			if tag := strings.ToLower(m[1]); !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
	}
	return tags
}

var (
	tagPattern     = regexp.MustCompile(`<\s*/?\s*([a-zA-Z][a-zA-Z0-9:-]*)[^>]*>?`)
	quotedValue    = regexp.MustCompile(`"[^"]*"|'[^']*'`)
	handlerPattern = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	scriptURL      = regexp.MustCompile(`(?i)\s(href|src|action|formaction)\s*=\s*["']?\s*(javascript|data|vbscript):`)
)

// wantNoMarkupInjection checks an HTML response for reflected markup: every element
// is one the templates produce, no element carries an event handler attribute
// (quoted attribute values, which html/template escapes, are left out), and no URL
// attribute holds a script URL. Text content may mention anything: it is escaped.
func wantNoMarkupInjection(t *testing.T, allowedTags []string, out string, in ...any) {
	t.Helper()
	for _, m := range tagPattern.FindAllStringSubmatch(out, -1) {
		if !slices.Contains(allowedTags, strings.ToLower(m[1])) {
			t.Fatalf("unexpected element <%s> in the response to %q:\n%s", m[1], in, out)
		}
		if handlerPattern.MatchString(quotedValue.ReplaceAllString(m[0], `""`)) || scriptURL.MatchString(m[0]) {
			t.Fatalf("script in element %q of the response to %q", m[0], in)
		}
	}
}

// registeredRedirects are the redirect URIs of the fixture clients: the only places
// an authorization response (or a redirected error) may go.
var registeredRedirects = []string{redirectURI, "http://127.0.0.1:9999/cb", "https://a.example.org/cb", "https://b.example.org/cb"}

// FuzzAuthorize: arbitrary query strings (GET) and form bodies (POST) at /authorize,
// with an arbitrary Cookie header. "$REQUEST_URI" in the input is replaced by the
// request_uri of a fresh push of confID. Never a 5xx; pages reflect nothing
// unescaped and run no script but the form post page's; redirects and posted forms go
// only to /authorize or to a registered redirect URI, with iss (RFC 9207; for JARM
// inside the signed response); a pushed request is named by client_id and request_uri alone, so
// extra parameters change nothing (RFC 9101 §6.3).
func FuzzAuthorize(f *testing.F) {
	fs := newFuzzServer(f)
	tags := templateTags(f)
	direct := with(pushParams(), "state", `"><script>alert(1)</script>`).Encode()
	f.Add("client_id="+confID+"&request_uri=$REQUEST_URI", "", "")
	f.Add("client_id="+confID+"&request_uri=$REQUEST_URI&scope=admin&redirect_uri=https%3A%2F%2Fevil.example%2F&prompt=none", "", "")
	f.Add("client_id="+confID+"&request_uri=$REQUEST_URI&request_uri=$REQUEST_URI", "", "")
	f.Add("client_id=<script>alert(1)</script>&request_uri=urn:ietf:params:oauth:request_uri:x", "", "")
	f.Add(direct, "", "")
	f.Add(with(pushParams(), "redirect_uri", `javascript:alert(1)//<script>`).Encode(), "", "")
	f.Add(with(pushParams(), "response_type", "<img src=x onerror=alert(1)>").Encode(), "", "")
	f.Add(with(pushParams(), "client_id", parOnlyID).Encode(), "", "")
	f.Add("", "pargate_step=login&client_id="+confID+"&request_uri=$REQUEST_URI&csrf=x&username=alice&password=x", "")
	f.Add("", "pargate_step=consent&decision=approve&client_id="+confID+"&request_uri=$REQUEST_URI", "pargate_tx_AAAAAAAAAAAAAAAA=AAAA")
	f.Add("", direct, "")
	f.Add("%zz&;&=", "", "pargate_tx_x=%zz")
	// docs/design.md decision 24: errors in each response mode.
	for _, mode := range []string{"form_post", "jwt", "form_post.jwt", "fragment"} {
		f.Add(with(with(pushParams(), "response_mode", mode), "code_challenge_method", "plain").Encode(), "", "")
	}
	f.Fuzz(func(t *testing.T, query, body, cookie string) {
		var requestURI string
		if strings.Contains(query+body, "$REQUEST_URI") {
			rec := fs.post("/par", []byte(pushParams().Encode()), basic(confID, confSecret), "")
			var m map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &m)
			requestURI, _ = m["request_uri"].(string)
			if requestURI == "" {
				t.Fatalf("push: %d %s", rec.Code, rec.Body)
			}
			query = strings.ReplaceAll(query, "$REQUEST_URI", url.QueryEscape(requestURI))
			body = strings.ReplaceAll(body, "$REQUEST_URI", url.QueryEscape(requestURI))
		}
		h := http.Header{}
		if cookie != "" {
			h["Cookie"] = []string{cookie}
		}
		method := http.MethodGet
		if body != "" {
			method = http.MethodPost
			h["Content-Type"] = []string{form}
		}
		rec := fs.serve(method, "/authorize", query, h, []byte(body))
		in := []any{query, body, cookie}
		// docs/design.md decision 10: 5xx is for storage outages and bugs, never for
		// what a client sent.
		if rec.Code >= 500 {
			t.Fatalf("status %d for input %q: %s", rec.Code, in, rec.Body)
		}
		// A page (200), a redirect (303), or an error page (400; 403 for CSRF): RFC 6749
		// §4.1.2.1 shows errors it may not redirect to the user.
		if !slices.Contains([]int{200, 303, 400, 403}, rec.Code) {
			t.Fatalf("status %d for input %q", rec.Code, in)
		}
		out := rec.Body.String()
		// RFC 6749 §10.14: the server "MUST sanitize (and validate when possible) any
		// value received", so nothing reflected becomes markup or script.
		wantNoMarkupInjection(t, tags, out, in...)
		// The one script any page has is the form post page's own (its CSP hash).
		if strings.Count(strings.ToLower(out), "<script") != strings.Count(out, formPostScript) {
			t.Fatalf("<script in the response to %q:\n%s", in, out)
		}
		if strings.Contains(out, formPostScript) {
			// Form Post Response Mode §2: the form posts to a registered redirect URI only.
			action := regexp.MustCompile(`<form method="post" action="([^"]*)"`).FindStringSubmatch(out)
			if action == nil || !slices.Contains(registeredRedirects, httpapitest.HTMLUnescape(action[1])) {
				t.Fatalf("form post page to %v for input %q", action, in)
			}
			if fields := httpapitest.HiddenFields(out); fields.Get("iss") != fuzzIssuer && jarmIssuer(fields.Get("response")) != fuzzIssuer {
				t.Fatalf("form post response %v without iss for input %q", fields, in)
			}
		}
		// RFC 6749 §3.1.2.2, §4.1.2.1: a redirect goes to a registered redirect URI (or
		// to /authorize itself, which continues a direct request, docs/design.md
		// decision 8); RFC 9207 §2: with iss; RFC 6749 §3.1.2: never a fragment. Any
		// other answer is a page under the page contract of docs/design.md: HTML,
		// X-Frame-Options DENY against clickjacking (RFC 6749 §10.13) and a CSP of
		// default-src 'none'.
		if rec.Code == http.StatusSeeOther {
			loc := rec.Header().Get("Location")
			switch {
			case strings.HasPrefix(loc, "/authorize?"):
			case slices.ContainsFunc(registeredRedirects, func(r string) bool { return strings.HasPrefix(loc, r+"?") }):
				u, err := url.Parse(loc)
				if err != nil || (u.Query().Get("iss") != fuzzIssuer && jarmIssuer(u.Query().Get("response")) != fuzzIssuer) || u.Fragment != "" {
					t.Fatalf("authorization response %q without iss for input %q", loc, in)
				}
			default:
				t.Fatalf("redirect to %q for input %q", loc, in)
			}
		} else if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || rec.Header().Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("page without its security headers (%v) for input %q", rec.Header(), in)
		}
		// RFC 9101 §6.3 / docs/design.md decision 5: with client_id and request_uri given
		// once, the pushed request is what counts, whatever else the query says.
		if requestURI != "" && method == http.MethodGet && cookie == "" {
			if q, err := url.ParseQuery(query); err == nil && slices.Equal(q["client_id"], []string{confID}) &&
				slices.Equal(q["request_uri"], []string{requestURI}) && (rec.Code != 200 || !strings.Contains(out, `name="password"`)) {
				t.Fatalf("pushed request with extra parameters %q: %d, want the login page\n%s", query, rec.Code, out)
			}
		}
	})
}

// formPostScript is the form post page's script element (pkg/httpapi/pages/form_post.js).
const formPostScript = "<script>document.forms[0].submit();\n</script>"

// jarmIssuer is the iss claim of a JARM response JWT (its payload, unverified: the
// fuzz target checks where the response goes, pkg/httpapi TestAuthorize_JARM_* the
// signature).
func jarmIssuer(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	_ = json.Unmarshal(payload, &c)
	return c.Issuer
}

// FuzzRedirectURI: redirect-URI matching (RFC 6749 §3.1.2, RFC 9700 §4.1.3 exact
// matching, RFC 9126 §2.4 prefixes and §7.2). The same redirect_uri is pushed for a
// client with a registered prefix, for a client without, for a public client, and
// sent directly to /authorize. An accepted URI is the registered one, or — pushed by
// the client with credentials that has the prefix — starts with the prefix, has no
// fragment or userinfo, and uses https on the prefix's host.
func FuzzRedirectURI(f *testing.F) {
	fs := newFuzzServer(f)
	const prefix = "https://tenant.example.org/cb/"
	for _, uri := range []string{
		"", redirectURI, prefix, prefix + "acme?x=1", prefix + "../../evil", prefix + "x#frag", "https://tenant.example.org@evil.example/cb/",
		"https://tenant.example.org.evil.example/cb/", "http://tenant.example.org/cb/", "HTTPS://tenant.example.org/cb/x",
		redirectURI + "/", redirectURI + "?", redirectURI + "#", "https://client.example.org/cb%2f..", prefix + "%0d%0aSet-Cookie:x",
		"http://127.0.0.1:9999/cb", "http://127.0.0.1:9999/cb/../cb", prefix + "x\\@evil.example", "//evil.example/cb",
	} {
		f.Add(uri)
	}
	push := func(auth string, p url.Values, uri string) *httptest.ResponseRecorder {
		if uri == "" {
			p.Del("redirect_uri")
		} else {
			p.Set("redirect_uri", uri)
		}
		return fs.post("/par", []byte(p.Encode()), auth, "")
	}
	f.Fuzz(func(t *testing.T, uri string) {
		accepted := func(rec *httptest.ResponseRecorder) bool {
			m := wantJSONAnswer(t, rec, []int{201, 400, 413}, parErrors, uri)
			return m["request_uri"] != nil
		}
		// The client with a prefix (RFC 9126 §2.4): under the prefix, pushed by a client
		// with credentials; RFC 6749 §3.1.2: no fragment; and, pargate's prefix rule
		// (CONFORMANCE.md, RFC 9126 §2.4 row), no userinfo, https, the prefix's host.
		if accepted(push(basic(prefixID, prefixSc), with(pushParams(), "client_id", prefixID, "scope", "openid"), uri)) && uri != "" && uri != redirectURI {
			u, err := url.Parse(uri)
			if !strings.HasPrefix(uri, prefix) || err != nil || strings.Contains(uri, "#") || u.User != nil ||
				u.Scheme != "https" || u.Host != "tenant.example.org" {
				t.Fatalf("prefix client: redirect_uri %q accepted", uri)
			}
		}
		// A confidential client without a prefix: exact matching only (RFC 6749
		// §3.1.2.3, RFC 9700 §4.1.3).
		if accepted(push(basic(confID, confSecret), pushParams(), uri)) && uri != "" && uri != redirectURI {
			t.Fatalf("confidential client: unregistered redirect_uri %q accepted", uri)
		}
		// RFC 9126 §7.2: a public client never gets new redirect URIs.
		const publicURI = "http://127.0.0.1:9999/cb"
		if accepted(push("", with(pushParams(), "client_id", publicID, "scope", "openid"), uri)) && uri != "" && uri != publicURI {
			t.Fatalf("public client: unregistered redirect_uri %q accepted", uri)
		}
		// A request sent to /authorize directly: exact matching only, even for the
		// prefix client (§2.4 is about pushed requests).
		q := with(pushParams(), "client_id", prefixID, "scope", "openid")
		if uri == "" {
			q.Del("redirect_uri")
		} else {
			q.Set("redirect_uri", uri)
		}
		rec := fs.serve(http.MethodGet, "/authorize", q.Encode(), nil, nil)
		// docs/design.md decision 10: no 5xx for what a client sent.
		if rec.Code >= 500 {
			t.Fatalf("/authorize: status %d for redirect_uri %q", rec.Code, uri)
		}
		// RFC 6749 §4.1.2.1: with an invalid redirect URI the server "MUST NOT
		// automatically redirect the user-agent to the invalid redirection URI".
		if loc := rec.Header().Get("Location"); rec.Code == http.StatusSeeOther &&
			!strings.HasPrefix(loc, "/authorize?") && !strings.HasPrefix(loc, redirectURI+"?") {
			t.Fatalf("/authorize redirected to %q for redirect_uri %q", loc, uri)
		} else if strings.HasPrefix(loc, "/authorize?") && uri != "" && uri != redirectURI {
			t.Fatalf("/authorize accepted unregistered redirect_uri %q", uri)
		}
	})
}

// decodeBasic decodes client_secret_basic credentials as RFC 6749 §2.3.1 and RFC
// 7617 define them: base64 of the form-urlencoded id, a colon, the form-urlencoded
// secret.
func decodeBasic(auth string) (id, secret string, ok bool) {
	if !basicScheme(auth) {
		return "", "", false
	}
	_, v, _ := strings.Cut(auth, " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return "", "", false
	}
	i, s, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(i); err != nil {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(s); err != nil {
		return "", "", false
	}
	return id, secret, true
}

// jtiCounter makes the $JTI placeholder unique within a process; the random part
// keeps it unique across fuzz workers.
var jtiCounter atomic.Int64

func freshJTI() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return "fz-" + strconv.FormatInt(jtiCounter.Add(1), 10) + "-" + base64.RawURLEncoding.EncodeToString(b)
}

// expand replaces the placeholders a fuzz input may carry.
func (fs *fuzzServer) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	now := time.Now()
	jwk, _ := json.Marshal(fs.dpopKey.Public())
	return strings.NewReplacer(
		"$ISSUER", fuzzIssuer, "$PAR", fuzzIssuer+"/par", "$TOKEN", fuzzIssuer+"/token",
		"$NOW", strconv.FormatInt(now.Unix(), 10), "$EXP", strconv.FormatInt(now.Add(time.Minute).Unix(), 10),
		"$JTI", freshJTI(), "$KID", clientKey.KeyID, "$JWK", string(jwk), "$CHALLENGE", challenge,
		"$REDIRECT", redirectURI,
	).Replace(s)
}

// signRaw signs header.payload exactly as given (no re-encoding) with an ES256 key,
// so the fuzzer controls every byte of the JOSE header and the claims.
func signRaw(t *testing.T, key jose.JSONWebKey, header, payload string) string {
	t.Helper()
	priv, ok := key.Key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("key %T is not ECDSA", key.Key)
	}
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// verifiesWithClientKey reports whether token is a compact JWS that the fixture
// clients' registered key verifies.
func verifiesWithClientKey(token string) bool {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return false
	}
	_, err = jws.Verify(clientKey.Public())
	return err == nil
}

// FuzzClientAuth: client authentication at /par (RFC 6749 §2.3, RFC 9126 §2, RFC
// 7523): the Authorization header bytes and the client_id, client_secret,
// client_assertion_type and client_assertion parameters. "$ASSERTION" is replaced by
// a freshly signed, valid assertion of pkjwtID. A push is created only for credentials
// that are right — one method, the right secret or a signature of the registered
// key — and a failed Basic attempt is 401 with WWW-Authenticate.
func FuzzClientAuth(f *testing.F) {
	fs := newFuzzServer(f)
	const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	f.Add(basic(confID, confSecret), "", "", "", "")
	f.Add(basic(confID, confSecret), confID, "", "", "")
	f.Add(basic(confID, confSecret), postID, "", "", "")
	f.Add(basic(confID, confSecret), "", confSecret, "", "")
	f.Add("", postID, postSecret, "", "")
	f.Add("", confID, confSecret, "", "")
	f.Add("", "", "", jwtBearer, "$ASSERTION")
	f.Add("", pkjwtID, "", jwtBearer, "$ASSERTION")
	f.Add("", confID, "", jwtBearer, "$ASSERTION")
	f.Add(basic(confID, confSecret), "", "", jwtBearer, "$ASSERTION")
	f.Add("", "", "", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "$ASSERTION")
	f.Add("", "", "", jwtBearer, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJwa2p3dC1jbGllbnQifQ.")
	f.Add("basic "+base64.StdEncoding.EncodeToString([]byte("conf-client:"+confSecret)), "", "", "", "")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("conf%2Dclient:"+confSecret)), "", "", "", "")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("conf-client")), "", "", "", "")
	f.Add("Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%zz")), "", "", "", "")
	f.Add("Bearer "+confSecret, "", "", "", "")
	f.Add("Basic", publicID, "", "", "")
	f.Fuzz(func(t *testing.T, auth, clientID, secret, assertionType, assertion string) {
		if strings.Contains(assertion, "$ASSERTION") {
			claims := fmt.Sprintf(`{"iss":%q,"sub":%q,"aud":%q,"jti":%q,"iat":%d,"exp":%d}`,
				pkjwtID, pkjwtID, fuzzIssuer, freshJTI(), time.Now().Unix(), time.Now().Add(time.Minute).Unix())
			testClientKeys(t)
			assertion = strings.ReplaceAll(assertion, "$ASSERTION",
				signRaw(t, clientKey, fmt.Sprintf(`{"alg":"ES256","kid":%q}`, clientKey.KeyID), claims))
		}
		p := with(pushParams(), "client_id", "", "scope", "openid")
		for name, v := range map[string]string{"client_id": clientID, "client_secret": secret,
			"client_assertion_type": assertionType, "client_assertion": assertion} {
			if v != "" {
				p.Set(name, v)
			}
		}
		rec := fs.post("/par", []byte(p.Encode()), auth, "")
		in := []any{auth, clientID, secret, assertionType, assertion}
		m := wantJSONAnswer(t, rec, []int{201, 400, 401, 413}, parErrors, in...)
		wantWWWAuthenticate(t, rec, auth, in...)
		if rec.Code != http.StatusCreated {
			return
		}
		wantPushed(t, m, in...)
		basicUsed := basicScheme(auth)
		methods := 0
		for _, used := range []bool{basicUsed, secret != "", assertion != "" || assertionType != ""} {
			if used {
				methods++
			}
		}
		if methods > 1 {
			t.Fatalf("push created with %d authentication methods (RFC 6749 §2.3: one): %q", methods, in)
		}
		id, pass, ok := decodeBasic(auth)
		switch {
		// RFC 6749 §2.3.1: Basic carries the form-urlencoded id and secret of a client
		// registered for client_secret_basic; a client_id parameter beside it must name
		// the same client (RFC 9126 §2: the client is the authenticated one).
		case basicUsed:
			good := map[string]string{confID: confSecret, parOnlyID: parOnlySec, prefixID: prefixSc}
			if !ok || good[id] == "" || good[id] != pass || (clientID != "" && clientID != id) {
				t.Fatalf("Basic credentials %q accepted: %q", auth, in)
			}
		// RFC 6749 §2.3.1: client_secret_post only for the client registered for it
		// (token_endpoint_auth_method, RFC 7591 §2), with its secret.
		case secret != "":
			if clientID != postID || secret != postSecret {
				t.Fatalf("client_secret_post credentials accepted: %q", in)
			}
		// RFC 7523 §2.2: the jwt-bearer assertion type; §3 item 9: signed with the
		// client's registered key.
		case assertion != "" || assertionType != "":
			if assertionType != jwtBearer || !verifiesWithClientKey(assertion) {
				t.Fatalf("client assertion accepted: %q", in)
			}
		// RFC 9126 §2 / RFC 6749 §2.3: the fixture request is confID's, a confidential
		// client, so a push with no credentials at all is never created.
		default:
			t.Fatalf("push created without client authentication: %q", in)
		}
	})
}

// audience returns the values of an aud claim (string or array of strings) and
// whether it was a single string.
func audience(v any) (auds []string, single bool) {
	switch a := v.(type) {
	case string:
		return []string{a}, true
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	return auds, false
}

// numericDate returns a NumericDate claim (RFC 7519 §2) as Unix seconds.
func numericDate(v any) (float64, bool) {
	n, ok := v.(float64)
	return n, ok
}

// typAllowed compares a typ header as RFC 8725 §3.11 and the server do: without
// case and without an "application/" prefix.
func typAllowed(header map[string]any, allowed ...string) bool {
	typ, present := header["typ"]
	if !present {
		return slices.Contains(allowed, "")
	}
	s, ok := typ.(string)
	if !ok {
		return false
	}
	return slices.Contains(allowed, strings.TrimPrefix(strings.ToLower(s), "application/"))
}

// decodeJOSE decodes the JSON objects a fuzz input signed.
func decodeJOSE(t *testing.T, header, payload string, in ...any) (h, c map[string]any) {
	t.Helper()
	if json.Unmarshal([]byte(header), &h) != nil || json.Unmarshal([]byte(payload), &c) != nil {
		t.Fatalf("accepted a JWT whose header or claims are not JSON objects: %q", in)
	}
	// RFC 8725 §3.1: the algorithm is the one of the registered key (ES256), never
	// what the token says.
	if h["alg"] != "ES256" {
		t.Fatalf("accepted alg %v: %q", h["alg"], in)
	}
	// RFC 7515 §4.1.11: unknown critical extensions MUST make the JWS invalid.
	if _, ok := h["crit"]; ok {
		t.Fatalf("accepted a JWS with crit: %q", in)
	}
	return h, c
}

// wantTimes checks exp (required, in the future, bounded) and nbf/iat (not in the
// future beyond the 10 s skew of FAPI 2.0 §5.3.2.1).
func wantTimes(t *testing.T, c map[string]any, maxLifetime time.Duration, in ...any) {
	t.Helper()
	now := float64(time.Now().Unix())
	// RFC 7523 §3 item 4 and RFC 9101 §4 (exp required, expired refused), RFC 7519
	// §2 (a NumericDate), and the server's bound on how far ahead exp may be.
	exp, ok := numericDate(c["exp"])
	if !ok || exp < now-11 || exp > now+maxLifetime.Seconds()+11 {
		t.Fatalf("accepted exp %v (now %v): %q", c["exp"], now, in)
	}
	// RFC 7519 §4.1.5 / RFC 7523 §3 item 5: not before nbf; iat not in the future;
	// FAPI 2.0 §5.3.2.1: a 10 s clock skew at most.
	for _, name := range []string{"nbf", "iat"} {
		if v, present := c[name]; present {
			if n, ok := numericDate(v); !ok || n > now+11 {
				t.Fatalf("accepted %s %v (now %v): %q", name, v, now, in)
			}
		}
	}
}

// FuzzClientAssertion: the JOSE header and claims of a private_key_jwt assertion
// (RFC 7523 §3, OIDC Core §9, RFC 9126 §2 audiences), signed with the registered key
// so the fuzzer reaches the claim checks. A push is created only if iss = sub =
// client_id, aud names this server, exp is present and near, jti is present, and the
// typ is not that of another kind of JWT.
func FuzzClientAssertion(f *testing.F) {
	fs := newFuzzServer(f)
	const h = `{"alg":"ES256","kid":"$KID"}`
	valid := `{"iss":"` + pkjwtID + `","sub":"` + pkjwtID + `","aud":"$ISSUER","jti":"$JTI","iat":$NOW,"exp":$EXP}`
	f.Add(h, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"JWT"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"at+jwt"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","crit":["exp"],"exp":1}`, valid)
	f.Add(`{"alg":"ES256"}`, valid)
	f.Add(`{"alg":"RS256","kid":"$KID"}`, valid)
	f.Add(h, strings.Replace(valid, `"aud":"$ISSUER"`, `"aud":"$TOKEN"`, 1))
	f.Add(h, strings.Replace(valid, `"aud":"$ISSUER"`, `"aud":["x","$PAR"]`, 1))
	f.Add(h, strings.Replace(valid, `"aud":"$ISSUER"`, `"aud":"$ISSUER/"`, 1))
	f.Add(h, strings.Replace(valid, `"jti":"$JTI",`, ``, 1))
	f.Add(h, strings.Replace(valid, `"jti":"$JTI"`, `"jti":7`, 1))
	f.Add(h, strings.Replace(valid, `"exp":$EXP`, `"exp":"$EXP"`, 1))
	f.Add(h, strings.Replace(valid, `"exp":$EXP`, `"exp":1e400`, 1))
	f.Add(h, strings.Replace(valid, `"exp":$EXP`, `"exp":-9223372036854775809`, 1))
	f.Add(h, strings.Replace(valid, `"iss":"`+pkjwtID+`"`, `"ISS":"`+pkjwtID+`"`, 1))
	f.Add(h, valid[:len(valid)-1]+`,"sub":"`+confID+`"}`)
	f.Add(h, `[]`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		header, payload = fs.expand(header), fs.expand(payload)
		testClientKeys(t)
		token := signRaw(t, clientKey, header, payload)
		p := assertionForm(t, token, with(pushParams(), "scope", "openid"))
		rec := fs.post("/par", []byte(p.Encode()), "", "")
		m := wantJSONAnswer(t, rec, []int{201, 400, 401, 413}, parErrors, header, payload)
		if rec.Code != http.StatusCreated {
			return
		}
		wantPushed(t, m, header, payload)
		hd, c := decodeJOSE(t, header, payload, header, payload)
		// RFC 8725 §3.11: explicit typing keeps a JWT of another kind (at+jwt, dpop+jwt,
		// a request object) from passing as a client assertion.
		if !typAllowed(hd, "", "jwt") {
			t.Fatalf("accepted assertion typ %v: %q", hd["typ"], header)
		}
		if c["iss"] != pkjwtID || c["sub"] != pkjwtID {
			t.Fatalf("accepted iss %v / sub %v (RFC 7523 §3: both the client_id): %q", c["iss"], c["sub"], payload)
		}
		auds, _ := audience(c["aud"])
		if !slices.ContainsFunc(auds, func(a string) bool {
			return a == fuzzIssuer || a == fuzzIssuer+"/token" || a == fuzzIssuer+"/par"
		}) {
			t.Fatalf("accepted aud %v (RFC 9126 §2): %q", c["aud"], payload)
		}
		if jti, _ := c["jti"].(string); jti == "" {
			t.Fatalf("accepted an assertion without jti (OIDC Core §9): %q", payload)
		}
		// RFC 7523 §3 items 4 and 5: exp and nbf.
		wantTimes(t, c, 10*time.Minute, header, payload)
	})
}

// FuzzRequestObject: arbitrary request parameter strings at /par from a client that
// must push request objects (RFC 9126 §3, RFC 9101 §6.2, §10.5). "$REQUEST" is
// replaced by a freshly signed valid request object. A push is created only if the
// string is a JWS the client's registered key verifies.
func FuzzRequestObject(f *testing.F) {
	fs := newFuzzServer(f)
	f.Add("$REQUEST", "")
	f.Add("$REQUEST", "scope=admin&state=outside")
	f.Add("$REQUEST.", "")
	f.Add("eyJhbGciOiJub25lIn0.e30.", "")
	f.Add("eyJhbGciOiJub25lIn0.e30", "")
	f.Add("a.b.c.d.e", "")
	f.Add("....", "")
	f.Add(`{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJFUzI1NiJ9","signature":""}]}`, "")
	f.Add("eyJhbGciOiJFUzI1NiIsImtpZCI6IngifQ.e30.AAAA", "request_uri=urn:x")
	f.Fuzz(func(t *testing.T, request, extra string) {
		if strings.Contains(request, "$REQUEST") {
			testClientKeys(t)
			claims := fs.expand(`{"iss":"` + jarID + `","aud":"$ISSUER","client_id":"` + jarID + `","jti":"$JTI","iat":$NOW,"nbf":$NOW,"exp":$EXP,` +
				`"response_type":"code","redirect_uri":"$REDIRECT","scope":"openid","code_challenge":"$CHALLENGE","code_challenge_method":"S256"}`)
			request = strings.ReplaceAll(request, "$REQUEST",
				signRaw(t, clientKey, fs.expand(`{"alg":"ES256","kid":"$KID","typ":"oauth-authz-req+jwt"}`), claims))
		}
		p, err := url.ParseQuery(extra)
		if err != nil {
			p = url.Values{}
		}
		p.Set("request", request)
		rec := fs.post("/par", []byte(p.Encode()), basic(jarID, jarSec), "")
		m := wantJSONAnswer(t, rec, []int{201, 400, 401, 413}, parErrors, request, extra)
		if rec.Code == http.StatusCreated {
			wantPushed(t, m, request, extra)
			// RFC 9126 §3 step 2 / RFC 9101 §6.2: the signature verifies with the client's
			// registered key; §10.5: this client must push signed request objects.
			if !verifiesWithClientKey(request) {
				t.Fatalf("request object accepted that the client's key does not verify: %q", request)
			}
		}
	})
}

// FuzzRequestObjectClaims: the JOSE header and claims of a request object pushed by
// jarID, signed with its registered key (RFC 9126 §3 step 3, RFC 9101 §4, §5, §6).
// A push is created only if client_id and iss are the authenticated client, aud
// names the issuer, exp is present and near, the typ is not that of another JWT
// kind, and no request or request_uri is nested.
func FuzzRequestObjectClaims(f *testing.F) {
	fs := newFuzzServer(f)
	const h = `{"alg":"ES256","kid":"$KID","typ":"oauth-authz-req+jwt"}`
	valid := `{"iss":"` + jarID + `","aud":"$ISSUER","client_id":"` + jarID + `","jti":"$JTI","iat":$NOW,"nbf":$NOW,"exp":$EXP,` +
		`"response_type":"code","redirect_uri":"$REDIRECT","scope":"openid profile","state":"s","nonce":"n","max_age":300,` +
		`"code_challenge":"$CHALLENGE","code_challenge_method":"S256"}`
	f.Add(h, valid)
	f.Add(`{"alg":"ES256","kid":"$KID"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":7}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":""}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"at+jwt","typ":"jwt"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"application/OAUTH-AUTHZ-REQ+JWT"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"dpop+jwt"}`, valid)
	f.Add(`{"alg":"ES256","kid":"$KID","typ":"oauth-authz-req+jwt","crit":["x"],"x":1}`, valid)
	f.Add(h, strings.Replace(valid, `"client_id":"`+jarID+`"`, `"client_id":"`+confID+`"`, 1))
	f.Add(h, strings.Replace(valid, `"aud":"$ISSUER"`, `"aud":["$ISSUER","x"]`, 1))
	f.Add(h, strings.Replace(valid, `"aud":"$ISSUER"`, `"aud":"$PAR"`, 1))
	f.Add(h, strings.Replace(valid, `"max_age":300`, `"max_age":1e21`, 1))
	f.Add(h, strings.Replace(valid, `"state":"s"`, `"state":{"a":[1,2,{"b":null}]}`, 1))
	f.Add(h, strings.Replace(valid, `"state":"s"`, `"state":"\u0000"`, 1))
	f.Add(h, strings.Replace(valid, `"state":"s"`, `"request_uri":"urn:x"`, 1))
	f.Add(h, strings.Replace(valid, `"state":"s"`, `"redirect_uri":"https://evil.example/cb"`, 1))
	f.Add(h, strings.Replace(valid, `"code_challenge_method":"S256"`, `"code_challenge_method":"plain"`, 1))
	f.Add(h, strings.Replace(valid, `"exp":$EXP`, `"exp":$NOW`, 1))
	f.Add(h, strings.Replace(valid, `"response_type":"code"`, `"response_type":["code"]`, 1))
	f.Add(h, strings.Replace(valid, `"jti":"$JTI",`, ``, 1))
	f.Fuzz(func(t *testing.T, header, payload string) {
		header, payload = fs.expand(header), fs.expand(payload)
		testClientKeys(t)
		token := signRaw(t, clientKey, header, payload)
		body := url.Values{"client_id": {jarID}, "request": {token}}
		rec := fs.post("/par", []byte(body.Encode()), basic(jarID, jarSec), "")
		m := wantJSONAnswer(t, rec, []int{201, 400, 413}, parErrors, header, payload)
		if rec.Code != http.StatusCreated {
			return
		}
		wantPushed(t, m, header, payload)
		hd, c := decodeJOSE(t, header, payload, header, payload)
		// RFC 9101 §4 (typ oauth-authz-req+jwt) and RFC 8725 §3.11: no JWT of another
		// kind passes as a request object.
		if !typAllowed(hd, "", "oauth-authz-req+jwt", "jwt") {
			t.Fatalf("accepted request object typ %v: %q", hd["typ"], header)
		}
		if c["client_id"] != jarID || c["iss"] != jarID {
			t.Fatalf("accepted client_id %v / iss %v (RFC 9126 §3 step 3): %q", c["client_id"], c["iss"], payload)
		}
		if auds, _ := audience(c["aud"]); !slices.Contains(auds, fuzzIssuer) {
			t.Fatalf("accepted aud %v (RFC 9101 §4): %q", c["aud"], payload)
		}
		// RFC 9101 §4: "The request and request_uri parameters MUST NOT be included in
		// Request Objects."
		for _, nested := range []string{"request", "request_uri"} {
			if _, ok := c[nested]; ok {
				t.Fatalf("accepted a request object with %s: %q", nested, payload)
			}
		}
		// RFC 9126 §2.1 step 3: validated as an authorization request would be; this
		// server issues response_type code only and requires PKCE S256 (RFC 7636 §4.2,
		// docs/design.md decision 9).
		if c["response_type"] != "code" || c["code_challenge_method"] != "S256" {
			t.Fatalf("accepted response_type %v / code_challenge_method %v: %q", c["response_type"], c["code_challenge_method"], payload)
		}
		// RFC 6749 §3.1.2.3: jarID has no prefix, so only its registered redirect URI.
		if r, ok := c["redirect_uri"]; ok && r != redirectURI {
			t.Fatalf("accepted redirect_uri %v: %q", r, payload)
		}
		// RFC 9101 §4 / RFC 7519 §4.1.4, §4.1.5: exp, nbf and iat.
		wantTimes(t, c, time.Hour, header, payload)
	})
}

// FuzzDPoPProof: the JOSE header and claims of a DPoP proof sent with a push (RFC
// 9449 §4.3, §10.1), signed with the key its "$JWK" header names. A push is created
// only for typ dpop+jwt, an embedded public jwk, htm POST, htu the PAR endpoint, a
// jti, and an iat inside the window.
func FuzzDPoPProof(f *testing.F) {
	fs := newFuzzServer(f)
	const h = `{"alg":"ES256","typ":"dpop+jwt","jwk":$JWK}`
	valid := `{"jti":"$JTI","htm":"POST","htu":"$PAR","iat":$NOW}`
	f.Add(h, valid)
	f.Add(`{"alg":"ES256","typ":"DPoP+JWT","jwk":$JWK}`, valid)
	f.Add(`{"alg":"ES256","typ":"dpop+jwt"}`, valid)
	f.Add(`{"alg":"ES256","typ":"dpop+jwt","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}`, valid)
	f.Add(`{"alg":"ES256","typ":"dpop+jwt","jwk":$JWK,"crit":["htm"]}`, valid)
	f.Add(h, `{"jti":"$JTI","htm":"post","htu":"$PAR","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"$PAR?x=1#f","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"HTTPS://AS.EXAMPLE.ORG:443/par","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"$PAR/","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"https://as.example.org:80/par","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"https://as.example.org:8443/par","iat":$NOW}`)
	f.Add(`{"alg":"ES256","typ":"dpop+jwt","jwk":$JWK,"typ":"jwt"}`, valid)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"$TOKEN","iat":$NOW}`)
	f.Add(h, `{"jti":"$JTI","htm":"POST","htu":"$PAR","iat":"$NOW"}`)
	f.Add(h, `{"htm":"POST","htu":"$PAR","iat":$NOW}`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		header, payload = fs.expand(header), fs.expand(payload)
		proof := signRaw(t, fs.dpopKey, header, payload)
		rec := fs.post("/par", []byte(pushParams().Encode()), basic(confID, confSecret), proof)
		m := wantJSONAnswer(t, rec, []int{201, 400, 413}, parErrors, header, payload)
		if rec.Code != http.StatusCreated {
			return
		}
		wantPushed(t, m, header, payload)
		hd, c := decodeJOSE(t, header, payload, header, payload)
		if hd["typ"] != "dpop+jwt" {
			t.Fatalf("accepted DPoP typ %v (RFC 9449 §4.3 item 4): %q", hd["typ"], header)
		}
		// RFC 9449 §4.3 items 5-7: the jwk header is a public key (no private d) and the
		// proof verifies with it.
		jwk, _ := hd["jwk"].(map[string]any)
		if jwk == nil || jwk["d"] != nil {
			t.Fatalf("accepted a proof without a public jwk: %q", header)
		}
		// RFC 9449 §4.3 item 8: htm is the request's method.
		if c["htm"] != "POST" {
			t.Fatalf("accepted htm %v: %q", c["htm"], payload)
		}
		// RFC 9449 §4.3 item 9: htu is the request's URI without query and fragment,
		// compared after RFC 3986 §6.2.2/§6.2.3 normalisation (scheme and host case,
		// the scheme's default port).
		htu, _ := c["htu"].(string)
		u, err := url.Parse(htu)
		if err != nil || !strings.EqualFold(u.Scheme, "https") || !strings.EqualFold(strings.TrimSuffix(u.Host, ":443"), "as.example.org") || u.EscapedPath() != "/par" {
			t.Fatalf("accepted htu %q: %q", htu, payload)
		}
		// RFC 9449 §4.2: jti is required (§11.1: it is what replay detection keys on).
		if jti, _ := c["jti"].(string); jti == "" {
			t.Fatalf("accepted a proof without jti: %q", payload)
		}
		// RFC 9449 §4.3 item 11: iat within an acceptable window (here 5 minutes back,
		// and the FAPI 2.0 §5.3.2.1 10 s skew ahead).
		now := float64(time.Now().Unix())
		if iat, ok := numericDate(c["iat"]); !ok || iat > now+11 || iat < now-5*60-1 {
			t.Fatalf("accepted iat %v (now %v): %q", c["iat"], now, payload)
		}
	})
}
