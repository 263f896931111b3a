package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
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
