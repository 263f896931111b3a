package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
)

// TestLogin_DeadRequestStillGetsNoCode: the login no longer re-reads the pushed
// request (issue 15 item 4), so a request denied after the login page was shown is
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
