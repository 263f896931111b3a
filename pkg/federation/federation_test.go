package federation_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/federation"
	"github.com/pargate/pargate/pkg/oauth"
)

const callback = "https://broker.example/federation/callback"

func newClient(op *fakeOP) *federation.Client {
	return federation.New(federation.Options{Now: func() time.Time { return op.now }})
}

// login runs Begin, the upstream's authorization step and Finish.
func login(t *testing.T, c *federation.Client, op *fakeOP, p *oauth.IdentityProvider) (*oauth.UpstreamIdentity, error) {
	t.Helper()
	start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return c.Finish(context.Background(), p, start, callback, op.authorize(start.AuthorizationURL))
}

// wantErr checks err is target and that its message quotes nothing an upstream or
// a user must not see.
func wantErr(t *testing.T, err, target error, secrets ...string) {
	t.Helper()
	t.Logf("error: %v", err)
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
	for _, s := range append(secrets, "upstream-body-detail", "s3cret-value", "at-user-1") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q quotes %q", err, s)
		}
	}
}

func TestBegin_RFC9126_2_PushesWhenAdvertised(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	start, err := c.Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(start.AuthorizationURL)
	q := u.Query()
	// RFC 9126 §4: the authorization request carries client_id and request_uri
	// (and here the endpoint's own query parameter, OIDC Core §3.1.2.1).
	if len(q) != 3 || q.Get("client_id") != "broker" || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") || q.Get("tenant") != "t1" {
		t.Fatalf("authorization URL query = %v", q)
	}
	if !strings.HasPrefix(start.AuthorizationURL, op.issuer()+"/authorize?") {
		t.Errorf("authorization URL = %s", start.AuthorizationURL)
	}
	pushed := op.lastPAR
	sum := sha256.Sum256([]byte(start.CodeVerifier))
	for k, want := range map[string]string{
		"response_type": "code", "client_id": "broker", "redirect_uri": callback, "scope": "openid email profile",
		"state": start.State, "nonce": start.Nonce, "code_challenge_method": "S256",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]),
	} {
		if got := pushed.Get(k); got != want {
			t.Errorf("pushed %s = %q, want %q", k, got, want)
		}
	}
	if start.ProviderID != "op" {
		t.Errorf("ProviderID = %q", start.ProviderID)
	}
}

func TestBegin_RFC6749_4_1_1_PlainAuthorizationURLWithoutPAR(t *testing.T) {
	op := newOP(t)
	op.par = false
	c := newClient(op)
	p := op.provider()
	p.Scope = "email groups"
	start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(start.AuthorizationURL)
	q := u.Query()
	if q.Get("request_uri") != "" || q.Get("state") != start.State || q.Get("nonce") != start.Nonce ||
		q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("tenant") != "t1" {
		t.Fatalf("authorization URL query = %v", q)
	}
	// OIDC Core §3.1.2.1: openid is always requested.
	if q.Get("scope") != "openid email groups" {
		t.Errorf("scope = %q", q.Get("scope"))
	}
	if op.hits["/par"] != 0 {
		t.Error("PAR endpoint called though not advertised")
	}
	id, err := c.Finish(context.Background(), p, start, callback, op.authorize(start.AuthorizationURL))
	if err != nil || id.Subject != "user-1" {
		t.Fatalf("Finish = %v, %v", id, err)
	}
}

func TestBegin_RFC7636_4_1_FreshStateNonceAndVerifier(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	seen := map[string]bool{}
	for range 3 {
		s, err := c.Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{s.State, s.Nonce, s.CodeVerifier} {
			// ≥ 128 bits base64url; RFC 7636 §4.1: a verifier of 43-128 characters.
			if b, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(b) < 16 || len(v) < 43 || seen[v] {
				t.Errorf("value %q is not fresh base64url of ≥ 256 bits", v)
			}
			seen[v] = true
		}
	}
	if op.hits["/.well-known/openid-configuration"] != 1 {
		t.Errorf("discovery fetched %d times, want once (cached)", op.hits["/.well-known/openid-configuration"])
	}
}

func TestBegin_RFC9126_2_3_PARErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   error
	}{
		{400, oauth.ErrUpstreamInvalid},
		{401, oauth.ErrUpstreamInvalid},
		{500, oauth.ErrUpstreamUnavailable},
		{503, oauth.ErrUpstreamUnavailable},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			op := newOP(t)
			op.status["/par"] = tc.status
			_, err := newClient(op).Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
			wantErr(t, err, tc.want)
		})
	}
	t.Run("wrong client secret", func(t *testing.T) {
		op := newOP(t)
		p := op.provider()
		p.ClientSecret = "not-it"
		_, err := newClient(op).Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
		wantErr(t, err, oauth.ErrUpstreamInvalid, "not-it")
	})
}

func TestClientAuth_RFC6749_2_3_1_SecretBasicIsFormEncoded(t *testing.T) {
	op := newOP(t)
	op.clientID, op.clientSecret = "broker:1 é", "s3cret-value+/%:&="
	p := op.provider()
	if _, err := login(t, newClient(op), op, p); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/par", "/token"} {
		if op.authSeen[path] != "client_secret_basic" {
			t.Errorf("%s saw %q", path, op.authSeen[path])
		}
	}
}

func TestClientAuth_RFC6749_2_3_1_SecretPost(t *testing.T) {
	op := newOP(t)
	p := op.provider()
	p.TokenEndpointAuthMethod = oauth.AuthClientSecretPost
	if _, err := login(t, newClient(op), op, p); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/par", "/token"} {
		if op.authSeen[path] != "client_secret_post" {
			t.Errorf("%s saw %q", path, op.authSeen[path])
		}
	}
}

func TestClientAuth_RFC7523_PrivateKeyJWT(t *testing.T) {
	op := newOP(t)
	private, public := newClientKey(t)
	op.clientKey = public
	p := op.provider()
	p.ClientSecret, p.TokenEndpointAuthMethod, p.PrivateKey = "", oauth.AuthPrivateKeyJWT, private
	if _, err := login(t, newClient(op), op, p); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/par", "/token"} {
		if op.authSeen[path] != "private_key_jwt" {
			t.Fatalf("%s saw %q", path, op.authSeen[path])
		}
		tok, err := jose.ParseSignedCompact(op.assertions[path], []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if h := tok.Signatures[0].Header; h.KeyID != "broker-key-1" || h.Algorithm != "ES256" {
			t.Errorf("%s assertion header kid=%q alg=%q", path, h.KeyID, h.Algorithm)
		}
		var claims struct {
			Aud any   `json:"aud"`
			Iat int64 `json:"iat"`
			Exp int64 `json:"exp"`
		}
		payload, _ := tok.Verify(public)
		_ = json.Unmarshal(payload, &claims)
		// aud: the issuer identifier as one string (FAPI 2.0 §5.3.2.1).
		if claims.Aud != op.issuer() || claims.Exp-claims.Iat > 60 || claims.Exp <= claims.Iat {
			t.Errorf("%s assertion aud=%v iat=%d exp=%d", path, claims.Aud, claims.Iat, claims.Exp)
		}
	}
	if op.assertions["/par"] == op.assertions["/token"] {
		t.Error("one assertion used twice (jti must be fresh)")
	}
	t.Run("a public key is refused", func(t *testing.T) {
		pub, _ := json.Marshal(public)
		p.PrivateKey = string(pub)
		_, err := newClient(op).Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
		wantErr(t, err, oauth.ErrUpstreamInvalid)
	})
}

func TestFinish_OIDCCore_3_1_3_7_ValidLogin(t *testing.T) {
	op := newOP(t)
	id, err := login(t, newClient(op), op, op.provider())
	if err != nil {
		t.Fatal(err)
	}
	if id.ProviderID != "op" || id.Issuer != op.issuer() || id.Subject != "user-1" ||
		id.ACR != "urn:mace:incommon:iap:silver" || strings.Join(id.AMR, " ") != "pwd mfa" {
		t.Fatalf("identity = %+v", id)
	}
	// The ID token's claims win; userinfo adds what it lacks, never protocol claims.
	if id.Claims["email"] != "ada@example.com" || id.Claims["name"] != "Ada Lovelace" || id.Claims["iss"] != op.issuer() || id.Claims["email_verified"] != true {
		t.Errorf("claims = %v", id.Claims)
	}
}

// finishWith runs a login whose callback query edit changes.
func finishWith(t *testing.T, op *fakeOP, edit func(q url.Values)) error {
	t.Helper()
	c := newClient(op)
	p := op.provider()
	start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	q := op.authorize(start.AuthorizationURL)
	if edit != nil {
		edit(q)
	}
	_, err = c.Finish(context.Background(), p, start, callback, q)
	return err
}

func TestFinish_RFC6749_10_12_WrongStateIsInvalid(t *testing.T) {
	for name, edit := range map[string]func(url.Values){
		"other":    func(q url.Values) { q.Set("state", "x"+q.Get("state")) },
		"missing":  func(q url.Values) { q.Del("state") },
		"repeated": func(q url.Values) { q.Add("state", q.Get("state")) },
	} {
		t.Run(name, func(t *testing.T) {
			op := newOP(t)
			wantErr(t, finishWith(t, op, edit), oauth.ErrUpstreamInvalid)
			if op.hits["/token"] != 0 {
				t.Error("the code was exchanged despite the state")
			}
		})
	}
}

func TestFinish_RFC9700_4_4_AnotherProvidersStateIsInvalid(t *testing.T) {
	op, other := newOP(t), newOP(t)
	c := newClient(op)
	// The browser transaction went to other; a callback arrives for op with
	// other's start (a mix-up: RFC 9700 §4.4).
	startOther, err := c.Begin(context.Background(), other.provider2(), callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	startOP, err := c.Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	q := op.authorize(startOP.AuthorizationURL)
	q.Set("state", startOther.State)
	_, err = c.Finish(context.Background(), op.provider(), startOther, callback, q)
	wantErr(t, err, oauth.ErrUpstreamInvalid)
	if op.hits["/token"] != 0 {
		t.Error("the code was exchanged at the wrong provider")
	}
}

func (op *fakeOP) provider2() *oauth.IdentityProvider {
	p := op.provider()
	p.ID = "other"
	return p
}

func TestFinish_RFC9207_MissingIssWhenAdvertisedIsInvalid(t *testing.T) {
	op := newOP(t)
	wantErr(t, finishWith(t, op, func(q url.Values) { q.Del("iss") }), oauth.ErrUpstreamInvalid)
}

func TestFinish_RFC9207_WrongIssIsInvalid(t *testing.T) {
	for name, op := range map[string]*fakeOP{"advertised": newOP(t), "not advertised": newOP(t)} {
		t.Run(name, func(t *testing.T) {
			if name == "not advertised" {
				op.issParam = false
			}
			wantErr(t, finishWith(t, op, func(q url.Values) { q.Set("iss", "https://attacker.example") }), oauth.ErrUpstreamInvalid)
			wantErr(t, finishWith(t, op, func(q url.Values) { q.Set("iss", op.issuer()+"/") }), oauth.ErrUpstreamInvalid)
		})
	}
}

func TestFinish_RFC9207_IssOptionalWhenNotAdvertised(t *testing.T) {
	op := newOP(t)
	op.issParam = false
	if err := finishWith(t, op, nil); err != nil {
		t.Fatal(err)
	}
}

func TestFinish_OIDCCore_3_1_3_7_IDTokenRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c map[string]any)
		sign   func(op *fakeOP, c map[string]any) string
		algs   []string
	}{
		{name: "item 3 wrong aud", mutate: func(c map[string]any) { c["aud"] = "someone-else" }},
		{name: "item 3 aud missing", mutate: func(c map[string]any) { delete(c, "aud") }},
		{name: "item 2 wrong iss", mutate: func(c map[string]any) { c["iss"] = "https://attacker.example" }},
		{name: "item 11 wrong nonce", mutate: func(c map[string]any) { c["nonce"] = "replayed-nonce" }},
		{name: "item 11 nonce missing", mutate: func(c map[string]any) { delete(c, "nonce") }},
		{name: "item 9 expired", mutate: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }},
		{name: "item 9 exp missing", mutate: func(c map[string]any) { delete(c, "exp") }},
		{name: "item 10 iat in the future", mutate: func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }},
		{name: "section 2 iat missing", mutate: func(c map[string]any) { delete(c, "iat") }},
		{name: "section 2 sub missing", mutate: func(c map[string]any) { delete(c, "sub") }},
		{name: "item 5 wrong azp", mutate: func(c map[string]any) { c["azp"] = "someone-else" }},
		{name: "item 4 several audiences without azp", mutate: func(c map[string]any) { c["aud"] = []string{"broker", "api"} }},
		{name: "section 3.1.3.8 wrong at_hash", mutate: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }},
		{name: "item 7 alg none", sign: func(_ *fakeOP, c map[string]any) string { return unsigned(c) }, algs: []string{"RS256", "none"}},
		{name: "item 8 HS256 keyed with the client secret", sign: func(op *fakeOP, c map[string]any) string { return signHS256(op.clientSecret, c) }, algs: []string{"RS256", "HS256"}},
		{name: "item 6 signed by a key not in the JWKS", sign: func(op *fakeOP, c map[string]any) string { return signRS256(otherKey, "k1", c) }},
		{name: "item 6 unknown kid", sign: func(op *fakeOP, c map[string]any) string { return signRS256(otherKey, "k9", c) }},
		{name: "item 7 alg not advertised", algs: []string{"ES256"}},
		{name: "item 6 not a JWT", sign: func(*fakeOP, map[string]any) string { return "garbage" }},
	} {
		t.Run("OIDC Core §3.1.3.7 "+tc.name, func(t *testing.T) {
			op := newOP(t)
			op.mutate = tc.mutate
			if tc.sign != nil {
				op.sign = func(c map[string]any) string { return tc.sign(op, c) }
			}
			if tc.algs != nil {
				op.algs = tc.algs
			}
			op.clientSecret = "s3cret-value-long-enough-for-an-HS256-key"
			wantErr(t, finishWith(t, op, nil), oauth.ErrUpstreamInvalid)
		})
	}
}

func TestFinish_OIDCCore_3_1_3_7_AzpEqualToClientIDIsAccepted(t *testing.T) {
	op := newOP(t)
	op.mutate = func(c map[string]any) { c["aud"] = []string{"broker", "api"}; c["azp"] = "broker" }
	if err := finishWith(t, op, nil); err != nil {
		t.Fatal(err)
	}
}

func TestFinish_RFC6749_4_1_2_ReplayedCallbackIsInvalid(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	p := op.provider()
	start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	if err != nil {
		t.Fatal(err)
	}
	q := op.authorize(start.AuthorizationURL)
	if _, err := c.Finish(context.Background(), p, start, callback, q); err != nil {
		t.Fatal(err)
	}
	// The upstream refuses the code the second time (RFC 6749 §4.1.2: "MUST NOT
	// use the authorization code more than once"): invalid_grant, a 400.
	_, err = c.Finish(context.Background(), p, start, callback, q)
	wantErr(t, err, oauth.ErrUpstreamInvalid, q.Get("code"))
}

func TestFinish_RFC6749_4_1_2_1_ErrorResponses(t *testing.T) {
	for _, tc := range []struct {
		code     string
		want     error
		wantCode string
	}{
		{"access_denied", nil, "access_denied"},
		{"login_required", nil, "login_required"},
		{"interaction_required", nil, "interaction_required"},
		{"consent_required", nil, "consent_required"},
		{"account_selection_required", nil, "account_selection_required"},
		{"some_extension_error", nil, "access_denied"},
		{"temporarily_unavailable", oauth.ErrUpstreamUnavailable, ""},
		{"server_error", oauth.ErrUpstreamUnavailable, ""},
		{"invalid_scope", oauth.ErrUpstreamInvalid, ""},
		{"invalid_request", oauth.ErrUpstreamInvalid, ""},
		{"unauthorized_client", oauth.ErrUpstreamInvalid, ""},
		{"invalid_request_uri", oauth.ErrUpstreamInvalid, ""},
	} {
		t.Run("RFC 6749 §4.1.2.1 "+tc.code, func(t *testing.T) {
			op := newOP(t)
			err := finishWith(t, op, func(q url.Values) {
				q.Del("code")
				q.Set("error", tc.code)
				q.Set("error_description", "upstream-body-detail")
			})
			if tc.want != nil {
				wantErr(t, err, tc.want)
			} else {
				var ue *oauth.UpstreamError
				if !errors.As(err, &ue) || ue.Code != tc.wantCode {
					t.Fatalf("error = %v, want UpstreamError %s", err, tc.wantCode)
				}
			}
			if op.hits["/token"] != 0 {
				t.Error("token endpoint called for an error response")
			}
		})
	}
	t.Run("RFC 9207 an error response with a wrong iss is invalid", func(t *testing.T) {
		op := newOP(t)
		err := finishWith(t, op, func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("iss", "https://attacker.example")
		})
		wantErr(t, err, oauth.ErrUpstreamInvalid)
	})
	t.Run("RFC 6749 §10.12 an error response with a wrong state is invalid", func(t *testing.T) {
		op := newOP(t)
		err := finishWith(t, op, func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("state", "forged")
		})
		wantErr(t, err, oauth.ErrUpstreamInvalid)
	})
}

func TestFinish_RFC6749_4_1_2_MissingCodeIsInvalid(t *testing.T) {
	op := newOP(t)
	wantErr(t, finishWith(t, op, func(q url.Values) { q.Del("code") }), oauth.ErrUpstreamInvalid)
	wantErr(t, finishWith(t, op, func(q url.Values) { q.Add("code", "second") }), oauth.ErrUpstreamInvalid)
}

func TestFinish_RFC6749_5_2_TokenEndpointAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   error
	}{
		{400, oauth.ErrUpstreamInvalid},
		{401, oauth.ErrUpstreamInvalid},
		{500, oauth.ErrUpstreamUnavailable},
		{502, oauth.ErrUpstreamUnavailable},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			op := newOP(t)
			op.status["/token"] = tc.status
			wantErr(t, finishWith(t, op, nil), tc.want)
		})
	}
}

func TestFinish_OIDCCore_5_3_2_UserinfoSubMismatchIsInvalid(t *testing.T) {
	op := newOP(t)
	op.userinfoSub = "user-2"
	wantErr(t, finishWith(t, op, nil), oauth.ErrUpstreamInvalid)
}

func TestFinish_OIDCCore_5_3_UserinfoDownIsUnavailable(t *testing.T) {
	op := newOP(t)
	op.status["/userinfo"] = 503
	wantErr(t, finishWith(t, op, nil), oauth.ErrUpstreamUnavailable)
}

func TestFinish_OIDCCore_10_1_1_JWKSDownIsUnavailable(t *testing.T) {
	op := newOP(t)
	op.status["/jwks"] = 503
	wantErr(t, finishWith(t, op, nil), oauth.ErrUpstreamUnavailable)
}

func TestDiscovery_OIDCDiscovery_4_3_AnotherIssuerIsInvalid(t *testing.T) {
	for _, other := range []string{"https://attacker.example", "ISSUER/", "ISSUER/tenant"} {
		t.Run(other, func(t *testing.T) {
			op := newOP(t)
			op.docIssuer = strings.Replace(other, "ISSUER", op.issuer(), 1)
			_, err := newClient(op).Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
			wantErr(t, err, oauth.ErrUpstreamInvalid)
		})
	}
}

func TestDiscovery_HTTPIssuerOffLoopbackIsInvalid(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	for _, issuer := range []string{"http://idp.example", "http://10.0.0.1:8080", "ftp://idp.example", "idp.example", "https://user@idp.example"} {
		p := op.provider()
		p.Issuer = issuer
		_, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
		wantErr(t, err, oauth.ErrUpstreamInvalid)
	}
}

func TestDiscovery_OIDCDiscovery_4_RedirectIsNotFollowed(t *testing.T) {
	target := newOP(t)
	redirector := httptest.NewServer(http.RedirectHandler(target.issuer()+"/.well-known/openid-configuration", http.StatusFound))
	t.Cleanup(redirector.Close)
	p := target.provider()
	p.Issuer = redirector.URL
	_, err := newClient(target).Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
	wantErr(t, err, oauth.ErrUpstreamInvalid)
	if target.hits["/.well-known/openid-configuration"] != 0 {
		t.Error("the redirect was followed")
	}
}

func TestDiscovery_CachedThenStaleWhileDown(t *testing.T) {
	op := newOP(t)
	now := op.now
	c := federation.New(federation.Options{Now: func() time.Time { return now }, DiscoveryTTL: time.Hour, StaleFor: time.Hour})
	p := op.provider()
	begin := func() error { _, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{}); return err }
	if err := begin(); err != nil {
		t.Fatal(err)
	}
	op.status["/.well-known/openid-configuration"] = 503
	now = now.Add(30 * time.Minute)
	if err := begin(); err != nil {
		t.Fatalf("fresh cache: %v", err)
	}
	if op.hits["/.well-known/openid-configuration"] != 1 {
		t.Fatalf("discovery fetched %d times within the TTL", op.hits["/.well-known/openid-configuration"])
	}
	now = now.Add(time.Hour) // past the TTL, within StaleFor: the refresh fails, the cache serves
	if err := begin(); err != nil {
		t.Fatalf("stale cache: %v", err)
	}
	if op.hits["/.well-known/openid-configuration"] != 2 {
		t.Fatal("no refresh attempted past the TTL")
	}
	now = now.Add(time.Hour) // past TTL + StaleFor
	wantErr(t, begin(), oauth.ErrUpstreamUnavailable)
	delete(op.status, "/.well-known/openid-configuration")
	if err := begin(); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestUpstream_SlowUpstreamIsUnavailable(t *testing.T) {
	for _, path := range []string{"/.well-known/openid-configuration", "/par", "/token", "/jwks", "/userinfo"} {
		t.Run(path, func(t *testing.T) {
			op := newOP(t)
			c := federation.New(federation.Options{Now: func() time.Time { return op.now }, Timeout: 100 * time.Millisecond})
			p := op.provider()
			if path == "/.well-known/openid-configuration" || path == "/par" {
				op.block[path] = true
				_, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
				wantErr(t, err, oauth.ErrUpstreamUnavailable)
				return
			}
			start, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{})
			if err != nil {
				t.Fatal(err)
			}
			q := op.authorize(start.AuthorizationURL)
			op.mu.Lock()
			op.block[path] = true
			op.mu.Unlock()
			_, err = c.Finish(context.Background(), p, start, callback, q)
			wantErr(t, err, oauth.ErrUpstreamUnavailable)
		})
	}
}

func TestBegin_RejectsUnusableProvider(t *testing.T) {
	op := newOP(t)
	c := newClient(op)
	for name, edit := range map[string]func(p *oauth.IdentityProvider){
		"no client_id":      func(p *oauth.IdentityProvider) { p.ClientID = "" },
		"no secret":         func(p *oauth.IdentityProvider) { p.ClientSecret = "" },
		"unknown method":    func(p *oauth.IdentityProvider) { p.TokenEndpointAuthMethod = "tls_client_auth" },
		"jwt without a key": func(p *oauth.IdentityProvider) { p.TokenEndpointAuthMethod = oauth.AuthPrivateKeyJWT },
		"jwt key not JSON": func(p *oauth.IdentityProvider) {
			p.TokenEndpointAuthMethod, p.PrivateKey = oauth.AuthPrivateKeyJWT, "{"
		},
	} {
		p := op.provider()
		edit(p)
		if _, err := c.Begin(context.Background(), p, callback, oauth.UpstreamAsk{}); !errors.Is(err, oauth.ErrUpstreamInvalid) {
			t.Errorf("%s: Begin error = %v", name, err)
		}
	}
}

func TestFinish_OIDCCore_10_1_1_RotatedKeyIsFetched(t *testing.T) {
	op := newOP(t)
	now := op.now
	c := federation.New(federation.Options{Now: func() time.Time { return now }})
	if _, err := login(t, c, op, op.provider()); err != nil {
		t.Fatal(err)
	}
	// OIDC Core §10.1.1: the upstream rotates its signing key; a token naming the
	// new kid makes the client fetch the JWKS again — at most once a minute.
	op.mu.Lock()
	op.keyID = "k2"
	op.mu.Unlock()
	_, err := login(t, c, op, op.provider())
	wantErr(t, err, oauth.ErrUpstreamInvalid)
	now = now.Add(2 * time.Minute)
	if _, err := login(t, c, op, op.provider()); err != nil {
		t.Fatalf("after the rotation: %v", err)
	}
	if n := op.hits["/jwks"]; n != 2 {
		t.Errorf("JWKS fetched %d times, want 2", n)
	}
}

func TestBegin_RFC9126_5_RequiredPARWithoutEndpointIsInvalid(t *testing.T) {
	op := newOP(t)
	op.par, op.requirePAR = false, true
	_, err := newClient(op).Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
	wantErr(t, err, oauth.ErrUpstreamInvalid)
}

func TestDiscovery_OversizedDocumentIsUnavailable(t *testing.T) {
	op := newOP(t)
	op.bigDocument = true
	_, err := newClient(op).Begin(context.Background(), op.provider(), callback, oauth.UpstreamAsk{})
	wantErr(t, err, oauth.ErrUpstreamUnavailable)
}

func TestFinish_OIDCCore_3_1_3_3_TokenAnswerWithoutIDTokenIsInvalid(t *testing.T) {
	op := newOP(t)
	op.noIDToken = true
	wantErr(t, finishWith(t, op, nil), oauth.ErrUpstreamInvalid)
}

func TestClientAuth_RFC7523_RSAKeyWithoutAlgSignsRS256(t *testing.T) {
	op := newOP(t)
	_, clientRSA := rsaKeys(t) // not the upstream's signing key
	jwk := jose.JSONWebKey{Key: clientRSA, KeyID: "rsa-1"}
	b, err := json.Marshal(jwk)
	if err != nil {
		t.Fatal(err)
	}
	pub := jwk.Public()
	op.clientKey = &pub
	p := op.provider()
	p.ClientSecret, p.TokenEndpointAuthMethod, p.PrivateKey = "", oauth.AuthPrivateKeyJWT, string(b)
	if _, err := login(t, newClient(op), op, p); err != nil {
		t.Fatal(err)
	}
	tok, err := jose.ParseSignedCompact(op.assertions["/token"], []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || tok.Signatures[0].Header.KeyID != "rsa-1" {
		t.Fatalf("assertion: %v", err)
	}
}

// OIDC Core §3.1.2.1: the client's prompt=login and max_age are asked of the upstream,
// where the user authenticates; prompt=login with max_age=0, so that the ID token must
// carry an auth_time Finish can check.
func TestBegin_OIDCCore_3_1_2_1_PromptLoginAndMaxAgeGoUpstream(t *testing.T) {
	fiveMin := 300
	for _, tc := range []struct {
		name           string
		ask            oauth.UpstreamAsk
		prompt, maxAge string
	}{
		{"nothing asked", oauth.UpstreamAsk{}, "", ""},
		{"prompt=login", oauth.UpstreamAsk{Login: true}, "login", "0"},
		{"max_age", oauth.UpstreamAsk{MaxAge: &fiveMin}, "", "300"},
		{"both", oauth.UpstreamAsk{Login: true, MaxAge: &fiveMin}, "login", "300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := newOP(t)
			start, err := newClient(op).Begin(context.Background(), op.provider(), callback, tc.ask)
			if err != nil {
				t.Fatal(err)
			}
			if got := op.lastPAR.Get("prompt"); got != tc.prompt {
				t.Errorf("pushed prompt = %q, want %q", got, tc.prompt)
			}
			if got := op.lastPAR.Get("max_age"); got != tc.maxAge {
				t.Errorf("pushed max_age = %q, want %q", got, tc.maxAge)
			}
			if (start.MaxAge != nil) != (tc.maxAge != "") {
				t.Errorf("start.MaxAge = %v, want one only when max_age was sent", start.MaxAge)
			}
		})
	}
}

// OIDC Core §2 (auth_time required "When a max_age request is made") and §3.1.3.7
// item 13: with max_age asked, an ID token without auth_time, or with one older than
// max_age (beyond the clock skew), is refused; a recent one is the identity's AuthTime.
func TestFinish_OIDCCore_3_1_3_7_13_MaxAgeNeedsARecentAuthTime(t *testing.T) {
	fiveMin := 300
	for _, tc := range []struct {
		name     string
		ask      oauth.UpstreamAsk
		authTime any // nil: no claim
		ok       bool
	}{
		{"max_age without auth_time", oauth.UpstreamAsk{MaxAge: &fiveMin}, nil, false},
		{"max_age with an old auth_time", oauth.UpstreamAsk{MaxAge: &fiveMin}, -time.Hour, false},
		{"max_age with a recent auth_time", oauth.UpstreamAsk{MaxAge: &fiveMin}, -4 * time.Minute, true},
		{"prompt=login with the upstream's old session", oauth.UpstreamAsk{Login: true}, -time.Hour, false},
		{"prompt=login with a new authentication", oauth.UpstreamAsk{Login: true}, -10 * time.Second, true},
		{"nothing asked, no auth_time", oauth.UpstreamAsk{}, nil, true},
		{"auth_time in the future", oauth.UpstreamAsk{}, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := newOP(t)
			var want time.Time
			if d, ok := tc.authTime.(time.Duration); ok {
				want = op.now.Add(d).Truncate(time.Second)
				op.mutate = func(c map[string]any) { c["auth_time"] = want.Unix() }
			}
			c, p := newClient(op), op.provider()
			start, err := c.Begin(context.Background(), p, callback, tc.ask)
			if err != nil {
				t.Fatal(err)
			}
			id, err := c.Finish(context.Background(), p, start, callback, op.authorize(start.AuthorizationURL))
			if !tc.ok {
				wantErr(t, err, oauth.ErrUpstreamInvalid)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !id.AuthTime.Equal(want) {
				t.Errorf("AuthTime = %v, want %v", id.AuthTime, want)
			}
		})
	}
}
