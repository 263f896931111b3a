package oauth_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// Resource servers registered for conf-client in the tests below.
const (
	apiRS     = "https://api.example.com/"
	paymentRS = "https://pay.example.com/v1"
)

// withResources registers apiRS and paymentRS for conf-client and jwt-client.
func withResources(d *domain) {
	for _, id := range []string{confID, jwtID} {
		d.changeClient(id, func(c *oauth.Client) { c.Resources = []string{apiRS, paymentRS} })
	}
}

// resourceParams is authParams of conf-client with one resource parameter per value.
func resourceParams(id string, resources []string, kv ...string) url.Values {
	p := authParams(id, kv...)
	if len(resources) > 0 {
		p["resource"] = resources
	}
	return p
}

// audOf is the access token's aud as a list (RFC 7519 §4.1.3: a string or an array).
func audOf(tb testing.TB, token string) []string {
	tb.Helper()
	switch aud := claimsOf(tb, token)["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			out = append(out, a.(string))
		}
		return out
	default:
		tb.Fatalf("aud = %v (%T)", aud, aud)
		return nil
	}
}

// TestResource_Authorization: RFC 8707 §2 at the authorization request (pushed or
// direct) and the code exchange: what is accepted, and what the access token is for.
func TestResource_Authorization(t *testing.T) {
	for _, tc := range []struct {
		name      string
		resources []string // the authorization request's resource parameters
		token     []string // the token request's
		code      string   // error at the push (or, with token set, at the exchange)
		aud       []string
	}{
		{name: "RFC 8707 §2 a registered resource is the access token's aud (RFC 9700 §2.3)", resources: []string{apiRS}, aud: []string{apiRS}},
		{name: "RFC 8707 §2 multiple resource parameters make an aud of each", resources: []string{apiRS, paymentRS}, aud: []string{apiRS, paymentRS}},
		{name: "RFC 8707 §2 a resource repeated counts once", resources: []string{apiRS, apiRS}, aud: []string{apiRS}},
		{name: "RFC 8707 §2 the server's own audience needs no registration", resources: []string{issuer}, aud: []string{issuer}},
		{name: "RFC 8707 §2 no resource keeps the server's own audience, resources registered or not", aud: []string{issuer}},
		{name: "RFC 8707 §2 a resource not registered for the client is invalid_target", resources: []string{"https://other.example.com/"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2 one unregistered resource among registered ones is invalid_target", resources: []string{apiRS, "https://other.example.com/"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2 a relative resource is invalid_target", resources: []string{"/api"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2 a resource with a fragment is invalid_target", resources: []string{apiRS + "#x"}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2 more than ten resources are invalid_target", resources: slices.Repeat([]string{apiRS}, 11), code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2.2 the token request narrows the resources", resources: []string{apiRS, paymentRS}, token: []string{paymentRS}, aud: []string{paymentRS}},
		{name: "RFC 8707 §2.2 the token request repeats all of them", resources: []string{apiRS, paymentRS}, token: []string{paymentRS, apiRS}, aud: []string{paymentRS, apiRS}},
		{name: "RFC 8707 §2.2 the token request cannot widen to another registered resource", resources: []string{apiRS}, token: []string{paymentRS}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2.2 a grant without resources cannot be widened at the token endpoint", token: []string{apiRS}, code: oauth.CodeInvalidTarget},
		{name: "RFC 8707 §2.2 a grant without resources may name the server's own audience", token: []string{issuer}, aud: []string{issuer}},
		{name: "RFC 8707 §2 a malformed resource at the token endpoint is invalid_target", resources: []string{apiRS}, token: []string{"api"}, code: oauth.CodeInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			withResources(d)
			c := d.client(confID)
			params := resourceParams(confID, tc.resources, "scope", "api")
			res, err := d.push(c, params, oauth.DPoP{})
			if tc.token == nil && wantOutcome(t, tc.code, err, res != nil, res) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The direct authorization request validates the same way.
			if tc.token == nil {
				if _, _, derr := d.startDirect(params); derr != nil {
					t.Errorf("the same request at /authorize: %v", derr)
				}
			}
			code := d.mustApprove(d.mustResume(confID, res.RequestURI)).Get("code")
			tp := tokenParams(code)
			if tc.token != nil {
				tp["resource"] = tc.token
			}
			resp, err := d.exchange(c, tp, oauth.DPoP{})
			if wantOutcome(t, tc.code, err, resp != nil, resp) {
				return
			}
			if got := audOf(t, resp.AccessToken); !slices.Equal(got, tc.aud) {
				t.Errorf("aud = %v, want %v", got, tc.aud)
			}
			// RFC 7662 §2.2: introspection shows the audience.
			in, err := d.introspect(c, url.Values{"token": {resp.AccessToken}})
			if err != nil {
				t.Fatal(err)
			}
			want := any(tc.aud[0])
			if len(tc.aud) > 1 {
				want = tc.aud
			}
			if !jsonEqual(in["aud"], want) {
				t.Errorf("introspection aud = %v, want %v", in["aud"], want)
			}
		})
	}
}

// TestResource_StartDirect: a non-pushed request is held to the same rule.
func TestResource_StartDirect(t *testing.T) {
	d := newDomain(t)
	withResources(d)
	_, _, err := d.startDirect(resourceParams(confID, []string{"https://other.example.com/"}))
	wantErr(t, err, oauth.CodeInvalidTarget)
}

// TestResource_Refresh: RFC 8707 §2.2, the refresh request may name some of the
// grant's resources, never others; without resource it gets all of them again.
func TestResource_Refresh(t *testing.T) {
	d := newDomain(t)
	withResources(d)
	c := d.client(confID)
	code := d.code(c, resourceParams(confID, []string{apiRS, paymentRS}, "scope", "api"))
	first, err := d.exchange(c, form(tokenParams(code), "resource", apiRS), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	if got := audOf(t, first.AccessToken); !slices.Equal(got, []string{apiRS}) {
		t.Fatalf("aud = %v", got)
	}
	rt := first.RefreshToken
	step := func(name string, resources []string, wantAud []string, wantCode string) {
		t.Run(name, func(t *testing.T) {
			p := refreshParams(rt)
			if resources != nil {
				p["resource"] = resources
			}
			resp, err := d.exchange(c, p, oauth.DPoP{})
			if wantOutcome(t, wantCode, err, resp != nil, resp) {
				return
			}
			rt = resp.RefreshToken
			if got := audOf(t, resp.AccessToken); !slices.Equal(got, wantAud) {
				t.Errorf("aud = %v, want %v", got, wantAud)
			}
		})
	}
	step("RFC 8707 §2.2 a narrowed code exchange does not narrow the grant", nil, []string{apiRS, paymentRS}, "")
	step("RFC 8707 §2.2 refresh narrows to one resource", []string{paymentRS}, []string{paymentRS}, "")
	step("RFC 8707 §2.2 refresh cannot widen to the server's own audience", []string{issuer}, nil, oauth.CodeInvalidTarget)
	step("RFC 8707 §2.2 refresh cannot widen to an unknown resource", []string{"https://other.example.com/"}, nil, oauth.CodeInvalidTarget)
	// The refused refreshes spent nothing: the same refresh token still works.
	step("RFC 8707 §2.2 a refused refresh leaves the refresh token usable", []string{apiRS}, []string{apiRS}, "")
	d.changeClient(confID, func(c *oauth.Client) { c.Resources = []string{apiRS} })
	c = d.client(confID)
	step("RFC 8707 §2 a resource no longer registered for the client is not issued again", nil, nil, oauth.CodeInvalidTarget)
	step("RFC 8707 §2 the resources still registered are", []string{apiRS}, []string{apiRS}, "")
}

// TestResource_RequestObject: RFC 9101 with RFC 8707, resource as a string or an
// array of strings in a request object.
func TestResource_RequestObject(t *testing.T) {
	for _, tc := range []struct {
		name     string
		resource any
		code     string
		want     []string
	}{
		{name: "RFC 8707 §2 one resource as a string claim", resource: apiRS, want: []string{apiRS}},
		{name: "RFC 8707 §2 several resources as an array claim", resource: []string{apiRS, paymentRS}, want: []string{apiRS, paymentRS}},
		{name: "RFC 8707 §2 an array with a non-string is invalid_request_object", resource: []any{apiRS, 1}, code: oauth.CodeInvalidRequestObject},
		{name: "RFC 8707 §2 an unregistered resource in a request object is invalid_target", resource: []string{"https://other.example.com/"}, code: oauth.CodeInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			withResources(d)
			raw := d.requestObject(map[string]any{"resource": tc.resource, "client_id": jwtID})
			res, err := d.push(d.client(jwtID), url.Values{"request": {raw}, "client_id": {jwtID}}, oauth.DPoP{})
			if wantOutcome(t, tc.code, err, res != nil, res) {
				return
			}
			if got := d.mustResume(jwtID, res.RequestURI).Request.Request.Resources; !slices.Equal(got, tc.want) {
				t.Errorf("resources = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestResource_Userinfo: the userinfo endpoint is the server's own resource (RFC 9700
// §2.3, audience restriction): a token for other resources only is invalid_token there
// (RFC 6750 §3.1); one that names the server's audience too is accepted.
func TestResource_Userinfo(t *testing.T) {
	for _, tc := range []struct {
		name      string
		resources []string
		code      string
	}{
		{name: "RFC 9700 §2.3 a token for another resource only is invalid_token at userinfo", resources: []string{apiRS}, code: oauth.CodeInvalidToken},
		{name: "RFC 9700 §2.3 a token for the server's audience and another works at userinfo", resources: []string{apiRS, issuer}},
		{name: "RFC 9700 §2.3 a token without resources works at userinfo", resources: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDomain(t)
			withResources(d)
			c := d.client(confID)
			code := d.code(c, resourceParams(confID, tc.resources, "scope", "openid"))
			resp, err := d.exchange(c, tokenParams(code), oauth.DPoP{})
			if err != nil {
				t.Fatal(err)
			}
			info, err := d.userinfo("Bearer", resp.AccessToken, oauth.DPoP{})
			if wantOutcome(t, tc.code, err, info != nil, info) {
				return
			}
			if info["sub"] != subject {
				t.Errorf("userinfo = %v", info)
			}
		})
	}
}

// TestResource_ValidResource is RFC 8707 §2's syntax rule on its own.
func TestResource_ValidResource(t *testing.T) {
	for v, want := range map[string]bool{
		"https://api.example.com/":         true,
		"urn:example:resource":             true,
		"https://api.example.com/x?tenant": true,
		"/relative":                        false,
		"api.example.com":                  false,
		"https://api.example.com/#":        false,
		"https://api.example.com/#frag":    false,
		"":                                 false,
		"https://a b/":                     false,
	} {
		if got := oauth.ValidResource(v); got != want {
			t.Errorf("ValidResource(%q) = %v, want %v", v, got, want)
		}
	}
}
