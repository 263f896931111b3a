package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// flakySigner fails Sign or Verify with the given errors.
type flakySigner struct {
	oauth.Signer
	sign, verify, ready error
}

func (s *flakySigner) Sign(ctx context.Context, typ string, claims any) (string, error) {
	if s.sign != nil {
		return "", s.sign
	}
	return s.Signer.Sign(ctx, typ, claims)
}

func (s *flakySigner) Verify(ctx context.Context, token string) ([]byte, string, error) {
	if s.verify != nil {
		return nil, "", s.verify
	}
	return s.Signer.Verify(ctx, token)
}

func (s *flakySigner) Ready(ctx context.Context) error {
	if s.ready != nil {
		return s.ready
	}
	return s.Signer.Ready(ctx)
}

// TestOutages: docs/design.md decision 10, a storage outage is temporarily_unavailable
// (the client may retry) and any other unexpected failure is server_error; neither
// leaks its cause to the wire, and both keep it for the logs.
func TestOutages(t *testing.T) {
	key := mustECKey()
	conf := func(d *domain) *oauth.Client { return d.client(confID) }
	// The operations that several rows fail at different store calls.
	resume := func(d *domain, fail func()) error {
		uri := d.mustPush(conf(d), authParams(confID))
		fail()
		_, err := d.resume(confID, uri, false)
		return err
	}
	approve := func(d *domain, fail func()) error {
		tx := d.mustResume(confID, d.mustPush(conf(d), authParams(confID)))
		fail()
		_, err := d.approve(tx, username)
		return err
	}
	assertion := func(d *domain, fail func()) error {
		fail()
		_, err := d.authenticate(oauth.ClientCredentials{AssertionType: oauth.ClientAssertionType, Assertion: d.assertion(nil)})
		return err
	}
	exchangeAPI := func(d *domain, fail func()) error {
		code := d.code(conf(d), authParams(confID, "scope", "api"))
		fail()
		_, err := d.exchange(conf(d), tokenParams(code), oauth.DPoP{})
		return err
	}
	refresh := func(d *domain, fail func()) error {
		rt := d.tokens(conf(d), "scope", "api").RefreshToken
		fail()
		_, err := d.exchange(conf(d), refreshParams(rt), oauth.DPoP{})
		return err
	}
	revokeRefresh := func(d *domain, fail func()) error {
		rt := d.tokens(conf(d), "scope", "api").RefreshToken
		fail()
		return d.revoke(conf(d), url.Values{"token": {rt}})
	}
	introspectRefresh := func(d *domain, fail func()) error {
		rt := d.tokens(conf(d), "scope", "api").RefreshToken
		fail()
		_, err := d.introspect(conf(d), url.Values{"token": {rt}})
		return err
	}
	// replay makes the token request of params once, then fails the store and makes
	// it again.
	replay := func(params func(d *domain) url.Values) func(*domain, func()) error {
		return func(d *domain, fail func()) error {
			p := params(d)
			if _, err := d.exchange(conf(d), p, oauth.DPoP{}); err != nil {
				d.tb.Fatal(err)
			}
			fail()
			_, err := d.exchange(conf(d), p, oauth.DPoP{})
			return err
		}
	}
	for _, tc := range []struct {
		name   string
		method string
		err    error // oauth.ErrUnavailable unless set
		// run prepares the state, calls fail() and performs the operation.
		run  func(d *domain, fail func()) error
		code string // oauth.CodeTemporarilyUnavailable unless set
	}{
		{name: "Push CreatePushedRequest", method: "CreatePushedRequest", run: func(d *domain, fail func()) error {
			fail()
			_, err := d.push(conf(d), authParams(confID), oauth.DPoP{})
			return err
		}},
		{name: "Push DPoP UseOnce", method: "UseOnce", run: func(d *domain, fail func()) error {
			fail()
			_, err := d.push(conf(d), authParams(confID), parProof(d, key, nil))
			return err
		}},
		{name: "Push request object UseOnce", method: "UseOnce", run: func(d *domain, fail func()) error {
			fail()
			_, err := d.push(d.client(jwtID), url.Values{"request": {d.requestObject(nil)}}, oauth.DPoP{})
			return err
		}},
		{name: "Resume GetClient", method: "GetClient", run: resume},
		{name: "Resume GetPushedRequest", method: "GetPushedRequest", run: resume},
		{name: "StartDirect CreatePushedRequest", method: "CreatePushedRequest", run: func(d *domain, fail func()) error {
			fail()
			_, _, err := d.startDirect(authParams(confID))
			return err
		}},
		{name: "Login GetUser", method: "GetUser", run: func(d *domain, fail func()) error {
			fail()
			_, err := d.login(username, password)
			return err
		}},
		{name: "Approve GetUser", method: "GetUser", run: approve},
		{name: "Approve IssueCode", method: "IssueCode", run: approve},
		{name: "Approve IssueCode unexpected error is server_error", method: "IssueCode", err: errors.New("disk on fire"), code: oauth.CodeServerError, run: approve},
		{name: "AuthenticateClient secret GetClient", method: "GetClient", run: func(d *domain, fail func()) error {
			fail()
			_, err := d.authenticate(oauth.ClientCredentials{BasicUsed: true, BasicID: confID, BasicSecret: secret})
			return err
		}},
		{name: "AuthenticateClient assertion GetClient", method: "GetClient", run: assertion},
		{name: "AuthenticateClient assertion UseOnce", method: "UseOnce", run: assertion},
		{name: "Exchange ConsumeCode", method: "ConsumeCode", run: func(d *domain, fail func()) error {
			code := d.code(conf(d), authParams(confID))
			fail()
			_, err := d.exchange(conf(d), tokenParams(code), oauth.DPoP{})
			return err
		}},
		{name: "Exchange DPoP UseOnce", method: "UseOnce", run: func(d *domain, fail func()) error {
			code := d.code(conf(d), authParams(confID))
			fail()
			_, err := d.exchange(conf(d), tokenParams(code), d.dpop(key))
			return err
		}},
		{name: "Exchange CreateRefreshToken", method: "CreateRefreshToken", run: exchangeAPI},
		{name: "Exchange CreateRefreshToken of a grant revoked meanwhile is invalid_grant", method: "CreateRefreshToken", err: oauth.ErrNotFound, code: oauth.CodeInvalidGrant, run: exchangeAPI},
		{name: "Exchange code replay RevokeGrant", method: "RevokeGrant", run: replay(func(d *domain) url.Values {
			return tokenParams(d.code(conf(d), authParams(confID)))
		})},
		{name: "Refresh GetRefreshToken", method: "GetRefreshToken", run: refresh},
		{name: "Refresh GetGrant", method: "GetGrant", run: refresh},
		{name: "Refresh RotateRefreshToken", method: "RotateRefreshToken", run: refresh},
		{name: "Refresh RotateRefreshToken losing a race is invalid_grant", method: "RotateRefreshToken", err: oauth.ErrNotFound, code: oauth.CodeInvalidGrant, run: refresh},
		{name: "Refresh reuse RevokeGrant", method: "RevokeGrant", run: replay(func(d *domain) url.Values {
			return refreshParams(d.tokens(conf(d), "scope", "api").RefreshToken)
		})},
		{name: "Revoke GetRefreshToken", method: "GetRefreshToken", run: revokeRefresh},
		{name: "Revoke access token GetGrant", method: "GetGrant", run: func(d *domain, fail func()) error {
			at := d.tokens(conf(d), "scope", "api").AccessToken
			fail()
			return d.revoke(conf(d), url.Values{"token": {at}})
		}},
		{name: "Revoke RevokeGrant", method: "RevokeGrant", run: revokeRefresh},
		{name: "Introspect GetRefreshToken", method: "GetRefreshToken", run: introspectRefresh},
		{name: "Introspect refresh token GetGrant", method: "GetGrant", run: introspectRefresh},
		{name: "Introspect access token GetGrant", method: "GetGrant", run: func(d *domain, fail func()) error {
			at := d.tokens(conf(d), "scope", "api").AccessToken
			fail()
			_, err := d.introspect(conf(d), url.Values{"token": {at}})
			return err
		}},
		{name: "Userinfo GetGrant", method: "GetGrant", run: func(d *domain, fail func()) error {
			at := d.tokens(conf(d), "scope", "openid").AccessToken
			fail()
			_, err := d.userinfo("Bearer", at, oauth.DPoP{})
			return err
		}},
	} {
		t.Run("docs/design.md decision 10 "+tc.name, func(t *testing.T) {
			var f *oauthtest.Faulty
			d := newDomain(t, withStore(func(s oauth.Store) oauth.Store { f = oauthtest.NewFaulty(s); return f }))
			cause := tc.err
			if cause == nil {
				cause = oauth.ErrUnavailable
			}
			code := tc.code
			if code == "" {
				code = oauth.CodeTemporarilyUnavailable
			}
			err := tc.run(d, func() { f.Inject(oauthtest.Fault{Method: tc.method, Err: cause}) })
			e := wantErr(t, err, code)
			if code != oauth.CodeInvalidGrant && !errors.Is(e, cause) {
				t.Errorf("the cause is not kept for the logs: %v", e)
			}
			if code == oauth.CodeServerError && e.Description != "internal error" {
				t.Errorf("server_error description %q leaks the cause", e.Description)
			}
		})
	}
}

// TestSignerOutages: a key outage fails the token request before a code is spent,
// and an introspection, as temporarily_unavailable.
func TestSignerOutages(t *testing.T) {
	t.Run("docs/design.md decision 10 Ready failing leaves the code unspent", func(t *testing.T) {
		s := &flakySigner{Signer: staticSigner(t)}
		d := newDomain(t, withSigner(s))
		c := d.client(confID)
		code := d.code(c, authParams(confID))
		s.ready = fmt.Errorf("load keys: %w", oauth.ErrUnavailable)
		_, err := d.exchange(c, tokenParams(code), oauth.DPoP{})
		wantErr(t, err, oauth.CodeTemporarilyUnavailable)
		s.ready = nil
		if resp, err := d.exchange(c, tokenParams(code), oauth.DPoP{}); err != nil || resp.AccessToken == "" {
			t.Fatalf("retry after the outage: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		sign error
		code string
	}{
		{name: "docs/design.md decision 10 Sign unavailable is temporarily_unavailable", sign: oauth.ErrUnavailable, code: oauth.CodeTemporarilyUnavailable},
		{name: "docs/design.md decision 10 Sign failing otherwise is server_error", sign: errors.New("hsm says no"), code: oauth.CodeServerError},
	} {
		for _, scope := range []string{"api", "openid"} {
			t.Run(tc.name+" ("+scope+")", func(t *testing.T) {
				s := &flakySigner{Signer: staticSigner(t)}
				d := newDomain(t, withSigner(s))
				c := d.client(confID)
				code := d.code(c, authParams(confID, "scope", scope))
				if scope == "openid" {
					// The access token signs; the ID token fails.
					s.Signer = &failSecond{Signer: staticSigner(t), err: tc.sign}
				} else {
					s.sign = tc.sign
				}
				_, err := d.exchange(c, tokenParams(code), oauth.DPoP{})
				wantErr(t, err, tc.code)
			})
		}
	}
	t.Run("docs/design.md decision 10 Verify unavailable at introspection is temporarily_unavailable", func(t *testing.T) {
		s := &flakySigner{Signer: staticSigner(t)}
		d := newDomain(t, withSigner(s))
		at := d.tokens(d.client(confID), "scope", "api").AccessToken
		s.verify = oauth.ErrUnavailable
		_, err := d.introspect(d.client(confID), url.Values{"token": {at}})
		wantErr(t, err, oauth.CodeTemporarilyUnavailable)
	})
}

// failSecond signs once and then fails with err.
type failSecond struct {
	oauth.Signer
	n   int
	err error
}

func (s *failSecond) Sign(ctx context.Context, typ string, claims any) (string, error) {
	s.n++
	if s.n > 1 {
		return "", s.err
	}
	return s.Signer.Sign(ctx, typ, claims)
}
