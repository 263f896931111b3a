package oauth_test

// The harness of the domain suite: one *oauth.Service over memory.New() and a static
// ES256 signer, a settable clock, registered clients and a user, and one wrapper per
// service call. The table tests in the other *_test.go files drive the service only
// through these wrappers, so that a renamed parameter or changed signature of the
// service is a one-line change here. What is on the wire (status, headers, pages,
// redirects) stays with pkg/httpapi's tests.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/argon2"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const (
	issuer   = "https://as.example.com"
	tokenURL = issuer + "/token"
	parURL   = issuer + "/par"
	infoURL  = issuer + "/userinfo"

	// RFC 7636 Appendix B.
	verifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

	// Registered clients (see newDomain).
	confID     = "conf-client" // client_secret_basic, refresh tokens
	postID     = "post-client" // client_secret_post, no refresh tokens
	publicID   = "public-client"
	jwtID      = "jwt-client" // private_key_jwt with clientKey
	twoURIID   = "two-uri-client"
	rsID       = "resource-server" // token_introspection_allowed
	secret     = "conf-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	redirect   = "https://client.example.org/cb"
	publicCB   = "http://127.0.0.1:9999/cb"
	username   = "alice"
	password   = "correct horse battery staple"
	subject    = "alice-sub-248289761001"
	allScopes  = "openid profile email offline_access api"
	paymentRAR = `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"123.50"},"creditorName":"Merchant A"}]`
)

// t0 is the start of every test's clock.
var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// serverKeys is the server's signing key set, generated once per test binary.
var serverKeys = sync.OnceValues(func() (*keys.Set, error) {
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		return nil, err
	}
	return keys.NewSet(k)
})

// clientKey is the private key of jwtID's registered jwks, for client assertions and
// request objects.
var clientKey = sync.OnceValue(func() *ecdsa.PrivateKey { return mustECKey() })

func mustECKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// cheapHash is an argon2id PHC string for password with the smallest parameters
// VerifyPassword accepts: VerifyPassword reads the parameters from the hash, so the
// suite checks the same code path without paying 19 MiB and two passes per login.
func cheapHash(password string) string {
	salt := []byte("0123456789abcdef")
	sum := argon2.IDKey([]byte(password), salt, 1, 8, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(sum))
}

// setup is what newDomain builds a service from; options change it.
type setup struct {
	cfg  oauth.Config
	opts []oauth.Option
	// wrap, if set, is the store the service uses around the domain's memory store.
	wrap func(oauth.Store) oauth.Store
	// signer, if set, replaces the static signer.
	signer oauth.Signer
}

func withConfig(f func(*oauth.Config)) func(*setup) { return func(s *setup) { f(&s.cfg) } }
func withFAPI2() func(*setup)                       { return withConfig(func(c *oauth.Config) { c.FAPI2 = true }) }
func withOption(o oauth.Option) func(*setup)        { return func(s *setup) { s.opts = append(s.opts, o) } }
func withStore(wrap func(oauth.Store) oauth.Store) func(*setup) {
	return func(s *setup) { s.wrap = wrap }
}
func withSigner(sg oauth.Signer) func(*setup) { return func(s *setup) { s.signer = sg } }

// newDomainFor is a domain with cfg applied to its configuration and the client id
// changed by client, either nil for none: the setup of the table rows that vary them.
func newDomainFor(tb testing.TB, cfg func(*oauth.Config), id string, client func(*oauth.Client)) *domain {
	tb.Helper()
	var opts []func(*setup)
	if cfg != nil {
		opts = append(opts, withConfig(cfg))
	}
	d := newDomain(tb, opts...)
	if client != nil {
		d.changeClient(id, client)
	}
	return d
}

// domain is one service over its own store and clock.
type domain struct {
	tb    testing.TB
	ctx   context.Context
	svc   *oauth.Service
	store *memory.Store
	clock *oauthtest.Clock // shared by the service and the store
}

func jwksOf(tb testing.TB, k *ecdsa.PrivateKey, kid string) json.RawMessage {
	tb.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func newDomain(tb testing.TB, opts ...func(*setup)) *domain {
	tb.Helper()
	clk := oauthtest.NewClock(t0)
	st := setup{cfg: oauth.Config{
		Issuer:                issuer,
		PushedRequestLifetime: 60 * time.Second,
		TransactionLifetime:   10 * time.Minute,
		CodeLifetime:          60 * time.Second,
		AccessTokenLifetime:   5 * time.Minute,
		IDTokenLifetime:       5 * time.Minute,
		RefreshTokenLifetime:  24 * time.Hour,
		GrantLifetime:         30 * 24 * time.Hour,
		TokenEndpoint:         tokenURL,
		PAREndpoint:           parURL,
		AuthorizationDetailsTypes: map[string]oauth.DetailsType{
			"payment_initiation":  {Fields: map[string]string{"instructedAmount": "object", "creditorName": "string"}, Required: []string{"instructedAmount"}},
			"account_information": {Fields: map[string]string{"accounts": "array"}},
		},
		Now: clk.Now,
	}}
	for _, o := range opts {
		o(&st)
	}
	store := memory.New(memory.WithClock(clk.Now))
	var svcStore oauth.Store = store
	if st.wrap != nil {
		svcStore = st.wrap(store)
	}
	signer := st.signer
	if signer == nil {
		signer = staticSigner(tb)
	}
	d := &domain{tb: tb, ctx: context.Background(), store: store, clock: clk,
		svc: oauth.NewService(st.cfg, svcStore, signer, st.opts...)}
	both := []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
	for _, c := range []*oauth.Client{
		{ID: confID, SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
			TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, GrantTypes: both, Scope: allScopes,
			PushedRedirectURIPrefixes: []string{"https://client.example.org/cb/"}},
		{ID: postID, SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
			TokenEndpointAuthMethod: oauth.AuthClientSecretPost, Scope: "openid profile"},
		{ID: publicID, RedirectURIs: []string{publicCB}, TokenEndpointAuthMethod: oauth.AuthNone,
			GrantTypes: both, Scope: "openid offline_access", PushedRedirectURIPrefixes: []string{"http://127.0.0.1:9999/"}},
		{ID: jwtID, RedirectURIs: []string{redirect}, TokenEndpointAuthMethod: oauth.AuthPrivateKeyJWT,
			GrantTypes: both, Scope: allScopes, JWKS: jwksOf(tb, clientKey(), "ck1")},
		{ID: twoURIID, SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{"https://a.example.org/cb", "https://b.example.org/cb"},
			TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, Scope: "openid"},
		{ID: rsID, SecretHash: oauth.SecretHash(secret), RedirectURIs: []string{redirect},
			TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, TokenIntrospectionAllowed: true},
	} {
		d.putClient(c)
	}
	d.putUser(&oauth.User{Username: username, PasswordHash: cheapHash(password), Claims: map[string]any{
		"sub": subject, "name": "Alice Example", "email": "alice@example.org", "email_verified": true, "phone_number": "+49 30 1234",
	}})
	return d
}

// staticSigner signs with serverKeys.
func staticSigner(tb testing.TB) oauth.Signer {
	tb.Helper()
	set, err := serverKeys()
	if err != nil {
		tb.Fatal(err)
	}
	return keys.NewSigner(keys.Static(set))
}

func (d *domain) putClient(c *oauth.Client) {
	d.tb.Helper()
	if err := d.store.PutClient(d.ctx, c); err != nil {
		d.tb.Fatal(err)
	}
}

func (d *domain) putUser(u *oauth.User) {
	d.tb.Helper()
	if err := d.store.PutUser(d.ctx, u); err != nil {
		d.tb.Fatal(err)
	}
}

// client returns the registered client id, as authentication would.
func (d *domain) client(id string) *oauth.Client {
	d.tb.Helper()
	c, err := d.store.GetClient(d.ctx, id)
	if err != nil {
		d.tb.Fatalf("client %s: %v", id, err)
	}
	return c
}

// changeClient registers a changed copy of client id.
func (d *domain) changeClient(id string, change func(*oauth.Client)) *oauth.Client {
	d.tb.Helper()
	c := d.client(id)
	change(c)
	d.putClient(c)
	return d.client(id)
}

func (d *domain) advance(dur time.Duration) { d.clock.Advance(dur) }
func (d *domain) now() time.Time            { return d.clock.Now() }

// The wrappers of the service's calls.

func (d *domain) push(c *oauth.Client, params url.Values, dpop oauth.DPoP) (*oauth.PushResult, error) {
	return d.svc.Push(d.ctx, c, params, dpop)
}

// resume redeems requestURI as the edge does: the key is the edge's to compute
// (oauth.RequestKey, empty for a reference that is not this server's), and resumed says
// whether the browser already holds the transaction.
func (d *domain) resume(clientID, requestURI string, resumed bool) (*oauth.Transaction, error) {
	key, _ := oauth.RequestKey(requestURI)
	redemption := oauth.FirstRedemption
	if resumed {
		redemption = oauth.Redeemed
	}
	return d.svc.Resume(d.ctx, clientID, key, redemption)
}

func (d *domain) startDirect(params url.Values) (string, *oauth.AuthorizationRequest, error) {
	return d.svc.StartDirect(d.ctx, params)
}

func (d *domain) login(user, pass string) (*oauth.User, error) {
	return d.svc.Login(d.ctx, user, pass)
}

// approve is approveResponse as the URL of a query response (the default mode).
func (d *domain) approve(tx *oauth.Transaction, user string) (string, error) {
	resp, err := d.approveResponse(tx, user)
	if err != nil {
		return "", err
	}
	return resp.URL(), nil
}

func (d *domain) approveResponse(tx *oauth.Transaction, user string) (*oauth.AuthorizationResponse, error) {
	return d.svc.Approve(d.ctx, tx, user, oauth.Authentication{Time: d.now(), AMR: []string{oauth.AMRPassword}})
}

func (d *domain) deny(tx *oauth.Transaction) (*oauth.AuthorizationResponse, error) {
	return d.svc.Deny(d.ctx, tx)
}

func (d *domain) exchange(c *oauth.Client, params url.Values, dpop oauth.DPoP) (*oauth.TokenResponse, error) {
	return d.svc.Exchange(d.ctx, c, params, dpop)
}

func (d *domain) revoke(c *oauth.Client, params url.Values) error {
	return d.svc.Revoke(d.ctx, c, params)
}

func (d *domain) introspect(c *oauth.Client, params url.Values) (map[string]any, error) {
	return d.svc.Introspect(d.ctx, c, params)
}

func (d *domain) userinfo(scheme, token string, dpop oauth.DPoP) (map[string]any, error) {
	return d.svc.Userinfo(d.ctx, scheme, token, dpop)
}

func (d *domain) authenticate(cred oauth.ClientCredentials) (*oauth.Client, error) {
	return d.svc.AuthenticateClient(d.ctx, cred)
}

// errorURL is errorResponse as the URL of a query response; the response must build.
func (d *domain) errorURL(req *oauth.AuthorizationRequest, e *oauth.Error) string {
	d.tb.Helper()
	resp, err := d.errorResponse(req, e)
	if err != nil {
		d.tb.Fatalf("error response: %v", err)
	}
	return resp.URL()
}

func (d *domain) errorResponse(req *oauth.AuthorizationRequest, e *oauth.Error) (*oauth.AuthorizationResponse, error) {
	return d.svc.ErrorResponse(d.ctx, req, e)
}

func (d *domain) dpopNonce() (string, error) { return d.svc.DPoPNonce(d.ctx) }

func (d *domain) clientAlgorithms() []jose.SignatureAlgorithm { return d.svc.ClientSigningAlgorithms() }

func (d *domain) config() oauth.Config { return d.svc.Config() }

// Flow helpers built on the wrappers.

// absent as a value in form() removes the parameter.
const absent = "\x00absent"

// form returns base with the name/value pairs kv applied (absent deletes).
func form(base url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == absent {
			out.Del(kv[i])
		} else {
			out.Set(kv[i], kv[i+1])
		}
	}
	return out
}

// authParams is a valid authorization request of client id (registered redirect URI,
// PKCE S256, openid), with kv applied.
func authParams(id string, kv ...string) url.Values {
	cb, scope := redirect, "openid profile email"
	switch id {
	case publicID:
		cb, scope = publicCB, "openid offline_access"
	case twoURIID:
		cb, scope = "https://a.example.org/cb", "openid"
	case postID:
		scope = "openid profile"
	}
	return form(url.Values{
		"response_type": {"code"}, "client_id": {id}, "redirect_uri": {cb}, "scope": {scope},
		"state": {"st-" + id}, "nonce": {"n-0S6_WzA2Mj"},
		"code_challenge": {challenge}, "code_challenge_method": {oauth.PKCEMethodS256},
	}, kv...)
}

// mustPush pushes params for c and returns the request_uri.
func (d *domain) mustPush(c *oauth.Client, params url.Values) string {
	d.tb.Helper()
	res, err := d.push(c, params, oauth.DPoP{})
	if err != nil {
		d.tb.Fatalf("push: %v", err)
	}
	return res.RequestURI
}

func (d *domain) mustResume(clientID, uri string) *oauth.Transaction {
	d.tb.Helper()
	tx, err := d.resume(clientID, uri, false)
	if err != nil {
		d.tb.Fatalf("resume: %v", err)
	}
	return tx
}

// mustApprove approves tx for username and returns the authorization response.
func (d *domain) mustApprove(tx *oauth.Transaction) url.Values {
	d.tb.Helper()
	raw, err := d.approve(tx, username)
	if err != nil {
		d.tb.Fatalf("approve: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		d.tb.Fatal(err)
	}
	return u.Query()
}

// code runs push, resume and approve for c with params and returns the code.
func (d *domain) code(c *oauth.Client, params url.Values) string {
	d.tb.Helper()
	q := d.mustApprove(d.mustResume(c.ID, d.mustPush(c, params)))
	if q.Get("code") == "" {
		d.tb.Fatalf("authorization response without code: %v", q)
	}
	return q.Get("code")
}

// tokenParams is the authorization_code token request for code.
func tokenParams(code string, kv ...string) url.Values {
	return form(url.Values{"grant_type": {oauth.GrantAuthorizationCode}, "code": {code},
		"redirect_uri": {redirect}, "code_verifier": {verifier}}, kv...)
}

func refreshParams(rt string, kv ...string) url.Values {
	return form(url.Values{"grant_type": {oauth.GrantRefreshToken}, "refresh_token": {rt}}, kv...)
}

// tokens runs the whole flow for c (authorization request kv applied) and returns
// the token response.
func (d *domain) tokens(c *oauth.Client, kv ...string) *oauth.TokenResponse {
	d.tb.Helper()
	params := authParams(c.ID, kv...)
	code := d.code(c, params)
	resp, err := d.exchange(c, tokenParams(code, "redirect_uri", params.Get("redirect_uri")), oauth.DPoP{})
	if err != nil {
		d.tb.Fatalf("exchange: %v", err)
	}
	return resp
}

// wantErr asserts err is an *oauth.Error with code and returns it.
func wantErr(tb testing.TB, err error, code string) *oauth.Error {
	tb.Helper()
	var e *oauth.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want an *oauth.Error %s", err, err, code)
	}
	if e.Code != code {
		tb.Fatalf("error code = %s (%v), want %s", e.Code, e, code)
	}
	return e
}

// wantOutcome checks a call against a row's code. With a code, the call must have
// failed with that error and produced nothing (produced, got is what it produced), and
// wantOutcome is true: the row is done. Without one, the call must have succeeded.
func wantOutcome(tb testing.TB, code string, err error, produced bool, got any) (failed bool) {
	tb.Helper()
	if code == "" {
		if err != nil {
			tb.Fatal(err)
		}
		return false
	}
	if produced {
		tb.Fatalf("the call that must fail with %s produced %+v", code, got)
	}
	wantErr(tb, err, code)
	return true
}

// claimsOf verifies token with the server's keys and returns its claims.
func claimsOf(tb testing.TB, token string) map[string]any {
	tb.Helper()
	set, err := serverKeys()
	if err != nil {
		tb.Fatal(err)
	}
	payload, err := set.Verify(token)
	if err != nil {
		tb.Fatalf("verify %q: %v", token, err)
	}
	return jsonObject(tb, payload)
}

// headerOf returns the protected header of a compact JWS, unverified.
func headerOf(tb testing.TB, token string) map[string]any {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		tb.Fatal(err)
	}
	return jsonObject(tb, b)
}

// jsonObject decodes data into a map; a decoding error fails the test.
func jsonObject(tb testing.TB, data []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// sign returns claims as a compact JWS signed by key with alg, the given typ ("" for
// none), kid and, with embed, the public key as jwk header.
func sign(tb testing.TB, key crypto.Signer, alg jose.SignatureAlgorithm, typ, kid string, embed bool, claims any) string {
	tb.Helper()
	opts := &jose.SignerOptions{EmbedJWK: embed}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	var sk any = key
	if kid != "" {
		sk = jose.JSONWebKey{Key: key, KeyID: kid}
	}
	return oauthtest.SignJWT(tb, alg, sk, opts, claims)
}

// thumbprint is the RFC 7638 SHA-256 JWK thumbprint of key's public part.
func thumbprint(tb testing.TB, key *ecdsa.PrivateKey) string {
	tb.Helper()
	tp, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

var jtiCounter struct {
	sync.Mutex
	n int
}

func nextJTI() string {
	jtiCounter.Lock()
	defer jtiCounter.Unlock()
	jtiCounter.n++
	return fmt.Sprintf("jti-%d", jtiCounter.n)
}

// merge returns base with over applied; a nil value in over deletes the claim.
func merge(base, over map[string]any) map[string]any {
	for k, v := range over {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	return base
}

// proof is a DPoP proof (RFC 9449 §4.2) by key for method and target, issued now,
// with the claims in over changed.
func (d *domain) proof(key *ecdsa.PrivateKey, method, target string, over map[string]any) string {
	d.tb.Helper()
	return sign(d.tb, key, jose.ES256, "dpop+jwt", "", true, merge(map[string]any{
		"jti": nextJTI(), "htm": method, "htu": target, "iat": d.now().Unix(),
	}, over))
}

// dpop is the DPoP of a request with one proof by key to the token endpoint.
func (d *domain) dpop(key *ecdsa.PrivateKey) oauth.DPoP {
	d.tb.Helper()
	return oauth.DPoP{Proofs: []string{d.proof(key, "POST", tokenURL, nil)}, Method: "POST", URL: tokenURL}
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3) for jwtID signed
// with clientKey, with the claims in over changed.
func (d *domain) assertion(over map[string]any) string {
	d.tb.Helper()
	now := d.now()
	return sign(d.tb, clientKey(), jose.ES256, "", "ck1", false, merge(map[string]any{
		"iss": jwtID, "sub": jwtID, "aud": issuer, "jti": nextJTI(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}, over))
}

// requestObject is a request object (RFC 9101) of jwtID signed with clientKey,
// carrying a valid authorization request, with the claims in over changed.
func (d *domain) requestObject(over map[string]any) string {
	d.tb.Helper()
	now := d.now()
	claims := map[string]any{
		"iss": jwtID, "aud": issuer, "jti": nextJTI(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	for k, v := range authParams(jwtID) {
		claims[k] = v[0]
	}
	return sign(d.tb, clientKey(), jose.ES256, "oauth-authz-req+jwt", "ck1", false, merge(claims, over))
}

// ath is the RFC 9449 §4.2 access token hash.
func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestDomainHarness checks the harness itself: the clock drives the service and the
// signer's tokens verify with serverKeys.
func TestDomainHarness(t *testing.T) {
	d := newDomain(t)
	if got := d.svc.Now(); !got.Equal(t0) {
		t.Fatalf("service clock = %v, want %v", got, t0)
	}
	d.advance(time.Minute)
	if got := d.svc.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("service clock after advance = %v", got)
	}
	if ok, err := oauth.VerifyPassword(cheapHash(password), password); !ok || err != nil {
		t.Fatalf("cheapHash does not verify: %v %v", ok, err)
	}
	resp := d.tokens(d.client(confID))
	if c := claimsOf(t, resp.AccessToken); c["iss"] != issuer {
		t.Fatalf("access token iss = %v", c["iss"])
	}
}
