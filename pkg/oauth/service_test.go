package oauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestErrors: the protocol error type.
func TestErrors(t *testing.T) {
	cause := errors.New("conditional check failed")
	e := oauth.InvalidGrant(`bad "code" \ here… é` + "\x01").WithCause(cause)
	// RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only.
	if e.Description != `bad 'code' / here. ??` {
		t.Errorf("description = %q", e.Description)
	}
	if e.Error() != "invalid_grant: bad 'code' / here. ??: conditional check failed" || !errors.Is(e, cause) {
		t.Errorf("Error() = %q", e.Error())
	}
	if got := (&oauth.Error{Code: oauth.CodeServerError}).Error(); got != "server_error" {
		t.Errorf("Error() without description = %q", got)
	}
	for code, err := range map[string]*oauth.Error{
		oauth.CodeLoginRequired:     oauth.LoginRequired("x"),
		oauth.CodeInvalidRequest:    oauth.InvalidRequest("x"),
		oauth.CodeInvalidClient:     oauth.InvalidClient("x"),
		oauth.CodeInvalidScope:      oauth.InvalidScope("x"),
		oauth.CodeAccessDenied:      oauth.AccessDenied("x"),
		oauth.CodeInvalidRequestURI: oauth.InvalidRequestURI("x"),
	} {
		if err.Code != code || err.Description != "x" || err.Redirect {
			t.Errorf("%s constructor = %+v", code, err)
		}
	}
	// RFC 6749 §3.1: long parameter names are cut in descriptions.
	d := newDomain(t)
	params := authParams(confID)
	params[strings.Repeat("n", 60)] = []string{"1", "2"}
	_, err := d.push(d.client(confID), params, oauth.DPoP{})
	if e := wantErr(t, err, oauth.CodeInvalidRequest); !strings.Contains(e.Description, strings.Repeat("n", 40)+".") || strings.Contains(e.Description, strings.Repeat("n", 41)) {
		t.Errorf("description = %q", e.Description)
	}
}

// keysFunc is a ClientKeys resolver (as for jwks_uri clients).
type keysFunc func(context.Context, *oauth.Client) (*jose.JSONWebKeySet, error)

func (f keysFunc) ClientKeys(ctx context.Context, c *oauth.Client) (*jose.JSONWebKeySet, error) {
	return f(ctx, c)
}

// TestWithClientKeys: RFC 7591 §2 jwks_uri clients get their keys from the injected
// resolver, not from registered jwks.
func TestWithClientKeys(t *testing.T) {
	var asked []string
	resolver := keysFunc(func(_ context.Context, c *oauth.Client) (*jose.JSONWebKeySet, error) {
		asked = append(asked, c.ID)
		if c.JWKSURI != "https://client.example.org/jwks" {
			return nil, errors.New("unreachable jwks_uri")
		}
		return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &clientKey().PublicKey, KeyID: "ck1"}}}, nil
	})
	d := newDomain(t, withOption(oauth.WithClientKeys(resolver)))
	d.changeClient(jwtID, func(c *oauth.Client) { c.JWKS, c.JWKSURI = nil, "https://client.example.org/jwks" })
	c, err := d.authenticate(oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil)})
	if err != nil || c.ID != jwtID || len(asked) != 1 {
		t.Fatalf("authenticate = %v %v (resolver asked for %v)", c, err, asked)
	}
	d.changeClient(jwtID, func(c *oauth.Client) { c.JWKSURI = "https://elsewhere.example/jwks" })
	_, err = d.authenticate(oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil)})
	wantErr(t, err, oauth.CodeInvalidClient)
}

// TestClientMetadata: defaults of RFC 7591 §2 client metadata.
func TestClientMetadata(t *testing.T) {
	c := &oauth.Client{TokenEndpointAuthMethod: oauth.AuthNone}
	if !c.Public() || !c.AllowsGrant(oauth.GrantAuthorizationCode) || c.AllowsGrant(oauth.GrantRefreshToken) {
		t.Errorf("defaults: public %v code %v refresh %v", c.Public(), c.AllowsGrant(oauth.GrantAuthorizationCode), c.AllowsGrant(oauth.GrantRefreshToken))
	}
	c = &oauth.Client{TokenEndpointAuthMethod: oauth.AuthClientSecretBasic, GrantTypes: []string{oauth.GrantRefreshToken}}
	if c.Public() || c.AllowsGrant(oauth.GrantAuthorizationCode) || !c.AllowsGrant(oauth.GrantRefreshToken) {
		t.Error("registered grant_types are not honoured")
	}
	// RFC 8252 §7.3: loopback literals and localhost, never names that look like them.
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "127.0.0.1.example.com": false, "example.com": false} {
		if oauth.IsLoopback(host) != want {
			t.Errorf("IsLoopback(%q) = %v", host, !want)
		}
	}
}
