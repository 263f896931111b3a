package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// TestLogin_DeadRequestStillGetsNoCode: the login no longer re-reads the pushed
// request, so a request denied after the login page was shown is
// refused by the next step: the consent page that the login redirects to, and the
// consuming write. RFC 9126 §4: request_uri values are one-time use.
func TestLogin_DeadRequestStillGetsNoCode(t *testing.T) {
	store := seededStore(t, memory.New())
	ts := newServer(t, withStore(store))
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	login := b.Get(t, authorizePath(confID, uri))
	if !httpapitest.IsLoginPage(login) {
		t.Fatalf("want the login page, got %d: %s", login.Status, login.Body)
	}
	key, _ := oauth.RequestKey(uri)
	if err := store.DenyPushedRequest(t.Context(), oauth.Consume{Key: key, ClientID: confID, Now: ts.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	r := b.Submit(t, login, url.Values{"username": {username}, "password": {password}})
	if r.Status == http.StatusSeeOther {
		r = b.Get(t, r.Location(t).String())
	}
	if r.Status != http.StatusBadRequest || httpapitest.IsConsentPage(r) || !strings.Contains(r.Body, oauth.CodeInvalidRequestURI) {
		t.Fatalf("after the request was denied: want a 400 invalid_request_uri page, got %d:\n%s", r.Status, r.Body)
	}
}

// TestLogin_ClientMustMatchTheCookie: RFC 9126 §4 via RFC 9101 §6.3, the client_id
// "MUST match" the one bound to the request; the login checks it against the client
// the sealed cookie carries, without re-reading the request.
func TestLogin_ClientMustMatchTheCookie(t *testing.T) {
	ts := newServer(t)
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	login := b.Get(t, authorizePath(confID, uri))
	r := b.Submit(t, login, url.Values{"username": {username}, "password": {password}, "client_id": {postID}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, oauth.CodeInvalidRequestURI) {
		t.Fatalf("login with another client_id: want a 400 invalid_request_uri page, got %d:\n%s", r.Status, r.Body)
	}
}

// TestApprove_UserChangedSinceLoginIsAccessDenied: approval no longer re-reads the
// user; the consuming write's condition refuses a user disabled,
// re-created or cut off since the login as the read did: access_denied to
// the client (RFC 6749 §4.1.2.1), and no code.
func TestApprove_UserChangedSinceLoginIsAccessDenied(t *testing.T) {
	for name, change := range map[string]func(u *oauth.User){
		"disabled":                   func(u *oauth.User) { u.Disabled = true },
		"password changed (cut off)": func(u *oauth.User) { u.TokensValidAfter = time.Now().UTC().Truncate(time.Millisecond) },
		"deleted and re-created":     func(u *oauth.User) { u.Sub = "a-new-subject" },
	} {
		t.Run(name, func(t *testing.T) {
			store := seededStore(t, memory.New())
			ts := newServer(t, withStore(store))
			uri := ts.push(t, confID, confSecret, pushParams())
			b := ts.browser(t)
			consent := b.login(t, confID, uri)
			changeUser(t, store, username, change)
			q := b.approve(t, consent)
			if q.Get("error") != oauth.CodeAccessDenied || q.Get("code") != "" {
				t.Fatalf("approval for a user %s since login: want error=access_denied and no code, got %v", name, q)
			}
		})
	}
}

// TestApprove_LargeClaimsAreReadAtApproval: a user whose releasable claims are too
// large for the transaction cookie is not carried in it (browsers keep 4096 bytes,
// RFC 6265 §6.1): the cookie stays small, approval reads the user, and the code
// carries the claims.
func TestApprove_LargeClaimsAreReadAtApproval(t *testing.T) {
	store := seededStore(t, memory.New())
	changeUser(t, store, username, func(u *oauth.User) { u.Claims["name"] = strings.Repeat("N", 3000) })
	ts := newServer(t, withStore(store))
	uri := ts.push(t, confID, confSecret, pushParams())
	b := ts.browser(t)
	consent := b.login(t, confID, uri)
	base, _ := url.Parse(ts.URL + "/authorize")
	for _, c := range b.Client.Jar.Cookies(base) {
		if len(c.Name)+len(c.Value) > 4000 {
			t.Fatalf("cookie %s is %d bytes", c.Name, len(c.Name)+len(c.Value))
		}
	}
	// Read at approval, so a disable since the login is refused by that read.
	changeUser(t, store, username, func(u *oauth.User) { u.Disabled = true })
	if q := b.approve(t, consent); q.Get("error") != oauth.CodeAccessDenied {
		t.Fatalf("approval for a disabled user with large claims: want access_denied, got %v", q)
	}
	changeUser(t, store, username, func(u *oauth.User) { u.Disabled = false })
	uri = ts.push(t, confID, confSecret, pushParams())
	// A new browser: this one's single sign-on session would skip the login page.
	b = ts.browser(t)
	if q := b.approve(t, b.login(t, confID, uri)); q.Get("code") == "" {
		t.Fatalf("approval for a user with large claims: want a code, got %v", q)
	}
}
