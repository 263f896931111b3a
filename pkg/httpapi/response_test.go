package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
)

// consentFor pushes pushParams with response_mode mode (and kv) and signs in: the
// consent page.
func (ts *testServer) consentFor(t *testing.T, b *browser, mode string, kv ...string) response {
	t.Helper()
	params := pushParams()
	params.Set("response_mode", mode)
	for i := 0; i+1 < len(kv); i += 2 {
		params.Set(kv[i], kv[i+1])
	}
	return b.login(t, confID, ts.push(t, confID, confSecret, params))
}

// responseClaims verifies a JARM response JWT with the server's keys.
func responseClaims(t *testing.T, set *keys.Set, jwt string) map[string]any {
	t.Helper()
	payload, err := set.Verify(jwt)
	if err != nil {
		t.Fatalf("response JWT %q: %v", jwt, err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAuthorize_JARM_2_3_1_QueryJWT: jwt (for code, query.jwt) and query.jwt answer
// 303 to the redirect URI with one parameter, response, the signed JWT; RFC 9207
// §2.4: no iss beside it.
func TestAuthorize_JARM_2_3_1_QueryJWT(t *testing.T) {
	for _, mode := range []string{"jwt", "query.jwt"} {
		t.Run(mode, func(t *testing.T) {
			ts := newServer(t)
			b := ts.browser(t)
			r := b.submit(t, ts.consentFor(t, b, mode), url.Values{"decision": {"approve"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("approve: %d %s", r.Status, r.Body)
			}
			u, err := url.Parse(r.Header.Get("Location"))
			if err != nil || u.Scheme+"://"+u.Host+u.Path != redirectURI {
				t.Fatalf("Location %q", r.Header.Get("Location"))
			}
			q := u.Query()
			if got := slices.Sorted(maps.Keys(q)); !slices.Equal(got, []string{"response"}) {
				t.Fatalf("query = %v, want only response", got)
			}
			c := responseClaims(t, ts.keys, q.Get("response"))
			if c["iss"] != ts.URL || c["aud"] != confID || c["state"] != "xyz-state" || c["code"] == nil || c["exp"] == nil {
				t.Errorf("claims = %v", c)
			}
			// The code in the JWT redeems.
			tr := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, url.Values{"grant_type": {"authorization_code"},
				"code": {c["code"].(string)}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode())
			if tr.Status != http.StatusOK {
				t.Errorf("token: %d %s", tr.Status, tr.Body)
			}
		})
	}
}

var scriptTag = regexp.MustCompile(`<script>([^<]*)</script>`)

// checkFormPostPage checks the page contract of a form_post response: OAuth 2.0 Form
// Post Response Mode §2 (a form with the parameters as hidden fields, posted to the
// redirect URI, auto-submitted) under the pages' CSP, which allows this page's one
// script by hash and form targets only the redirect URI; no-store, no referrer.
func checkFormPostPage(t *testing.T, r response) url.Values {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("form_post: %d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	action, fields := httpapitest.Form(t, httpapitest.Page{Status: r.Status, Header: r.Header, Body: r.Body})
	if action != redirectURI || !strings.Contains(r.Body, `method="post"`) {
		t.Errorf("form action %q, want a POST to %s", action, redirectURI)
	}
	m := scriptTag.FindStringSubmatch(r.Body)
	if m == nil || !strings.Contains(m[1], "submit()") {
		t.Fatalf("no auto-submitting script: %s", r.Body)
	}
	sum := sha256.Sum256([]byte(m[1]))
	csp := r.Header.Get("Content-Security-Policy")
	directives := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	if directives["script-src"] != "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'" {
		t.Errorf("script-src %q does not allow exactly the page's script", directives["script-src"])
	}
	if directives["form-action"] != redirectURI || directives["default-src"] != "'none'" || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q: want form-action %s only, default-src 'none', nothing unsafe", csp, redirectURI)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", r.Header)
	}
	return fields
}

// TestAuthorize_FormPost_2_Page: form_post answers the approval with the page that
// posts code, state and iss (RFC 9207 §2) to the redirect URI.
func TestAuthorize_FormPost_2_Page(t *testing.T) {
	ts := newServer(t)
	b := ts.browser(t)
	fields := checkFormPostPage(t, b.submit(t, ts.consentFor(t, b, "form_post"), url.Values{"decision": {"approve"}}))
	if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, []string{"code", "iss", "state"}) ||
		fields.Get("iss") != ts.URL || fields.Get("state") != "xyz-state" {
		t.Errorf("fields = %v", fields)
	}
}

// TestAuthorize_JARM_2_3_3_FormPostJWT: form_post.jwt posts the one response field,
// for the code and for the user's denial (JARM §2.2: errors are JWTs too).
func TestAuthorize_JARM_2_3_3_FormPostJWT(t *testing.T) {
	for decision, want := range map[string]string{"approve": "code", "deny": "error"} {
		t.Run(decision, func(t *testing.T) {
			ts := newServer(t)
			b := ts.browser(t)
			fields := checkFormPostPage(t, b.submit(t, ts.consentFor(t, b, "form_post.jwt"), url.Values{"decision": {decision}}))
			if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, []string{"response"}) {
				t.Fatalf("fields = %v, want only response", got)
			}
			c := responseClaims(t, ts.keys, fields.Get("response"))
			if c[want] == nil || c["iss"] != ts.URL || c["aud"] != confID || c["state"] != "xyz-state" {
				t.Errorf("claims = %v", c)
			}
		})
	}
}

// TestAuthorize_JARM_2_2_RedirectedErrors: an error at /authorize that goes to the
// client (docs/design.md decision 11) is delivered in the request's mode: a JWT in
// the query for jwt, a posted form for form_post; an unusable mode is answered by query.
func TestAuthorize_JARM_2_2_RedirectedErrors(t *testing.T) {
	ts := newServer(t)
	direct := func(mode string) response {
		params := pushParams()
		params.Set("response_mode", mode)
		params.Set("code_challenge_method", "plain")
		return ts.do(t, nil, http.MethodGet, "/authorize?"+params.Encode(), "", "", "")
	}
	r := direct("jwt")
	u, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || len(u.Query()) != 1 {
		t.Fatalf("jwt: %d %q", r.Status, r.Header.Get("Location"))
	}
	if c := responseClaims(t, ts.keys, u.Query().Get("response")); c["error"] != "invalid_request" || c["state"] != "xyz-state" {
		t.Errorf("jwt error claims = %v", c)
	}
	fields := checkFormPostPage(t, direct("form_post"))
	if fields.Get("error") != "invalid_request" || fields.Get("state") != "xyz-state" || fields.Get("iss") != ts.URL {
		t.Errorf("form_post error fields = %v", fields)
	}
	r = direct("fragment")
	u, _ = url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || u.Query().Get("error") != "invalid_request" || u.Query().Get("iss") != ts.URL {
		t.Errorf("fragment: %d %q", r.Status, r.Header.Get("Location"))
	}
}

// TestDiscovery_JARM_4_Metadata: response_modes_supported lists what works, and
// authorization_signing_alg_values_supported the key set's algorithms.
func TestDiscovery_JARM_4_Metadata(t *testing.T) {
	ts := newServer(t)
	m := ts.do(t, nil, http.MethodGet, "/.well-known/openid-configuration", "", "", "").JSON
	var modes, algs []string
	for _, v := range m["response_modes_supported"].([]any) {
		modes = append(modes, v.(string))
	}
	for _, v := range m["authorization_signing_alg_values_supported"].([]any) {
		algs = append(algs, v.(string))
	}
	if !slices.Equal(modes, []string{"query", "form_post", "jwt", "query.jwt", "form_post.jwt"}) || !slices.Equal(algs, []string{keys.ES256}) {
		t.Errorf("response modes %v, algs %v", modes, algs)
	}
}
