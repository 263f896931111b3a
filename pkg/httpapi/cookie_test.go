package httpapi_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

// httpsIssuer is a deployed issuer: the transaction cookie takes the __Host- prefix.
var httpsIssuer = map[string]string{"ISSUER": "https://as.example.org"}

// withCookieKeys seals and opens the transaction cookies with keys (app.Parts.CookieKeys).
func withCookieKeys(keys func(context.Context) ([]httpapi.CookieKey, error)) serverOption {
	return func(o *serverOptions) { o.cookieKeys = keys }
}

// txCookie is the one transaction cookie r sets.
func txCookie(tb testing.TB, r response) *http.Cookie {
	tb.Helper()
	// The transaction cookie; a login sets the single sign-on session cookie beside it.
	var cs []*http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if strings.Contains(c.Name, "pargate_tx_") {
			cs = append(cs, c)
		}
	}
	if len(cs) != 1 {
		tb.Fatalf("want one transaction Set-Cookie, got %q", r.Header.Values("Set-Cookie"))
	}
	return cs[0]
}

// startTx pushes a request and opens its login page with no cookie.
func (ts *testServer) startTx(tb testing.TB) response {
	tb.Helper()
	uri := ts.push(tb, confID, confSecret, pushParams())
	r := ts.do(tb, nil, http.MethodGet, authorizePath(confID, uri), "", "", "")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `name="password"`) {
		tb.Fatalf("login page: %d %s", r.Status, r.Body)
	}
	return r
}

// postWith submits page's form, plus extra, carrying only the cookies given.
func (ts *testServer) postWith(tb testing.TB, page response, extra url.Values, cookies ...*http.Cookie) response {
	tb.Helper()
	v := httpapitest.HiddenFields(page.Body)
	for k, vs := range extra {
		v[k] = vs
	}
	return ts.sendWith(tb, http.MethodPost, "/authorize", v.Encode(), cookies...)
}

// sendWith sends a request to /authorize carrying only the cookies given.
func (ts *testServer) sendWith(tb testing.TB, method, target, body string, cookies ...*http.Cookie) response {
	tb.Helper()
	req, err := http.NewRequest(method, ts.URL+target, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", form)
	}
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := httpapitest.NoRedirect(nil).Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// signIn posts the credentials on the login page with cookie and, when they are taken
// (303, Post/Redirect/Get), follows to the consent page with the new cookie. It returns
// the consent page and its cookie, or the refusal and nil.
func (ts *testServer) signIn(tb testing.TB, login response, cookie *http.Cookie) (response, *http.Cookie) {
	tb.Helper()
	r := ts.postWith(tb, login, credentialsForm, cookie)
	if r.Status != http.StatusSeeOther {
		return r, nil
	}
	c := txCookie(tb, r)
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		tb.Fatal(err)
	}
	return ts.sendWith(tb, http.MethodGet, u.RequestURI(), "", c), c
}

var credentialsForm = url.Values{"username": {username}, "password": {password}}

func isConsent(r response) bool {
	return r.Status == http.StatusOK && strings.Contains(r.Body, `value="approve"`)
}

// RFC 6265bis §4.1.3.2: a __Host- cookie is Secure, has Path=/ and no Domain.
func TestTransactionCookie_HostPrefixUnderHTTPS(t *testing.T) {
	ts := newServer(t, withEnv(httpsIssuer))
	c := txCookie(t, ts.startTx(t))
	if !strings.HasPrefix(c.Name, "__Host-pargate_tx_") {
		t.Errorf("cookie name %q, want the __Host- prefix", c.Name)
	}
	if !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %s: want Secure, Path=/, no Domain, HttpOnly, SameSite=Lax", c.String())
	}
}

// An http issuer is a local run on loopback (make run, the browser suite against
// http://127.0.0.1): the cookie stays unprefixed, not Secure, on /authorize
// (docs/design.md, Contracts).
func TestTransactionCookie_UnprefixedOnLoopbackHTTP(t *testing.T) {
	ts := newServer(t)
	c := txCookie(t, ts.startTx(t))
	if !strings.HasPrefix(c.Name, "pargate_tx_") || c.Secure || c.Path != httpapi.PathAuthorize {
		t.Errorf("cookie %s: want pargate_tx_..., not Secure, Path=/authorize", c.String())
	}
}

// reseal opens a transaction cookie value (the server's format: "<kid>.<base64url(nonce
// || AES-256-GCM)>", the cookie name and kid as additional data) and seals the same
// state again as the value of a cookie named name.
func reseal(tb testing.TB, key [32]byte, c *http.Cookie, name string) string {
	tb.Helper()
	kid, value, ok := strings.Cut(c.Value, ".")
	if !ok {
		tb.Fatalf("cookie value %q has no key id", c.Value)
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		tb.Fatal(err)
	}
	block, _ := aes.NewCipher(key[:])
	aead, _ := cipher.NewGCM(block)
	n := aead.NonceSize()
	plain, err := aead.Open(nil, raw[:n], raw[n:], []byte(c.Name+"\x00"+kid))
	if err != nil {
		tb.Fatalf("open the server's cookie: %v", err)
	}
	nonce := make([]byte, n)
	rand.Read(nonce)
	return kid + "." + base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(name+"\x00"+kid)))
}

// A cookie without the prefix, as a sibling subdomain could plant it, is ignored
// under an https issuer, even one that would open: only the __Host- name is read.
func TestTransactionCookie_UnprefixedCookieIgnoredUnderHTTPS(t *testing.T) {
	key := [32]byte{9, 8, 7}
	ts := newServer(t, withEnv(httpsIssuer), withCookieKey(func(context.Context) ([32]byte, error) { return key, nil }))
	login := ts.startTx(t)
	real := txCookie(t, login)
	plainName := strings.TrimPrefix(real.Name, "__Host-")
	if plainName == real.Name {
		t.Fatalf("cookie %q has no __Host- prefix", real.Name)
	}
	planted := &http.Cookie{Name: plainName, Value: reseal(t, key, real, plainName)}
	if r, _ := ts.signIn(t, login, planted); r.Status != http.StatusBadRequest || isConsent(r) {
		t.Fatalf("login with a planted unprefixed cookie: %d, want 400 (no session)\n%s", r.Status, r.Body)
	}
	// The same state under the prefixed name is a valid session.
	again := &http.Cookie{Name: real.Name, Value: reseal(t, key, real, real.Name)}
	if r, _ := ts.signIn(t, login, again); !isConsent(r) {
		t.Fatalf("login with the __Host- cookie: %d, want the consent page\n%s", r.Status, r.Body)
	}
}

// The cookie key rotates without ending the transactions under way: the newest key
// seals, every listed key opens (by the key id the value carries), and a key no
// longer listed opens nothing.
func TestTransactionCookie_KeyRotationKeepsOldCookiesValid(t *testing.T) {
	old := httpapi.CookieKey{ID: "old", Key: [32]byte{1}}
	newer := httpapi.CookieKey{ID: "new", Key: [32]byte{2}}
	var mu sync.Mutex
	current := []httpapi.CookieKey{old}
	set := func(ks ...httpapi.CookieKey) { mu.Lock(); defer mu.Unlock(); current = ks }
	ts := newServer(t, withEnv(httpsIssuer), withCookieKeys(func(context.Context) ([]httpapi.CookieKey, error) {
		mu.Lock()
		defer mu.Unlock()
		return current, nil
	}))
	login1, login2 := ts.startTx(t), ts.startTx(t)
	c1, c2 := txCookie(t, login1), txCookie(t, login2)
	if !strings.HasPrefix(c1.Value, "old.") {
		t.Fatalf("cookie value %q does not carry the key id old", c1.Value)
	}

	set(newer, old)
	consent, c1 := ts.signIn(t, login1, c1)
	if !isConsent(consent) {
		t.Fatalf("login with a cookie of the previous key: %d, want the consent page\n%s", consent.Status, consent.Body)
	}
	if !strings.HasPrefix(c1.Value, "new.") {
		t.Errorf("cookie after the rotation sealed as %q, want with the newest key, new", c1.Value)
	}

	set(newer)
	if r := ts.postWith(t, consent, url.Values{"decision": {"approve"}}, c1); r.Status != http.StatusSeeOther {
		t.Fatalf("approve with the new key's cookie: %d\n%s", r.Status, r.Body)
	}
	if r, _ := ts.signIn(t, login2, c2); r.Status != http.StatusBadRequest || isConsent(r) {
		t.Fatalf("login with a cookie of a dropped key: %d, want 400 (no session)\n%s", r.Status, r.Body)
	}
}

// A sealed value names its key: relabelling it with another listed key's id does not
// open it.
func TestTransactionCookie_KeyIDIsAuthenticated(t *testing.T) {
	a := httpapi.CookieKey{ID: "a", Key: [32]byte{1}}
	b := httpapi.CookieKey{ID: "b", Key: [32]byte{1}} // the same key under another id
	ts := newServer(t, withEnv(httpsIssuer), withCookieKeys(func(context.Context) ([]httpapi.CookieKey, error) {
		return []httpapi.CookieKey{a, b}, nil
	}))
	login := ts.startTx(t)
	c := txCookie(t, login)
	forged := &http.Cookie{Name: c.Name, Value: "b." + strings.TrimPrefix(c.Value, "a.")}
	if r, _ := ts.signIn(t, login, forged); r.Status != http.StatusBadRequest || isConsent(r) {
		t.Fatalf("login with a relabelled cookie: %d, want 400\n%s", r.Status, r.Body)
	}
}

// withDPoPNonceKey keys the DPoP nonces with key (app.Parts.DPoPNonceKey).
func withDPoPNonceKey(key func(context.Context) ([32]byte, error)) serverOption {
	return func(o *serverOptions) { o.dpopNonceKey = key }
}

// nonceUnder is the DPoP nonce of the current window under key, as oauth/dpopnonce.go
// makes it.
func (ts *testServer) nonceUnder(key [32]byte) string {
	mac := hmac.New(sha256.New, key[:])
	mac.Write([]byte("pargate-dpop-nonce"))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts.clock.Now().Unix()/60))
	mac.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// The DPoP nonce key is its own key, never the cookie key: with
// DPOP_NONCE=true the nonce is keyed by Parts.DPoPNonceKey, and without one by a
// random key of the process, not by the cookie key.
func TestDPoPNonce_KeyIsNotTheCookieKey(t *testing.T) {
	cookieKey := [32]byte{4, 5, 6}
	nonceKey := [32]byte{7, 8, 9}
	env := map[string]string{"DPOP_NONCE": "true"}
	nonceOf := func(ts *testServer) string {
		r := ts.do(t, nil, http.MethodPost, "/par", basic(confID, confSecret), form, pushParams().Encode())
		if r.Status != http.StatusCreated || r.Header.Get("DPoP-Nonce") == "" {
			t.Fatalf("push: %d DPoP-Nonce %q %s", r.Status, r.Header.Get("DPoP-Nonce"), r.Body)
		}
		return r.Header.Get("DPoP-Nonce")
	}
	fixedCookie := withCookieKey(func(context.Context) ([32]byte, error) { return cookieKey, nil })

	ts := newServer(t, withEnv(env), fixedCookie, withDPoPNonceKey(func(context.Context) ([32]byte, error) { return nonceKey, nil }))
	if got := nonceOf(ts); got != ts.nonceUnder(nonceKey) {
		t.Errorf("nonce %q is not keyed by the DPoP nonce key", got)
	}
	local := newServer(t, withEnv(env), fixedCookie)
	if got := nonceOf(local); got == local.nonceUnder(cookieKey) {
		t.Error("without a nonce key of its own, the nonce is keyed by the cookie key")
	}
}
