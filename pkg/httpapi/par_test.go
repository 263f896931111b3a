package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func with(p url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range p {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// TestPAR is the route table of the pushed authorization request endpoint: every
// row is a sentence of RFC 9126 §2 (or the rule it points to) and what the wire shows.
func TestPAR(t *testing.T) {
	ts := newServer(t)
	valid := pushParams()
	tests := []struct {
		name        string
		method      string
		auth        string
		contentType string
		body        string
		wantStatus  int
		wantError   string
		wantHeader  map[string]string
	}{
		{name: "client_secret_basic push is created", auth: basic(confID, confSecret), body: valid.Encode(),
			wantStatus: 201, wantHeader: map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache"}},
		{name: "client_secret_basic without body client_id is created", auth: basic(confID, confSecret),
			body: with(valid, "client_id", "").Encode(), wantStatus: 201},
		{name: "client_secret_post push is created",
			body: with(valid, "client_id", postID, "client_secret", postSecret, "scope", "openid").Encode(), wantStatus: 201},
		{name: "public client with PKCE is created",
			body: with(valid, "client_id", publicID, "redirect_uri", "http://127.0.0.1:9999/cb", "scope", "openid").Encode(), wantStatus: 201},
		{name: "GET is 405 with Allow", method: http.MethodGet, wantStatus: 405, wantError: "invalid_request",
			wantHeader: map[string]string{"Allow": "POST"}},
		{name: "PUT is 405 with Allow", method: http.MethodPut, auth: basic(confID, confSecret), body: valid.Encode(),
			wantStatus: 405, wantHeader: map[string]string{"Allow": "POST"}},
		{name: "no credentials is 401 invalid_client", body: with(valid, "client_id", "").Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong Basic secret is 401 with WWW-Authenticate", auth: basic(confID, confSecret+"x"), body: valid.Encode(),
			wantStatus: 401, wantError: "invalid_client", wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="pargate", charset="UTF-8"`}},
		{name: "unknown client is 401", auth: basic("nobody", confSecret), body: with(valid, "client_id", "").Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "malformed Basic is 401", auth: "Basic !!!", body: valid.Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "wrong client_secret_post secret is 401 with WWW-Authenticate",
			body: with(valid, "client_id", postID, "client_secret", "nope"+postSecret).Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "confidential client without a secret is 401", body: valid.Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "basic client using client_secret_post is 401",
			body: with(valid, "client_secret", confSecret).Encode(), wantStatus: 401, wantError: "invalid_client"},
		{name: "two authentication methods is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "client_secret", confSecret).Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "body client_id differing from Basic is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "client_id", postID).Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "request_uri in the push is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "request_uri", "urn:ietf:params:oauth:request_uri:abc").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "unregistered redirect_uri is invalid_request, not a redirect", auth: basic(confID, confSecret),
			body: with(valid, "redirect_uri", "https://evil.example/cb").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "redirect_uri may be omitted with one registered URI", auth: basic(confID, confSecret),
			body: with(valid, "redirect_uri", "").Encode(), wantStatus: 201},
		{name: "redirect_uri is required with two registered URIs", auth: basic(twoURIID, twoURISecret),
			body: with(valid, "client_id", "", "redirect_uri", "", "scope", "openid").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "response_type token is unsupported_response_type", auth: basic(confID, confSecret),
			body: with(valid, "response_type", "token").Encode(), wantStatus: 400, wantError: "unsupported_response_type"},
		{name: "missing response_type is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "response_type", "").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "scope outside the client's is invalid_scope", auth: basic(confID, confSecret),
			body: with(valid, "scope", "openid admin").Encode(), wantStatus: 400, wantError: "invalid_scope"},
		{name: "missing scope is invalid_scope", auth: basic(confID, confSecret),
			body: with(valid, "scope", "").Encode(), wantStatus: 400, wantError: "invalid_scope"},
		{name: "missing code_challenge is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "code_challenge", "", "code_challenge_method", "").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "plain PKCE is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "code_challenge_method", "plain").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "missing code_challenge_method is invalid_request (plain by default)", auth: basic(confID, confSecret),
			body: with(valid, "code_challenge_method", "").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "malformed code_challenge is invalid_request", auth: basic(confID, confSecret),
			body: with(valid, "code_challenge", "short").Encode(), wantStatus: 400, wantError: "invalid_request"},
		{name: "repeated parameter is invalid_request", auth: basic(confID, confSecret),
			body: valid.Encode() + "&scope=openid", wantStatus: 400, wantError: "invalid_request"},
		{name: "JSON body is invalid_request", auth: basic(confID, confSecret), contentType: "application/json",
			body: `{"response_type":"code"}`, wantStatus: 400, wantError: "invalid_request"},
		{name: "body over 64 KiB is 413", auth: basic(confID, confSecret),
			body: with(valid, "state", strings.Repeat("a", 70<<10)).Encode(), wantStatus: 413, wantError: "invalid_request"},
		{name: "unsigned request object is invalid_request_object", auth: basic(confID, confSecret),
			body: url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}.Encode(), wantStatus: 400, wantError: "invalid_request_object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			ct := tt.contentType
			if ct == "" && method == http.MethodPost {
				ct = form
			}
			r := ts.do(t, nil, method, "/par", tt.auth, ct, tt.body)
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			if got := r.JSON["error"]; tt.wantError != "" && got != tt.wantError {
				t.Errorf("error %v, want %s (%v)", got, tt.wantError, r.JSON["error_description"])
			}
			for k, v := range tt.wantHeader {
				if got := r.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			// RFC 7235 §3.1: every 401 carries a challenge, whatever method was tried.
			if tt.wantStatus == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without a Basic challenge: WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
			if r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
			}
			if tt.wantStatus == 201 {
				uri, _ := r.JSON["request_uri"].(string)
				ref, ok := strings.CutPrefix(uri, "urn:ietf:params:oauth:request_uri:")
				if !ok || len(ref) < 43 {
					t.Errorf("request_uri %q: want the RFC 9126 URN with ≥ 256 random bits", uri)
				}
				if r.JSON["expires_in"] != float64(60) {
					t.Errorf("expires_in %v, want 60", r.JSON["expires_in"])
				}
			}
		})
	}
}

func TestPAR_ErrorsNeverLeakInternals(t *testing.T) {
	ts := newServer(t)
	r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, "%zz=1")
	if r.Status != 400 || r.JSON["error"] != "invalid_request" {
		t.Fatalf("malformed form: %d %s", r.Status, r.Body)
	}
	for _, leak := range []string{"goroutine", ".go:", "panic"} {
		if strings.Contains(r.Body, leak) {
			t.Errorf("body leaks %q: %s", leak, r.Body)
		}
	}
}
