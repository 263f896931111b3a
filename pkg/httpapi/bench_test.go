package httpapi_test

// Benchmarks of the handlers on the in-memory store, called through ServeHTTP with
// httptest.NewRecorder: no network, so what they measure is the handler, the core
// and the store. `make bench` runs them; they assert nothing about time.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

const (
	benchIssuer     = "https://as.example.com"
	benchClientID   = "bench-client"
	benchSecret     = "bench-secret-0123456789abcdefghijklmnopqrstuvwxyzABCD"
	benchRedirect   = "https://client.example.com/cb"
	benchUser       = "bench-user"      // argon2id with the production parameters
	benchFastUser   = "bench-fast-user" // argon2id at its cheapest: for setting up transactions
	benchPassword   = "bench-password-correct-horse"
	benchVerifier   = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	benchChallenge  = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	benchFormType   = "application/x-www-form-urlencoded"
	benchSeedClient = `{"clients": [{"client_id": "` + benchClientID + `", "client_secret": "` + benchSecret + `",
 "consent": "always", "redirect_uris": ["` + benchRedirect + `"], "scope": "openid profile email"}],
 "users": [{"username": "` + benchUser + `", "password": "` + benchPassword + `",
  "claims": {"name": "Bench User", "email": "bench@example.com", "email_verified": true}}]}`
)

// benchKeys are generated once per binary: an RSA key takes a while.
var benchKeys = sync.OnceValues(func() (map[string]*keys.Set, error) {
	out := map[string]*keys.Set{}
	for _, alg := range []string{keys.RS256, keys.ES256} {
		k, err := keys.Generate(alg)
		if err != nil {
			return nil, err
		}
		if out[alg], err = keys.NewSet(k); err != nil {
			return nil, err
		}
	}
	return out, nil
})

// benchEnv is pargate's handler over a seeded in-memory store, at a fixed time.
type benchEnv struct {
	h     *httpapi.Handler
	store *memory.Store
	now   time.Time
	basic string
}

func newBenchEnv(b *testing.B, alg string) *benchEnv {
	b.Helper()
	f, err := seed.Parse([]byte(benchSeedClient))
	if err != nil {
		b.Fatal(err)
	}
	store := memory.New()
	if err := seed.Import(context.Background(), store, f); err != nil {
		b.Fatal(err)
	}
	// A user whose hash is cheap to verify, so that benchmarks of the steps after the
	// login can sign in during their untimed setup.
	salt := []byte("0123456789abcdef")
	sum := argon2.IDKey([]byte(benchPassword), salt, 1, 8, 1, 32)
	b64 := base64.RawStdEncoding
	fast := &oauth.User{Username: benchFastUser, Claims: map[string]any{"name": "Fast User"},
		PasswordHash: fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(sum))}
	if err := store.PutUser(context.Background(), fast); err != nil {
		b.Fatal(err)
	}
	sets, err := benchKeys()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.FromEnv(func(name string) string {
		switch name {
		case "ISSUER":
			return benchIssuer
		case "CLIENT_RATE_LIMIT":
			// One client sends every iteration: the per-client limit
			// (docs/design.md decision 23) would answer 429 after 600.
			return "off"
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	var cookieKey [32]byte
	_, _ = rand.Read(cookieKey[:])
	now := time.Now().UTC().Truncate(time.Millisecond)
	h := app.NewHandler(cfg, app.Parts{
		Store:     store,
		Signer:    keys.NewSigner(keys.Static(sets[alg])),
		CookieKey: func(context.Context) ([32]byte, error) { return cookieKey, nil },
		// The JSON logger of the local API and the functions (app.Logger).
		Logger: httpapi.NewJSONLogger(io.Discard, slog.LevelInfo),
		Now:    func() time.Time { return now },
	})
	return &benchEnv{h: h, store: store, now: now,
		basic: "Basic " + base64.StdEncoding.EncodeToString([]byte(benchClientID+":"+benchSecret))}
}

var benchPushBody = url.Values{
	"response_type": {"code"}, "client_id": {benchClientID}, "redirect_uri": {benchRedirect},
	"scope": {"openid profile email"}, "state": {"bench-state"}, "nonce": {"bench-nonce"},
	"code_challenge": {benchChallenge}, "code_challenge_method": {"S256"},
}.Encode()

func (e *benchEnv) post(h http.Handler, path, body string, auth bool, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", benchFormType)
	if auth {
		req.Header.Set("Authorization", e.basic)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func (e *benchEnv) get(h http.Handler, target string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func want(b *testing.B, rec *httptest.ResponseRecorder, status int) {
	if rec.Code != status {
		b.Helper()
		b.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body.String())
	}
}

// push returns a fresh request_uri.
func (e *benchEnv) push(b *testing.B) string {
	rec := e.post(e.h.PAR(), httpapi.PathPAR, benchPushBody, true, nil)
	want(b, rec, http.StatusCreated)
	var res struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		b.Fatal(err)
	}
	return res.RequestURI
}

var benchHidden = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

func benchForm(page string) url.Values {
	v := url.Values{}
	for _, m := range benchHidden.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], strings.ReplaceAll(m[2], "&amp;", "&"))
	}
	return v
}

func authorizeURL(requestURI string) string {
	return httpapi.PathAuthorize + "?" + url.Values{"client_id": {benchClientID}, "request_uri": {requestURI}}.Encode()
}

// loginPage opens the login page of a fresh push: its cookie and its form.
func (e *benchEnv) loginPage(b *testing.B) ([]*http.Cookie, url.Values) {
	uri := e.push(b)
	rec := e.get(e.h.Authorize(), authorizeURL(uri), nil)
	want(b, rec, http.StatusOK)
	return rec.Result().Cookies(), benchForm(rec.Body.String())
}

// signIn signs user in on a fresh push and returns the cookie and the consent page's form.
func (e *benchEnv) signIn(b *testing.B, user string) ([]*http.Cookie, url.Values) {
	cookies, form := e.loginPage(b)
	form.Set("username", user)
	form.Set("password", benchPassword)
	rec := e.post(e.h.Authorize(), httpapi.PathAuthorize, form.Encode(), false, cookies)
	want(b, rec, http.StatusSeeOther)
	cookies = rec.Result().Cookies()
	rec = e.get(e.h.Authorize(), rec.Header().Get("Location"), cookies)
	want(b, rec, http.StatusOK)
	consent := benchForm(rec.Body.String())
	consent.Set("decision", "approve")
	return cookies, consent
}

// BenchmarkPAR is one pushed authorization request: form, client_secret_basic,
// validation, store.
func BenchmarkPAR(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	h := e.h.PAR()
	b.ReportAllocs()
	for b.Loop() {
		want(b, e.post(h, httpapi.PathPAR, benchPushBody, true, nil), http.StatusCreated)
	}
}

// BenchmarkPARParallel pushes from GOMAXPROCS goroutines: the store's lock under contention.
func BenchmarkPARParallel(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	h := e.h.PAR()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if rec := e.post(h, httpapi.PathPAR, benchPushBody, true, nil); rec.Code != http.StatusCreated {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}

// BenchmarkAuthorizeLoginPage opens /authorize with a pushed request_uri: the
// request is loaded, a transaction cookie sealed and the login page rendered.
func BenchmarkAuthorizeLoginPage(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	target := authorizeURL(e.push(b))
	h := e.h.Authorize()
	b.ReportAllocs()
	for b.Loop() {
		want(b, e.get(h, target, nil), http.StatusOK)
	}
}

// BenchmarkAuthorizeLogin posts the login form; argon2id (19 MiB, 2 passes) is most of it.
func BenchmarkAuthorizeLogin(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	cookies, form := e.loginPage(b)
	form.Set("username", benchUser)
	form.Set("password", benchPassword)
	body := form.Encode()
	h := e.h.Authorize()
	b.ReportAllocs()
	for b.Loop() {
		want(b, e.post(h, httpapi.PathAuthorize, body, false, cookies), http.StatusSeeOther)
	}
}

// BenchmarkAuthorizeConsentPage opens /authorize after the login: the consent page.
func BenchmarkAuthorizeConsentPage(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	cookies, form := e.signIn(b, benchFastUser)
	target := authorizeURL(form.Get("request_uri"))
	h := e.h.Authorize()
	b.ReportAllocs()
	for b.Loop() {
		want(b, e.get(h, target, cookies), http.StatusOK)
	}
}

// BenchmarkAuthorizeApprove posts the consent: the pushed request is consumed and
// the code issued in one step, and the browser redirected. Each approval needs a
// transaction of its own, which is set up with the timer stopped.
func BenchmarkAuthorizeApprove(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	h := e.h.Authorize()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cookies, form := e.signIn(b, benchFastUser)
		body := form.Encode()
		b.StartTimer()
		want(b, e.post(h, httpapi.PathAuthorize, body, false, cookies), http.StatusSeeOther)
	}
}

// BenchmarkToken exchanges a code for an access token and an ID token, signed with
// each algorithm pargate offers a key for. The codes are issued beforehand, each by
// a flow of its own.
func BenchmarkToken(b *testing.B) {
	for _, alg := range []string{keys.RS256, keys.ES256} {
		b.Run(alg, func(b *testing.B) {
			e := newBenchEnv(b, alg)
			h := e.h.Token()
			bodies := make([]string, b.N)
			for i := range bodies {
				bodies[i] = url.Values{"grant_type": {"authorization_code"}, "code": {e.issueCode(b)},
					"redirect_uri": {benchRedirect}, "code_verifier": {benchVerifier}}.Encode()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				want(b, e.post(h, httpapi.PathToken, bodies[i], true, nil), http.StatusOK)
			}
		})
	}
}

// issueCode runs a flow up to the authorization response and returns the code.
func (e *benchEnv) issueCode(b *testing.B) string {
	cookies, form := e.signIn(b, benchFastUser)
	rec := e.post(e.h.Authorize(), httpapi.PathAuthorize, form.Encode(), false, cookies)
	want(b, rec, http.StatusSeeOther)
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		b.Fatalf("no code in %q", rec.Header().Get("Location"))
	}
	return loc.Query().Get("code")
}

// BenchmarkDiscovery serves the OpenID Provider metadata and the JWKS.
func BenchmarkDiscovery(b *testing.B) {
	e := newBenchEnv(b, keys.RS256)
	h := e.h.Discovery()
	for _, path := range []string{httpapi.PathOIDCMetadata, httpapi.PathJWKS} {
		b.Run(strings.Trim(path, "/"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				want(b, e.get(h, path, nil), http.StatusOK)
			}
		})
	}
}
