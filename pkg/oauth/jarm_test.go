package oauth_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// jarmClaims verifies a JARM response JWT against the server's keys and returns its
// claims.
func jarmClaims(t *testing.T, resp *oauth.AuthorizationResponse) map[string]any {
	t.Helper()
	// JARM §2.3.1, §2.3.3: the JWT is the one parameter, response; RFC 9207 §2.4: no
	// iss beside it.
	if got := slices.Sorted(maps.Keys(resp.Params)); !slices.Equal(got, []string{"response"}) {
		t.Fatalf("JARM response parameters = %v, want only response", got)
	}
	set, err := serverKeys()
	if err != nil {
		t.Fatal(err)
	}
	payload, err := set.Verify(resp.Params.Get("response"))
	if err != nil {
		t.Fatalf("response JWT: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// jarmApprove pushes a request for confID with response_mode mode, approves it and
// returns the response.
func jarmApprove(t *testing.T, d *domain, mode string) *oauth.AuthorizationResponse {
	t.Helper()
	resp, err := d.approveResponse(d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, "response_mode", mode))), username)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestJARM_2_1_ResponseJWT: the code response as a signed JWT with iss, aud, exp,
// code and state, in each JARM mode (§2.3.1 query.jwt, §2.3.3 form_post.jwt, §2.3.4
// jwt meaning query.jwt for code).
func TestJARM_2_1_ResponseJWT(t *testing.T) {
	for mode, formPost := range map[string]bool{"jwt": false, "query.jwt": false, "form_post.jwt": true} {
		t.Run(mode, func(t *testing.T) {
			d := newDomain(t)
			resp := jarmApprove(t, d, mode)
			if resp.FormPost != formPost || resp.RedirectURI != redirect {
				t.Errorf("delivery: form post %v to %s, want %v to %s", resp.FormPost, resp.RedirectURI, formPost, redirect)
			}
			c := jarmClaims(t, resp)
			code, _ := c["code"].(string)
			if c["iss"] != issuer || c["aud"] != confID || c["state"] != "st-"+confID || len(code) != 43 {
				t.Errorf("claims = %v", c)
			}
			// JARM §2.1: "A maximum JWT lifetime of 10 minutes is RECOMMENDED."
			exp, _ := c["exp"].(float64)
			if got := time.Unix(int64(exp), 0).Sub(d.now()); got != oauth.ResponseLifetime || got > 10*time.Minute {
				t.Errorf("exp is %v after now, want %v (at most 10 min)", got, oauth.ResponseLifetime)
			}
			if _, ok := c["error"]; ok {
				t.Errorf("a code response with error: %v", c)
			}
			// The code in the JWT is the one issued: it redeems.
			tok, err := d.exchange(d.client(confID), tokenParams(code), oauth.DPoP{})
			if err != nil || tok.AccessToken == "" {
				t.Errorf("the JWT's code does not redeem: %v", err)
			}
		})
	}
}

// TestFormPost_2_Parameters: form_post posts the plain parameters, iss included
// (RFC 9207 §2), to the redirect URI.
func TestFormPost_2_Parameters(t *testing.T) {
	d := newDomain(t)
	resp := jarmApprove(t, d, "form_post")
	if !resp.FormPost || resp.Params.Get("state") != "st-"+confID || resp.Params.Get("iss") != issuer || len(resp.Params.Get("code")) != 43 || resp.Params.Has("response") {
		t.Errorf("form_post response = %+v", resp)
	}
	// query, the default, is unchanged.
	resp = jarmApprove(t, d, "query")
	if resp.FormPost || resp.Params.Get("iss") != issuer || resp.Params.Has("response") {
		t.Errorf("query response = %+v", resp)
	}
}

// TestJARM_2_2_ErrorResponses: errors delivered to the client are JWTs too (the
// user's denial, an error at /authorize), with error, error_description and state.
func TestJARM_2_2_ErrorResponses(t *testing.T) {
	d := newDomain(t)
	resp, err := d.deny(d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, "response_mode", "form_post.jwt"))))
	if err != nil {
		t.Fatal(err)
	}
	c := jarmClaims(t, resp)
	if !resp.FormPost || c["error"] != oauth.CodeAccessDenied || c["error_description"] == "" || c["state"] != "st-"+confID ||
		c["iss"] != issuer || c["aud"] != confID || c["exp"] == nil || c["code"] != nil {
		t.Errorf("denial = %v", c)
	}

	// A direct request's error after the redirect URI is known (RFC 6749 §4.1.2.1).
	_, req, err := d.startDirect(authParams(confID, "response_mode", "jwt", "code_challenge_method", "plain"))
	e := wantErr(t, err, oauth.CodeInvalidRequest)
	if !e.Redirect || req.ResponseMode != oauth.ResponseModeQueryJWT {
		t.Fatalf("redirect %v, mode %q", e.Redirect, req.ResponseMode)
	}
	resp, err = d.errorResponse(req, e)
	if err != nil {
		t.Fatal(err)
	}
	if c := jarmClaims(t, resp); resp.FormPost || c["error"] != oauth.CodeInvalidRequest || c["state"] != "st-"+confID || c["aud"] != confID {
		t.Errorf("error response = %v", c)
	}
}

// TestJARM_2_3_UnsupportedModes: fragment modes (token responses only) and unknown
// values are invalid_request, delivered in the default mode, query (RFC 6749
// §4.1.2.1), since the requested one is not usable.
func TestJARM_2_3_UnsupportedModes(t *testing.T) {
	for _, mode := range []string{"fragment", "fragment.jwt", "JWT", "query.JWT", "form_post.jwt "} {
		d := newDomain(t)
		_, err := d.push(d.client(confID), authParams(confID, "response_mode", mode), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest)
		_, req, err := d.startDirect(authParams(confID, "response_mode", mode))
		if e := wantErr(t, err, oauth.CodeInvalidRequest); !e.Redirect || req.ResponseMode != "" || req.State != "st-"+confID {
			t.Errorf("%q: redirect %v, mode %q, state %q", mode, e.Redirect, req.ResponseMode, req.State)
		}
	}
}

// TestJARM_3_AuthorizationSignedResponseAlg: a client that registered an algorithm
// gets it; when the server's key has another one the response is a server error
// before the request is spent, and the profile's algorithm rules apply at the push.
func TestJARM_3_AuthorizationSignedResponseAlg(t *testing.T) {
	t.Run("the server's algorithm is used", func(t *testing.T) {
		d := newDomain(t)
		d.changeClient(confID, func(c *oauth.Client) { c.AuthorizationSignedResponseAlg = "ES256" })
		jarmClaims(t, jarmApprove(t, d, "jwt"))
	})
	t.Run("another algorithm is a server error that spends nothing", func(t *testing.T) {
		d := newDomain(t)
		uri := d.mustPush(d.client(confID), authParams(confID, "response_mode", "query.jwt"))
		d.changeClient(confID, func(c *oauth.Client) { c.AuthorizationSignedResponseAlg = "PS256" })
		_, err := d.approveResponse(d.mustResume(confID, uri), username)
		if e := wantErr(t, err, oauth.CodeServerError); e.Redirect {
			t.Error("an unsignable response cannot be redirected")
		}
		_, err = d.deny(d.mustResume(confID, uri))
		wantErr(t, err, oauth.CodeServerError)
		d.changeClient(confID, func(c *oauth.Client) { c.AuthorizationSignedResponseAlg = "" })
		resp, err := d.approveResponse(d.mustResume(confID, uri), username)
		if err != nil {
			t.Fatalf("the request was spent by the failed approval: %v", err)
		}
		jarmClaims(t, resp)
	})
	t.Run("FAPI 2.0 §5.4.1 RS256 is refused at the push", func(t *testing.T) {
		d := newDomain(t, withFAPI2())
		c := d.changeClient(jwtID, func(c *oauth.Client) { c.AuthorizationSignedResponseAlg = "RS256" })
		_, err := d.push(c, authParams(jwtID, "response_mode", "jwt"), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest)
		// Not for a plain response mode, where the algorithm plays no part.
		if _, err := d.push(c, authParams(jwtID), oauth.DPoP{}); err != nil {
			t.Errorf("query push: %v", err)
		}
	})
}
