package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// RFC 9126 §4: request_uri values are one-time use. A denial ends the request like an
// approval: the transaction that denied cannot approve afterwards (its cookie kept),
// and a fresh browser cannot start the request again.
func TestConformance_DenyConsumesTheRequest(t *testing.T) {
	ts := newServer(t)
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	consent := b.login(t, confID, uri)
	base, _ := url.Parse(ts.URL + "/authorize")
	kept := b.Client.Jar.Cookies(base)
	r := b.submit(t, consent, url.Values{"decision": {"deny"}})
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "error=access_denied") {
		t.Fatalf("deny: %d %s", r.Status, r.Header.Get("Location"))
	}
	b.Client.Jar.SetCookies(base, kept)
	if r := b.submit(t, consent, url.Values{"decision": {"approve"}}); r.Status == http.StatusSeeOther {
		t.Fatalf("approve after deny: %d to %s, want an error page", r.Status, r.Header.Get("Location"))
	}
	if p := ts.browser(t).get(t, authorizePath(confID, uri)); p.Status == http.StatusOK {
		t.Fatalf("fresh browser after deny: %d, want the request unusable\n%s", p.Status, p.Body)
	}
}

// RFC 9110 §15.5.14 / RFC 9126 §2.3: every route refuses a body over 64 KiB with 413,
// whether its length is declared or it turns out larger while it is read (chunked);
// POST /authorize used to parse up to 10 MB. Both stores: the limit comes before the
// store.
func TestConformance_EveryRouteLimitsTheBodyTo64KiB(t *testing.T) {
	big := "a=" + strings.Repeat("b", 1<<20)
	for name, store := range map[string]func() oauth.Store{
		"memory":   func() oauth.Store { return seededStore(t, memory.New()) },
		"dynamodb": func() oauth.Store { return seededStore(t, dynamotest.NewStore(t)) },
	} {
		t.Run(name, func(t *testing.T) {
			ts := newServer(t, withStore(store()))
			for _, c := range []struct{ method, path, auth string }{
				{http.MethodPost, "/authorize", ""},
				{http.MethodPost, "/userinfo", ""},
				{http.MethodPost, "/par", basic(confID, confSecret)},
				{http.MethodPost, "/token", basic(confID, confSecret)},
				{http.MethodPost, "/revoke", basic(confID, confSecret)},
				{http.MethodPost, "/introspect", basic(confID, confSecret)},
				{http.MethodGet, "/jwks", ""},
				{http.MethodGet, "/.well-known/openid-configuration", ""},
			} {
				for _, chunked := range []bool{false, true} {
					req, err := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(big))
					if err != nil {
						t.Fatal(err)
					}
					if chunked {
						req.ContentLength = -1
						req.Body = io.NopCloser(strings.NewReader(big))
					}
					req.Header.Set("Content-Type", form)
					if c.auth != "" {
						req.Header.Set("Authorization", c.auth)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatalf("%s %s: %v", c.method, c.path, err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					// A handler that never reads the body (discovery) cannot see a chunked one grow.
					if chunked && c.method == http.MethodGet {
						continue
					}
					if resp.StatusCode != http.StatusRequestEntityTooLarge {
						t.Errorf("%s %s (chunked %v) with 1 MiB: %d, want 413\n%.300s", c.method, c.path, chunked, resp.StatusCode, body)
					}
				}
			}
		})
	}
}

// RFC 6749 §3.1: parameters "MUST NOT be included more than once"; two decision
// fields on the consent form are refused and decide nothing.
func TestConformance_DuplicateDecisionIsRefused(t *testing.T) {
	ts := newServer(t)
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	consent := b.login(t, confID, uri)
	r := b.submit(t, consent, url.Values{"decision": {"deny", "approve"}})
	// The page says so in fixed words with the code (error pages never carry the
	// description, TestHarden_ErrorPagesInFixedWords).
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, oauth.CodeInvalidRequest) {
		t.Fatalf("two decisions: %d %s, want 400 invalid_request", r.Status, r.Body)
	}
	if q := b.approve(t, consent); q.Get("code") == "" {
		t.Fatalf("approve after a refused double decision: %v", q)
	}
}

// A record too large for the store (DynamoDB's 400 KB item limit) is the client's
// request that is too large: 400 invalid_request, never 500 server_error.
func TestConformance_StoreItemSizeErrorIs400(t *testing.T) {
	faulty := oauthtest.NewFaulty(seededStore(t, memory.New()))
	ts := newServer(t, withStore(faulty))
	faulty.Inject(oauthtest.Fault{Method: oauthtest.MethodCreatePushedRequest,
		Err: fmt.Errorf("create pushed request: %w: Item size has exceeded the maximum allowed size", oauth.ErrTooLarge)})
	p := ts.browser(t).get(t, "/authorize?"+pushParams().Encode())
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "invalid_request") || strings.Contains(p.Body, "Item size") {
		t.Errorf("direct request the store cannot hold at /authorize: %d %s", p.Status, p.Body)
	}
	faulty.Inject(oauthtest.Fault{Method: oauthtest.MethodCreatePushedRequest,
		Err: fmt.Errorf("create pushed request: %w", oauth.ErrTooLarge)})
	r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode())
	if r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_request" {
		t.Errorf("pushed request the store cannot hold: %d %s", r.Status, r.Body)
	}
}
