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

// TestAuthorizationDetails_Canonical: RFC 8259 §4, "The names within an object SHOULD
// be unique" and with repeated names "the behavior of software that receives such an
// object is unpredictable": the consent page would show the last value while a
// resource server keeping the first sees another payment. Repeated names at any depth
// are refused; what is stored (and so shown and signed) is one canonical text.
func TestAuthorizationDetails_Canonical(t *testing.T) {
	for _, tc := range []struct {
		name, details string
		want          string // the stored text; "" for invalid_authorization_details
	}{
		{name: "RFC 8259 §4 a repeated top-level member name is refused",
			details: `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00"},"creditorName":"A","creditorName":"B"}]`},
		{name: "RFC 8259 §4 a repeated nested member name is refused",
			details: `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00","amount":"9999.00"}}]`},
		{name: "RFC 8259 §4 a repeated type is refused",
			details: `[{"type":"account_information","type":"payment_initiation","instructedAmount":{}}]`},
		{name: "RFC 8259 §4 data after the array is refused",
			details: `[{"type":"account_information"}] [{"type":"account_information"}]`},
		{name: "RFC 9396 authorization_details over 16 KiB is refused",
			details: `[{"type":"account_information","accounts":["` + strings.Repeat("a", 16<<10) + `"]}]`},
		{name: "RFC 8259 §7 escapes are stored as the decoded text",
			details: `[{"type":"payment_initiation","instructedAmount":{"currency":"\u0045UR","amount":"1.00"},"creditorName":"A\u0026B \ud800"}]`,
			want:    `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00"},"creditorName":"A&B ` + "\ufffd" + `"}]`},
		{name: "RFC 8259 §4 distinct names in distinct objects are accepted, in their order",
			details: "[ {\"type\": \"payment_initiation\",\n \"instructedAmount\": {\"amount\": 1.50, \"currency\": \"EUR\"}} ]",
			want:    `[{"type":"payment_initiation","instructedAmount":{"amount":1.50,"currency":"EUR"}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			res, err := d.push(d.client(confID), authParams(confID, "authorization_details", tc.details), oauth.DPoP{})
			if tc.want == "" {
				if res != nil {
					t.Fatalf("pushed: %+v", res)
				}
				wantErr(t, err, oauth.CodeInvalidAuthorizationDetails)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(d.mustResume(confID, res.RequestURI).Request.Request.AuthorizationDetails); got != tc.want {
				t.Errorf("stored %s\nwant   %s", got, tc.want)
			}
		})
	}
}

// TestPush_RefusesFormatCharacters: Unicode format characters (category Cf, e.g.
// U+202E RIGHT-TO-LEFT OVERRIDE) in any authorization request value would let a
// client spoof what the consent page shows; /par and /authorize refuse them, also
// when escaped inside authorization_details.
func TestPush_RefusesFormatCharacters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params []string
		code   string
	}{
		{name: "U+202E in state", params: []string{"state", "abc\u202edef"}, code: oauth.CodeInvalidRequest},
		{name: "U+202E in scope", params: []string{"scope", "openid \u202eprofile"}, code: oauth.CodeInvalidRequest},
		{name: "raw U+202E in authorization_details", params: []string{"authorization_details",
			`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00"},"creditorName":"Shop ` + "\u202e" + `A"}]`}, code: oauth.CodeInvalidRequest},
		{name: "escaped U+202E in authorization_details", params: []string{"authorization_details",
			`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.00"},"creditorName":"Shop \u202EA"}]`}, code: oauth.CodeInvalidAuthorizationDetails},
		{name: "escaped U+200B in an authorization_details member name", params: []string{"authorization_details",
			`[{"type":"account_information","accounts":[{"i\u200Bban":"x"}]}]`}, code: oauth.CodeInvalidAuthorizationDetails},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			res, err := d.push(d.client(confID), authParams(confID, tc.params...), oauth.DPoP{})
			if res != nil {
				t.Fatalf("pushed: %+v", res)
			}
			wantErr(t, err, tc.code)
		})
	}
}
