package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// RFC 9126 §2.3: "429 Too Many Requests: If the request was rate-limited". With
// CLIENT_RATE_LIMIT=2/60 a client's third back-channel request of a window (the
// four routes share one budget) gets 429, Retry-After in whole seconds and an RFC
// 6749 §5.2 body; the access line says rate_limited. A request whose client
// authentication failed is not counted (docs/design.md decision 23). The exact
// Retry-After and the next window are the store contract's (RequestCounters/*).
func TestBackChannel_RFC9126_2_3_OverTheClientLimitIs429WithRetryAfter(t *testing.T) {
	logs := &syncBuffer{}
	ts := newServer(t, withEnv(map[string]string{"CLIENT_RATE_LIMIT": "2/60"}), withLogs(logs))
	form := "application/x-www-form-urlencoded"
	for range 5 {
		if r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, "wrong-secret-wrong-secret-wrong-secret-00"), form, pushParams().Encode()); r.Status != http.StatusUnauthorized {
			t.Fatalf("bad credentials: %d, want 401", r.Status)
		}
	}
	if r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode()); r.Status != http.StatusCreated {
		t.Fatalf("first request after failed authentications: %d %s, want 201 (failures are not counted)", r.Status, r.Body)
	}
	if r := ts.do(t, nil, http.MethodPost, "/revoke", basic(confID, confSecret), form, "token=unknown"); r.Status != http.StatusOK {
		t.Fatalf("second request: %d %s, want 200", r.Status, r.Body)
	}
	r := ts.do(t, nil, http.MethodPost, "/token", basic(confID, confSecret), form, "grant_type=authorization_code&code=x")
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("third request: %d %s, want 429", r.Status, r.Body)
	}
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Errorf("Retry-After %q, want whole seconds from 1 to 60", r.Header.Get("Retry-After"))
	}
	if !strings.Contains(r.Body, `"error":"temporarily_unavailable"`) || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("429 body %s, Cache-Control %q: want RFC 6749 §5.2 JSON, no-store", r.Body, r.Header.Get("Cache-Control"))
	}
	if !strings.Contains(logs.String(), "outcome=rate_limited") && !strings.Contains(logs.String(), `"outcome":"rate_limited"`) {
		t.Errorf("no rate_limited outcome on the access line:\n%s", logs.String())
	}
}
