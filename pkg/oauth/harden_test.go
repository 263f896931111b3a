package oauth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestExchange_BurntCodeMessage: a wrong code_verifier spends the code (RFC 6749
// §4.1.2 one use); the next try must say what happened, not that tokens issued from
// the code were revoked when none were.
func TestExchange_BurntCodeMessage(t *testing.T) {
	d := newDomain(t)
	c := d.client(confID)
	code := d.code(c, authParams(confID))
	if _, err := d.exchange(c, tokenParams(code, "code_verifier", strings.Repeat("x", 43)), oauth.DPoP{}); err == nil {
		t.Fatal("a wrong code_verifier was accepted")
	}
	_, err := d.exchange(c, tokenParams(code), oauth.DPoP{})
	e := wantErr(t, err, oauth.CodeInvalidGrant)
	if strings.Contains(e.Description, "the tokens issued from it are revoked") {
		t.Errorf("description %q claims tokens were issued", e.Description)
	}
	if !strings.Contains(e.Description, "already") {
		t.Errorf("description %q does not say the code was already presented", e.Description)
	}
}

// TestReplayWindows: RFC 7523 §3 item 7, "The authorization server MAY ensure that
// JWTs are not replayed by maintaining the set of used "jti" values for the length of
// time for which the JWT would be considered valid based on the applicable "exp"
// instant." A JWT is accepted until exp plus the clock skew, so its jti is kept until
// then: the same JWT shortly after exp is a replay.
func TestReplayWindows(t *testing.T) {
	t.Run("RFC 7523 §3 item 7 an assertion replayed after exp within the skew is invalid_client", func(t *testing.T) {
		d := newDomain(t)
		cred := oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(map[string]any{"exp": d.now().Add(time.Second).Unix()})}
		if _, err := d.authenticate(cred); err != nil {
			t.Fatalf("first use: %v", err)
		}
		d.advance(6 * time.Second) // after exp, within the 10 s skew
		c, err := d.authenticate(cred)
		if c != nil {
			t.Fatalf("the assertion was accepted again %s after exp", 5*time.Second)
		}
		wantErr(t, err, oauth.CodeInvalidClient)
	})
	t.Run("RFC 7523 §3 item 7 a request object replayed after exp within the skew is invalid_request_object", func(t *testing.T) {
		d := newDomain(t)
		raw := d.requestObject(map[string]any{"exp": d.now().Add(time.Second).Unix()})
		if _, err := d.push(d.client(jwtID), url.Values{"request": {raw}}, oauth.DPoP{}); err != nil {
			t.Fatalf("first push: %v", err)
		}
		d.advance(6 * time.Second)
		res, err := d.push(d.client(jwtID), url.Values{"request": {raw}}, oauth.DPoP{})
		if res != nil {
			t.Fatal("the request object was accepted again after exp")
		}
		wantErr(t, err, oauth.CodeInvalidRequestObject)
	})
	t.Run("RFC 9449 §11.1 a DPoP proof replayed at the end of its window is invalid_dpop_proof", func(t *testing.T) {
		d := newDomain(t)
		key := mustECKey()
		// iat 10 s in the future is accepted (the skew), so the proof is accepted
		// until iat + the window; its jti must be kept that long.
		proof := d.proof(key, "POST", tokenURL, map[string]any{"iat": d.now().Add(9 * time.Second).Unix()})
		dp := oauth.DPoP{Proofs: []string{proof}, Method: "POST", URL: tokenURL}
		c := d.client(confID)
		code := d.code(c, authParams(confID))
		if _, err := d.exchange(c, tokenParams(code), dp); err != nil {
			t.Fatalf("first use: %v", err)
		}
		d.advance(5*time.Minute + 8*time.Second)
		_, err := d.exchange(c, tokenParams(d.code(c, authParams(confID))), dp)
		wantErr(t, err, oauth.CodeInvalidDPoPProof)
	})
	t.Run("RFC 7519 §4.1.7 under FAPI 2.0 a request object without jti is invalid_request_object", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		raw := d.requestObject(map[string]any{"jti": nil})
		res, err := d.push(d.client(jwtID), url.Values{"request": {raw}}, d.dpop(mustECKey()))
		if res != nil {
			t.Fatal("a request object without jti was accepted under FAPI 2.0")
		}
		wantErr(t, err, oauth.CodeInvalidRequestObject)
	})
}
