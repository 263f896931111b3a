package main

// End-to-end tests of the clients that sign: a private_key_jwt client (RFC 7523,
// OIDC Core §9) that pushes a signed request object (RFC 9126 §3, RFC 9101), and the
// whole flow under PROFILE=fapi2 (FAPI 2.0 Security Profile) with DPoP (RFC 9449) at
// the PAR and token endpoints. The harness is harness_test.go's: the local API over real
// HTTP, the cookie-jar browser, golang.org/x/oauth2 for the code exchange and
// github.com/coreos/go-oidc/v3 for the ID token. x/oauth2 has no private_key_jwt, so
// the assertion travels as client_assertion_type / client_assertion parameters with
// AuthStyleInParams and no secret, which is how RFC 7523 §2.2 sends it anyway.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const (
	// jarClientID authenticates with private_key_jwt and must push request objects
	// (require_signed_request_object, RFC 9101 §10.5).
	jarClientID = "e2e-jar"
	// fapiClientID authenticates with private_key_jwt and pushes plain parameters;
	// its tokens must be DPoP-bound (dpop_bound_access_tokens, RFC 9449 §5.2).
	fapiClientID = "e2e-fapi"

	jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// signingClient is a client with its own private key; the seed registers the
// public half in its jwks.
type signingClient struct {
	id  string
	key jose.JSONWebKey
}

func newSigningClient(t *testing.T, id string) *signingClient {
	t.Helper()
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return &signingClient{id: id, key: k}
}

func (c *signingClient) publicJWKS(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{c.key.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startSigning starts the local API with env, seeded with harness_test.go's fixtures
// plus the two signing clients.
func startSigning(t *testing.T, env map[string]string, jar, fapi *signingClient) *local {
	t.Helper()
	extra := `
  {"client_id": "` + jarClientID + `", "client_name": "E2E JAR App", "token_endpoint_auth_method": "private_key_jwt",
   "token_endpoint_auth_signing_alg": "ES256", "request_object_signing_alg": "ES256", "require_signed_request_object": true,
   "jwks": ` + jar.publicJWKS(t) + `, "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile email"},
  {"client_id": "` + fapiClientID + `", "client_name": "E2E FAPI App", "token_endpoint_auth_method": "private_key_jwt",
   "dpop_bound_access_tokens": true,
   "jwks": ` + fapi.publicJWKS(t) + `, "consent": "always", "redirect_uris": ["` + appRedirect + `"], "scope": "openid profile email"},`
	doc := httpapitest.WithClients(t, seedJSON, extra)
	seedFile := filepath.Join(t.TempDir(), "seed-signing.json")
	if err := os.WriteFile(seedFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"SEED_FILE": seedFile}
	for k, v := range env {
		vars[k] = v
	}
	return start(t, vars)
}

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign signs claims as a JWS with the client's key, its kid and the typ header
// (none when typ is empty).
func (c *signingClient) sign(t *testing.T, typ string, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", c.key.KeyID)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	return oauthtest.SignJWT(t, jose.ES256, c.key.Key, opts, claims)
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3, OIDC Core §9): iss
// and sub the client_id, aud the issuer identifier (RFC 9126 §2 SHOULD; the only
// value FAPI 2.0 accepts), a fresh jti, a short exp.
func (c *signingClient) assertion(t *testing.T, l *local, aud any) string {
	t.Helper()
	now := l.now()
	return c.sign(t, "", map[string]any{"iss": c.id, "sub": c.id, "aud": aud, "jti": randomID(t),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
}

// requestObject is the authorization request of a as a signed request object (RFC
// 9101 §4, RFC 9126 §3): typ oauth-authz-req+jwt, iss and client_id the client, aud
// the issuer, exp, nbf, iat and jti, and every authorization request parameter as a claim.
func (c *signingClient) requestObject(t *testing.T, l *local, a *authRequest) string {
	t.Helper()
	now := l.now()
	claims := map[string]any{"iss": c.id, "aud": l.srv.Issuer, "client_id": c.id, "jti": randomID(t),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for k, v := range a.params(t) {
		claims[k] = v[0]
	}
	return c.sign(t, "oauth-authz-req+jwt", claims)
}

// dpopProof is a DPoP proof (RFC 9449 §4.2) by key: typ dpop+jwt, the public key
// embedded as jwk, and a fresh jti, htm, htu and iat.
func dpopProof(key httpapitest.DPoPKey, method, htu string, iat time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	return key.Proof(map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti),
		"htm": method, "htu": htu, "iat": iat.Unix()})
}

// dpopTransport adds a fresh DPoP proof for each request's method and URL (without
// query and fragment, RFC 9449 §4.2), so x/oauth2's Exchange sends one.
type dpopTransport struct {
	key httpapitest.DPoPKey
	now func() time.Time
}

func (tr dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	htu := *req.URL
	htu.RawQuery, htu.Fragment = "", ""
	proof, err := dpopProof(tr.key, req.Method, htu.String(), tr.now())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", proof)
	return http.DefaultTransport.RoundTrip(r)
}

// signingRP is the oauth2.Config of a private_key_jwt client: no secret, client_id
// in the body.
func (l *local) signingRP(c *signingClient) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    c.id,
		RedirectURL: appRedirect,
		Scopes:      []string{"openid", "profile", "email"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   l.meta.AuthorizationEndpoint,
			TokenURL:  l.meta.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// parResult is the status and JSON body of a PAR endpoint response.
type parResult struct {
	Status int
	JSON   map[string]any
}

// pushAs sends body to the PAR endpoint, with a DPoP header when proof is not
// empty.
func (l *local) pushAs(t *testing.T, body url.Values, proof string) parResult {
	t.Helper()
	resp := httpapitest.PostForm(t, l.meta.PAREndpoint, body, map[string]string{"DPoP": proof})
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("push: %d, not JSON: %s", resp.StatusCode, raw)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("push Cache-Control = %q, want no-store", cc)
	}
	return parResult{Status: resp.StatusCode, JSON: m}
}

// pushed checks a 201 pushed authorization response (RFC 9126 §2.2).
func pushed(t *testing.T, r parResult) pushResponse {
	t.Helper()
	uri, _ := r.JSON["request_uri"].(string)
	n, _ := r.JSON["expires_in"].(float64)
	if r.Status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || n <= 0 {
		t.Fatalf("push: %d %v", r.Status, r.JSON)
	}
	return pushResponse{RequestURI: uri, ExpiresIn: int(n)}
}

// assertionForm is the client authentication part of a back-channel request
// (RFC 7523 §2.2), with client_id as RFC 9126 errata 6711 allows.
func assertionForm(c *signingClient, assertion string) url.Values {
	return url.Values{"client_id": {c.id}, "client_assertion_type": {jwtBearer}, "client_assertion": {assertion}}
}

// exchangeSigned exchanges code with x/oauth2, authenticating with a fresh client
// assertion whose aud is the issuer, over client (DPoP transport or nil).
func (l *local) exchangeSigned(t *testing.T, c *signingClient, a *authRequest, code string, client *http.Client) (*oauth2.Token, error) {
	t.Helper()
	ctx := t.Context()
	if client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	}
	return a.conf.Exchange(ctx, code, oauth2.VerifierOption(a.verifier),
		oauth2.SetAuthURLParam("client_assertion_type", jwtBearer),
		oauth2.SetAuthURLParam("client_assertion", c.assertion(t, l, l.srv.Issuer)))
}

// TestPrivateKeyJWTRequestObjectEndToEnd: a private_key_jwt client pushes a signed
// request object (RFC 9126 §3) authenticated by a client assertion (RFC 9126 §2,
// RFC 7523), the user signs in and consents, and x/oauth2 exchanges the code with
// another assertion; go-oidc verifies the ID token.
func TestPrivateKeyJWTRequestObjectEndToEnd(t *testing.T) {
	jar, fapi := newSigningClient(t, jarClientID), newSigningClient(t, fapiClientID)
	l := startSigning(t, nil, jar, fapi)
	a := newRequest(l.signingRP(jar))

	// RFC 9126 §3: the form carries client authentication and request only; any
	// other parameter outside the object is ignored (nop strip_outside_jar_params).
	body := assertionForm(jar, jar.assertion(t, l, l.srv.Issuer))
	ro := jar.requestObject(t, l, a)
	body.Set("request", ro)
	body.Set("state", "outside-state")
	body.Set("scope", "openid admin")
	pr := pushed(t, l.pushAs(t, body, ""))

	code := l.authorize(t, a, pr.RequestURI) // checks state is the object's, iss (RFC 9207)
	tok, err := l.exchangeSigned(t, jar, a, code, nil)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	idt := l.verifyIDToken(t, a, tok)
	if idt.Subject != userSubject || idt.Audience[0] != jarClientID {
		t.Errorf("ID token sub %q aud %v", idt.Subject, idt.Audience)
	}
	l.verifyAccessToken(t, tok, jarClientID, userSubject, "openid profile email")

	t.Run("a replayed request object is invalid_request_object", func(t *testing.T) {
		body := assertionForm(jar, jar.assertion(t, l, l.srv.Issuer))
		body.Set("request", ro)
		if r := l.pushAs(t, body, ""); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_request_object" {
			t.Fatalf("replayed request object: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("a plain push from the client is invalid_request (RFC 9126 §2.3)", func(t *testing.T) {
		body := assertionForm(jar, jar.assertion(t, l, l.srv.Issuer))
		for k, v := range newRequest(l.signingRP(jar)).params(t) {
			body[k] = v
		}
		if r := l.pushAs(t, body, ""); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_request" {
			t.Fatalf("plain push: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("a replayed client assertion is invalid_client (OIDC Core §9)", func(t *testing.T) {
		a := newRequest(l.signingRP(jar))
		used := jar.assertion(t, l, l.srv.Issuer)
		body := assertionForm(jar, used)
		body.Set("request", jar.requestObject(t, l, a))
		pr := pushed(t, l.pushAs(t, body, ""))
		code := l.authorize(t, a, pr.RequestURI)
		_, err := a.conf.Exchange(t.Context(), code, oauth2.VerifierOption(a.verifier),
			oauth2.SetAuthURLParam("client_assertion_type", jwtBearer), oauth2.SetAuthURLParam("client_assertion", used))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
			t.Fatalf("replayed assertion at the token endpoint: %v", err)
		}
		// The code was not spent by the refused request: client authentication comes first.
		if _, err := l.exchangeSigned(t, jar, a, code, nil); err != nil {
			t.Fatalf("exchange with a fresh assertion: %v", err)
		}
	})
}

// TestFAPI2ProfileEndToEnd is the whole flow with PROFILE=fapi2 (FAPI 2.0 Security
// Profile §5.3): private_key_jwt with aud the issuer, PAR with redirect_uri and PKCE
// S256, DPoP at the PAR endpoint (code binding, RFC 9449 §10.1) and at the token
// endpoint, a DPoP-bound JWT access token with cnf.jkt, an ES256 ID token (the
// profile's default key algorithm, no KEY_ALG set) verified by go-oidc, and the authorization response a 303 with iss.
func TestFAPI2ProfileEndToEnd(t *testing.T) {
	jar, fapi := newSigningClient(t, jarClientID), newSigningClient(t, fapiClientID)
	l := startSigning(t, map[string]string{"PROFILE": "fapi2", "ALLOW_HTTP_ISSUER": "true"}, jar, fapi)
	if !l.meta.RequirePAR {
		t.Error("fapi2: discovery does not publish require_pushed_authorization_requests: true")
	}

	flow := func(t *testing.T, c *signingClient, requestObject bool) {
		k := httpapitest.NewDPoPKey(t)
		a := newRequest(l.signingRP(c))
		body := assertionForm(c, c.assertion(t, l, l.srv.Issuer))
		if requestObject {
			body.Set("request", c.requestObject(t, l, a))
		} else {
			for name, v := range a.params(t) {
				body[name] = v
			}
		}
		if body.Get("redirect_uri") == "" && !requestObject {
			t.Fatal("the push carries no redirect_uri")
		}
		parProof, err := dpopProof(k, http.MethodPost, l.meta.PAREndpoint, l.now())
		if err != nil {
			t.Fatal(err)
		}
		pr := pushed(t, l.pushAs(t, body, parProof))
		// FAPI 2.0 §5.3.2.2: expires_in "of less than 600 seconds".
		if pr.ExpiresIn >= 600 {
			t.Errorf("expires_in %d, want < 600", pr.ExpiresIn)
		}
		code := l.authorize(t, a, pr.RequestURI) // 303 with code, state and iss

		dpopClient := &http.Client{Transport: dpopTransport{key: k, now: l.now}}
		tok, err := l.exchangeSigned(t, c, a, code, dpopClient)
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if tok.TokenType != "DPoP" {
			t.Errorf("token_type %q, want DPoP", tok.TokenType)
		}
		idt := l.verifyIDToken(t, a, tok)
		if idt.Subject != userSubject {
			t.Errorf("ID token sub %q", idt.Subject)
		}
		// FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA; without KEY_ALG the generated key
		// is ES256 under fapi2.
		raw, _ := tok.Extra("id_token").(string)
		if _, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256}); err != nil {
			t.Errorf("ID token is not ES256: %v", err)
		}
		for name, algs := range map[string][]string{"id_token_signing_alg_values_supported": l.meta.IDTokenSigningAlgs} {
			if len(algs) != 1 || algs[0] != "ES256" {
				t.Errorf("%s = %v, want [ES256]", name, algs)
			}
		}
		l.verifyDPoPAccessToken(t, tok, c.id, k.JKT(t))
	}
	t.Run("plain push with DPoP", func(t *testing.T) { flow(t, fapi, false) })
	t.Run("request object push with DPoP", func(t *testing.T) { flow(t, jar, true) })

	t.Run("a token request without DPoP is refused", func(t *testing.T) {
		a := newRequest(l.signingRP(fapi))
		body := assertionForm(fapi, fapi.assertion(t, l, l.srv.Issuer))
		for name, v := range a.params(t) {
			body[name] = v
		}
		code := l.authorize(t, a, pushed(t, l.pushAs(t, body, "")).RequestURI)
		_, err := l.exchangeSigned(t, fapi, a, code, nil)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusBadRequest || re.ErrorCode != "invalid_dpop_proof" {
			t.Fatalf("exchange without DPoP: %v", err)
		}
	})
	t.Run("client_secret_basic is refused at PAR", func(t *testing.T) {
		a := newRequest(l.app())
		resp := httpapitest.PostForm(t, l.meta.PAREndpoint, a.params(t), map[string]string{"Authorization": basicAuth(appID, appSecret)})
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("client_secret_basic under fapi2: %d", resp.StatusCode)
		}
	})
	t.Run("an assertion with aud the token endpoint is refused", func(t *testing.T) {
		a := newRequest(l.signingRP(fapi))
		body := assertionForm(fapi, fapi.assertion(t, l, l.meta.TokenEndpoint))
		for name, v := range a.params(t) {
			body[name] = v
		}
		if r := l.pushAs(t, body, ""); r.Status != http.StatusUnauthorized || r.JSON["error"] != "invalid_client" {
			t.Fatalf("aud token endpoint: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("a push without redirect_uri is invalid_request", func(t *testing.T) {
		a := newRequest(l.signingRP(fapi))
		body := assertionForm(fapi, fapi.assertion(t, l, l.srv.Issuer))
		for name, v := range a.params(t) {
			body[name] = v
		}
		body.Del("redirect_uri")
		if r := l.pushAs(t, body, ""); r.Status != http.StatusBadRequest || r.JSON["error"] != "invalid_request" {
			t.Fatalf("push without redirect_uri: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("an authorization request without PAR is invalid_request", func(t *testing.T) {
		a := newRequest(l.signingRP(fapi))
		l.wantPARRequired(t, a, l.browser(t).Get(t, a.url()))
	})
}

// verifyDPoPAccessToken checks a DPoP-bound JWT access token (RFC 9068, RFC 9449 §6):
// typ at+jwt, signed by a key of the JWKS with an algorithm FAPI 2.0 §5.4 allows,
// client_id, and cnf.jkt the thumbprint of the DPoP key.
func (l *local) verifyDPoPAccessToken(t *testing.T, tok *oauth2.Token, clientID, jkt string) {
	t.Helper()
	// FAPI 2.0 §5.4.1: PS256, ES256 or EdDSA.
	h, payload := l.verifiedJWT(t, "access token", tok.AccessToken, jose.PS256, jose.ES256, jose.EdDSA)
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" {
		t.Errorf("access token typ %q, want at+jwt", typ)
	}
	var c struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		ClientID string `json:"client_id"`
		Cnf      struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c.Iss != l.srv.Issuer || c.Sub != userSubject || c.ClientID != clientID {
		t.Errorf("access token iss %q sub %q client_id %q", c.Iss, c.Sub, c.ClientID)
	}
	if c.Cnf.JKT != jkt {
		t.Errorf("access token cnf.jkt %q, want %q (the DPoP key)", c.Cnf.JKT, jkt)
	}
}
