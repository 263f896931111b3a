package federation_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/pargate/pargate/pkg/federation"
	"github.com/pargate/pargate/pkg/oauth"
)

// fakeOP is an OpenID Provider written for these tests: discovery, JWKS, PAR, the
// authorization step (authorize, called by the test in place of a browser), token
// and userinfo, each of which can be told to misbehave.
type fakeOP struct {
	t   testing.TB
	srv *httptest.Server
	now time.Time

	// configuration, set before use
	clientID, clientSecret string
	clientKey              *jose.JSONWebKey // public key for private_key_jwt
	par, issParam          bool
	docIssuer              string // the issuer the document names (default: the real one)
	algs                   []string
	userinfoSub            string               // default: the ID token's sub
	mutate                 func(map[string]any) // edits the ID token's claims
	sign                   func(map[string]any) string
	status                 map[string]int // path → status to answer instead
	block                  map[string]bool
	unblock                chan struct{}
	requirePAR             bool
	bigDocument            bool   // discovery answers more than federation.MaxResponse
	noIDToken              bool   // the token endpoint answers without id_token
	keyID                  string // the key the JWKS holds and ID tokens are signed with: opKey as "k1", or otherKey as any other kid

	mu         sync.Mutex
	pushed     map[string]url.Values
	codes      map[string]*grant
	hits       map[string]int
	lastPAR    url.Values
	lastAuthz  url.Values
	authSeen   map[string]string // path → client authentication method seen
	assertions map[string]string // path → the client_assertion seen
}

type grant struct {
	params url.Values
	used   bool
}

var (
	opKeyOnce sync.Once
	opKey     *rsa.PrivateKey
	otherKey  *rsa.PrivateKey
)

func rsaKeys(tb testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	tb.Helper()
	opKeyOnce.Do(func() {
		var err error
		if opKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return opKey, otherKey
}

func newOP(tb testing.TB) *fakeOP {
	tb.Helper()
	rsaKeys(tb)
	op := &fakeOP{
		t: tb, now: time.Now().Truncate(time.Second), clientID: "broker", clientSecret: "s3cret-value",
		par: true, issParam: true, algs: []string{"RS256"}, keyID: "k1",
		status: map[string]int{}, block: map[string]bool{}, unblock: make(chan struct{}),
		pushed: map[string]url.Values{}, codes: map[string]*grant{}, hits: map[string]int{},
		authSeen: map[string]string{}, assertions: map[string]string{},
	}
	op.srv = httptest.NewServer(http.HandlerFunc(op.serve))
	tb.Cleanup(op.srv.Close)
	tb.Cleanup(func() { close(op.unblock) }) // runs first: blocked handlers return
	return op
}

func (op *fakeOP) issuer() string { return op.srv.URL }

func (op *fakeOP) provider() *oauth.IdentityProvider {
	return &oauth.IdentityProvider{
		ID: "op", DisplayName: "The OP", Issuer: op.issuer(), ClientID: op.clientID,
		ClientSecret: op.clientSecret, Enabled: true,
	}
}

func (op *fakeOP) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *fakeOP) serve(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.hits[r.URL.Path]++
	status, blocked := op.status[r.URL.Path], op.block[r.URL.Path]
	op.mu.Unlock()
	if blocked {
		<-op.unblock
		return
	}
	if status != 0 {
		// A body an error must never quote.
		op.writeJSON(w, status, map[string]string{"error": "invalid_grant", "error_description": "upstream-body-detail"})
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		doc := map[string]any{
			"issuer":                                op.issuer(),
			"authorization_endpoint":                op.issuer() + "/authorize?tenant=t1",
			"token_endpoint":                        op.issuer() + "/token",
			"jwks_uri":                              op.issuer() + "/jwks",
			"userinfo_endpoint":                     op.issuer() + "/userinfo",
			"id_token_signing_alg_values_supported": op.algs,
		}
		if op.docIssuer != "" {
			doc["issuer"] = op.docIssuer
		}
		if op.par {
			doc["pushed_authorization_request_endpoint"] = op.issuer() + "/par"
		}
		if op.issParam {
			doc["authorization_response_iss_parameter_supported"] = true
		}
		if op.requirePAR {
			doc["require_pushed_authorization_requests"] = true
		}
		if op.bigDocument {
			doc["padding"] = strings.Repeat("x", federation.MaxResponse)
		}
		op.writeJSON(w, 200, doc)
	case "/jwks":
		op.mu.Lock()
		kid := op.keyID
		op.mu.Unlock()
		op.writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &op.signingKey(kid).PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"},
		}})
	case "/par":
		if !op.authenticate(w, r) {
			return
		}
		uri := "urn:ietf:params:oauth:request_uri:" + randomString()
		op.mu.Lock()
		op.pushed[uri] = r.PostForm
		op.lastPAR = r.PostForm
		op.mu.Unlock()
		op.writeJSON(w, http.StatusCreated, map[string]any{"request_uri": uri, "expires_in": 60})
	case "/token":
		op.token(w, r)
	case "/userinfo":
		op.mu.Lock()
		sub := op.userinfoSub
		op.mu.Unlock()
		if sub == "" {
			sub = "user-1"
		}
		if r.Header.Get("Authorization") != "Bearer at-"+sub && r.Header.Get("Authorization") != "Bearer at-user-1" {
			op.writeJSON(w, 401, map[string]string{"error": "invalid_token"})
			return
		}
		op.writeJSON(w, 200, map[string]any{"sub": sub, "email": "ignored@example.com", "name": "Ada Lovelace", "iss": "https://evil.example"})
	default:
		http.NotFound(w, r)
	}
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authenticate checks the client authentication of a PAR or token request as the
// upstream sees it, and records the method.
func (op *fakeOP) authenticate(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return false
	}
	method, ok := "", false
	if user, pass, basic := r.BasicAuth(); basic {
		id, err1 := url.QueryUnescape(user)
		secret, err2 := url.QueryUnescape(pass)
		method, ok = "client_secret_basic", err1 == nil && err2 == nil && id == op.clientID && secret == op.clientSecret
	} else if r.PostForm.Get("client_secret") != "" {
		method, ok = "client_secret_post", r.PostForm.Get("client_id") == op.clientID && r.PostForm.Get("client_secret") == op.clientSecret
	} else if a := r.PostForm.Get("client_assertion"); a != "" {
		method = "private_key_jwt"
		ok = r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && op.checkAssertion(a)
		op.mu.Lock()
		op.assertions[r.URL.Path] = a
		op.mu.Unlock()
	}
	op.mu.Lock()
	op.authSeen[r.URL.Path] = method
	op.mu.Unlock()
	if !ok {
		op.writeJSON(w, 401, map[string]string{"error": "invalid_client"})
	}
	return ok
}

func (op *fakeOP) checkAssertion(raw string) bool {
	if op.clientKey == nil {
		return false
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return false
	}
	var c jwt.Claims
	if err := tok.Claims(op.clientKey, &c); err != nil {
		return false
	}
	return c.Issuer == op.clientID && c.Subject == op.clientID && c.ID != "" &&
		c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{op.issuer()}, Time: op.now}, 0) == nil
}

// authorize plays the browser and the upstream's login: it reads the request the
// authorization URL names (pushed or plain), issues a code and returns the
// callback's query.
func (op *fakeOP) authorize(authURL string) url.Values {
	op.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		op.t.Fatal(err)
	}
	q := u.Query()
	op.mu.Lock()
	defer op.mu.Unlock()
	params := q
	if uri := q.Get("request_uri"); uri != "" {
		if params = op.pushed[uri]; params == nil || q.Get("client_id") != params.Get("client_id") {
			op.t.Fatalf("authorization URL names an unknown request_uri")
		}
	}
	op.lastAuthz = q
	code := randomString()
	op.codes[code] = &grant{params: params}
	callback := url.Values{"code": {code}, "state": {params.Get("state")}}
	if op.issParam {
		callback.Set("iss", op.issuer())
	}
	return callback
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if !op.authenticate(w, r) {
		return
	}
	f := r.PostForm
	op.mu.Lock()
	g := op.codes[f.Get("code")]
	replay := g != nil && g.used
	if g != nil {
		g.used = true
	}
	op.mu.Unlock()
	if g == nil || replay || f.Get("grant_type") != "authorization_code" || f.Get("redirect_uri") != g.params.Get("redirect_uri") {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "upstream-body-detail"})
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.params.Get("code_challenge") || g.params.Get("code_challenge_method") != "S256" {
		op.writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	claims := map[string]any{
		"iss": op.issuer(), "sub": "user-1", "aud": op.clientID,
		"exp": op.now.Add(5 * time.Minute).Unix(), "iat": op.now.Unix(),
		"nonce": g.params.Get("nonce"), "acr": "urn:mace:incommon:iap:silver", "amr": []string{"pwd", "mfa"},
		"email": "ada@example.com", "email_verified": true,
	}
	if op.mutate != nil {
		op.mutate(claims)
	}
	var idToken string
	if op.sign != nil {
		idToken = op.sign(claims)
	} else {
		op.mu.Lock()
		kid := op.keyID
		op.mu.Unlock()
		idToken = signRS256(op.signingKey(kid), kid, claims)
	}
	resp := map[string]any{"access_token": "at-user-1", "token_type": "Bearer", "expires_in": 300, "id_token": idToken}
	if op.noIDToken {
		delete(resp, "id_token")
	}
	op.writeJSON(w, 200, resp)
}

// sign signs claims; it runs in the fake's handlers, where a failure (a test's
// mistake) panics and the client sees the connection drop.
func sign(alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		panic(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return raw
}

func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) string {
	return sign(jose.RS256, jose.JSONWebKey{Key: key, KeyID: kid}, claims)
}

// unsigned builds a JWT with alg none (RFC 7519 §6).
func unsigned(claims map[string]any) string {
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload) + "."
}

func signHS256(secret string, claims map[string]any) string {
	return sign(jose.HS256, []byte(secret), claims)
}

func newClientKey(tb testing.TB) (private string, public *jose.JSONWebKey) {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: "broker-key-1", Algorithm: "ES256", Use: "sig"}
	b, err := json.Marshal(jwk)
	if err != nil {
		tb.Fatal(err)
	}
	pub := jwk.Public()
	return string(b), &pub
}

// issueCode issues another code for the authorization request the code like
// names, as if the user had signed in again.
func (op *fakeOP) issueCode(like string) string {
	op.mu.Lock()
	defer op.mu.Unlock()
	code := randomString()
	op.codes[code] = &grant{params: op.codes[like].params}
	return code
}

func (op *fakeOP) signingKey(kid string) *rsa.PrivateKey {
	if kid == "k1" {
		return opKey
	}
	return otherKey
}
