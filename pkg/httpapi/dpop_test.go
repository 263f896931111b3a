package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

// dpopKey is a client's DPoP key pair (the shared httpapitest.DPoPKey) whose proofs
// carry ts's time.
type dpopKey struct{ httpapitest.DPoPKey }

func newDPoPKey(t *testing.T) dpopKey {
	t.Helper()
	return dpopKey{httpapitest.NewDPoPKey(t)}
}

func (k dpopKey) jkt(t *testing.T) string {
	t.Helper()
	return k.JKT(t)
}

// proof makes a DPoP proof (RFC 9449 §4.2) for method and URL.
func (k dpopKey) proof(t *testing.T, ts *testServer, method, htu string, mod func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"jti": newJTI(), "htm": method, "htu": htu, "iat": ts.clock.Now().Unix()}
	if mod != nil {
		mod(claims)
	}
	tok, err := k.Proof(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (ts *testServer) doDPoP(t *testing.T, path, auth, proof string, body url.Values) response {
	t.Helper()
	resp := httpapitest.PostForm(t, ts.URL+path, body, map[string]string{"Authorization": auth, "DPoP": proof})
	defer resp.Body.Close()
	var r response
	r.Status = resp.StatusCode
	r.Header = resp.Header
	_ = json.NewDecoder(resp.Body).Decode(&r.JSON)
	return r
}

// RFC 9449 §10.1: dpop_jkt and the DPoP header at PAR, and the code binding at /token.
func TestDPoP_PARBindingAndTokenBinding(t *testing.T) {
	ts := newServer(t)
	k := newDPoPKey(t)
	parURL, tokenURL := ts.URL+"/par", ts.URL+"/token"

	t.Run("a DPoP header at PAR binds the code; the token is DPoP-bound", func(t *testing.T) {
		r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, nil), pushParams())
		if r.Status != 201 {
			t.Fatalf("push: %d %v", r.Status, r.JSON)
		}
		b := ts.browser(t)
		code := b.approve(t, b.login(t, confID, r.JSON["request_uri"].(string))).Get("code")
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		// A proof with another key is refused for a bound code.
		other := newDPoPKey(t)
		r = ts.doDPoP(t, "/token", basic(confID, confSecret), other.proof(t, ts, "POST", tokenURL, nil), body)
		if r.Status != 400 || r.JSON["error"] != "invalid_grant" {
			t.Fatalf("other key: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("dpop_jkt binds the code and the right proof gets a DPoP token with cnf.jkt", func(t *testing.T) {
		r := ts.doDPoP(t, "/par", basic(confID, confSecret), "", with(pushParams(), "dpop_jkt", k.jkt(t)))
		if r.Status != 201 {
			t.Fatalf("push: %d %v", r.Status, r.JSON)
		}
		b := ts.browser(t)
		code := b.approve(t, b.login(t, confID, r.JSON["request_uri"].(string))).Get("code")
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		r = ts.doDPoP(t, "/token", basic(confID, confSecret), k.proof(t, ts, "POST", tokenURL, nil), body)
		if r.Status != 200 || r.JSON["token_type"] != "DPoP" {
			t.Fatalf("token: %d %v", r.Status, r.JSON)
		}
		payload, err := ts.keys.Verify(r.JSON["access_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Cnf struct {
				JKT string `json:"jkt"`
			} `json:"cnf"`
		}
		_ = json.Unmarshal(payload, &claims)
		if claims.Cnf.JKT != k.jkt(t) {
			t.Errorf("cnf.jkt %q, want %q", claims.Cnf.JKT, k.jkt(t))
		}
	})
	t.Run("a code bound with dpop_jkt is refused without a proof", func(t *testing.T) {
		r := ts.doDPoP(t, "/par", basic(confID, confSecret), "", with(pushParams(), "dpop_jkt", k.jkt(t)))
		b := ts.browser(t)
		code := b.approve(t, b.login(t, confID, r.JSON["request_uri"].(string))).Get("code")
		body := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
		r = ts.doDPoP(t, "/token", basic(confID, confSecret), "", body)
		if r.Status != 400 || r.JSON["error"] != "invalid_grant" {
			t.Fatalf("no proof: %d %v", r.Status, r.JSON)
		}
	})
	t.Run("dpop_jkt that differs from the proof's key is invalid_request", func(t *testing.T) {
		other := newDPoPKey(t)
		r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, nil), with(pushParams(), "dpop_jkt", other.jkt(t)))
		if r.Status != 400 || r.JSON["error"] != "invalid_request" {
			t.Fatalf("mismatch: %d %v", r.Status, r.JSON)
		}
	})
	bad := map[string]string{
		"wrong htu":     k.proof(t, ts, "POST", ts.URL+"/token", nil),
		"wrong htm":     k.proof(t, ts, "GET", parURL, nil),
		"old iat":       k.proof(t, ts, "POST", parURL, func(m map[string]any) { m["iat"] = ts.clock.Now().Add(-10 * time.Minute).Unix() }),
		"missing jti":   k.proof(t, ts, "POST", parURL, func(m map[string]any) { delete(m, "jti") }),
		"not a JWT":     "nope",
		"wrong typ jwt": sign(t, clientKey, "jwt", map[string]any{"jti": "x", "htm": "POST", "htu": parURL, "iat": ts.clock.Now().Unix()}),
	}
	replayed := k.proof(t, ts, "POST", parURL, nil)
	if r := ts.doDPoP(t, "/par", basic(confID, confSecret), replayed, pushParams()); r.Status != 201 {
		t.Fatalf("first proof: %d %v", r.Status, r.JSON)
	}
	bad["replayed proof"] = replayed
	for name, proof := range bad {
		t.Run(name+" is invalid_dpop_proof", func(t *testing.T) {
			r := ts.doDPoP(t, "/par", basic(confID, confSecret), proof, pushParams())
			if r.Status != 400 || r.JSON["error"] != "invalid_dpop_proof" {
				t.Fatalf("%d %v", r.Status, r.JSON)
			}
		})
	}
}

func athOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// RFC 9449 §8: with DPOP_NONCE=true a proof without the server's nonce gets
// use_dpop_nonce and the nonce in DPoP-Nonce; with it, the request succeeds.
func TestDPoP_ServerNonces(t *testing.T) {
	ts := newServer(t, withEnv(map[string]string{"DPOP_NONCE": "true"}))
	k := newDPoPKey(t)
	parURL := ts.URL + "/par"
	r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, nil), pushParams())
	nonce := r.Header.Get("DPoP-Nonce")
	if r.Status != 400 || r.JSON["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without nonce: %d %v nonce=%q", r.Status, r.JSON, nonce)
	}
	withNonce := func(n string) func(map[string]any) { return func(m map[string]any) { m["nonce"] = n } }
	if r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, withNonce("made-up")), pushParams()); r.JSON["error"] != "use_dpop_nonce" {
		t.Errorf("made-up nonce: %d %v", r.Status, r.JSON)
	}
	r = ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, withNonce(nonce)), pushParams())
	if r.Status != 201 {
		t.Fatalf("with nonce: %d %v", r.Status, r.JSON)
	}
	// A nonce stays good for the next window, not longer.
	ts.clock.Advance(60 * time.Second)
	if r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, withNonce(nonce)), pushParams()); r.Status != 201 {
		t.Errorf("nonce one window later: %d %v", r.Status, r.JSON)
	}
	ts.clock.Advance(120 * time.Second)
	if r := ts.doDPoP(t, "/par", basic(confID, confSecret), k.proof(t, ts, "POST", parURL, withNonce(nonce)), pushParams()); r.JSON["error"] != "use_dpop_nonce" {
		t.Errorf("stale nonce: %d %v", r.Status, r.JSON)
	}
	// Requests without DPoP are unaffected.
	if r := ts.doDPoP(t, "/par", basic(confID, confSecret), "", pushParams()); r.Status != 201 {
		t.Errorf("no DPoP: %d", r.Status)
	}
}
