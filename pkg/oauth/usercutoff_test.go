package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// deletable is a store whose user can be deleted (the memory store has no delete).
type deletable struct {
	oauth.Store
	deleted atomic.Bool
}

func (s *deletable) GetUser(ctx context.Context, name string) (*oauth.User, error) {
	if s.deleted.Load() {
		return nil, oauth.ErrNotFound
	}
	return s.Store.GetUser(ctx, name)
}

// TestUserCutOff_Rules: a grant's user is checked on every refresh, userinfo and
// introspection, so a deleted, disabled, re-created or cut-off user's tokens stop
// working at the next request (node-oidc-provider fails a refresh of a gone account;
// Keycloak has a not-before time). Every row starts from a conf-client grant of
// "openid profile offline_access api", then changes the user.
func TestUserCutOff_Rules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *domain, st *deletable, u *oauth.User)
		cut    bool
	}{
		{name: "OIDC Core §5.3 an unchanged user keeps working", change: func(*domain, *deletable, *oauth.User) {}},
		{name: "OIDC Core §5.3 tokens_valid_after before the grant keeps it working", change: func(d *domain, _ *deletable, u *oauth.User) {
			u.TokensValidAfter = d.now().Add(-time.Second)
			d.putUser(u)
		}},
		{name: "RFC 6749 §5.2 a disabled user is cut off", cut: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			u.Disabled = true
			d.putUser(u)
		}},
		{name: "RFC 6749 §5.2 a deleted user is cut off", cut: true, change: func(_ *domain, st *deletable, _ *oauth.User) {
			st.deleted.Store(true)
		}},
		{name: "OIDC Core §2 a deleted and re-created username is another subject", cut: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			u.Sub = "another-random-sub"
			d.putUser(u)
		}},
		{name: "RFC 6749 §5.2 tokens_valid_after moved to now (password change) cuts the grant off", cut: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			d.advance(time.Second)
			u.TokensValidAfter = d.now()
			d.putUser(u)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &deletable{}
			d := newDomain(t, withStore(func(s oauth.Store) oauth.Store { st.Store = s; return st }))
			first := d.tokens(d.client(confID), "scope", "openid profile offline_access api")
			u, err := d.store.GetUser(d.ctx, username)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(d, st, u)

			info, uerr := d.userinfo("Bearer", first.AccessToken, oauth.DPoP{})
			atIntro, aerr := d.introspect(d.client(rsID), url.Values{"token": {first.AccessToken}})
			rtIntro, rerr := d.introspect(d.client(rsID), url.Values{"token": {first.RefreshToken}})
			refreshed, ferr := d.exchange(d.client(confID), refreshParams(first.RefreshToken), oauth.DPoP{})
			if aerr != nil || rerr != nil {
				t.Fatalf("introspect: %v, %v", aerr, rerr)
			}
			if !tc.cut {
				if uerr != nil || info["sub"] != subject || ferr != nil || refreshed.AccessToken == "" ||
					atIntro["active"] != true || rtIntro["active"] != true {
					t.Fatalf("userinfo %v %v, introspection %v %v, refresh %v", info, uerr, atIntro, rtIntro, ferr)
				}
				return
			}
			// OIDC Core §5.3.3 / RFC 6750 §3.1: invalid_token at userinfo.
			wantErr(t, uerr, oauth.CodeInvalidToken)
			// RFC 7662 §2.2: {"active": false} and nothing else.
			for _, intro := range []map[string]any{atIntro, rtIntro} {
				if len(intro) != 1 || intro["active"] != false {
					t.Errorf("introspection = %v, want only active=false", intro)
				}
			}
			// RFC 6749 §5.2: invalid_grant at refresh.
			if refreshed != nil {
				t.Fatalf("refresh succeeded: %+v", refreshed)
			}
			wantErr(t, ferr, oauth.CodeInvalidGrant)
		})
	}
}

// TestUserCutOff_StoreOutageIsNotACutOff: a failed user lookup is the store's
// outage, not a reason to answer invalid_grant (which makes a client drop its
// refresh token) or inactive.
func TestUserCutOff_StoreOutageIsNotACutOff(t *testing.T) {
	st := &failingUsers{}
	d := newDomain(t, withStore(func(s oauth.Store) oauth.Store { st.Store = s; return st }))
	first := d.tokens(d.client(confID), "scope", "openid profile offline_access api")
	st.fail.Store(true)
	if _, err := d.exchange(d.client(confID), refreshParams(first.RefreshToken), oauth.DPoP{}); err == nil {
		t.Fatal("refresh succeeded without the user")
	} else if e := (*oauth.Error)(nil); errors.As(err, &e) && e.Code == oauth.CodeInvalidGrant {
		t.Fatalf("refresh during an outage = %v, want a server error", err)
	}
	if intro, err := d.introspect(d.client(rsID), url.Values{"token": {first.AccessToken}}); err == nil {
		t.Fatalf("introspection during an outage = %v, want an error", intro)
	}
	if _, err := d.userinfo("Bearer", first.AccessToken, oauth.DPoP{}); err == nil {
		t.Fatal("userinfo succeeded without the user")
	} else if e := (*oauth.Error)(nil); errors.As(err, &e) && e.Code == oauth.CodeInvalidToken {
		t.Fatalf("userinfo during an outage = %v, want a server error", err)
	}
}

type failingUsers struct {
	oauth.Store
	fail atomic.Bool
}

func (s *failingUsers) GetUser(ctx context.Context, name string) (*oauth.User, error) {
	if s.fail.Load() {
		return nil, errors.New("table unreachable")
	}
	return s.Store.GetUser(ctx, name)
}

// TestNewSubject: OIDC Core §2 "never reassigned": random, URL-safe, 128 bits.
func TestNewSubject(t *testing.T) {
	a, err := oauth.NewSubject()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := oauth.NewSubject()
	if a == b || len(a) != 22 {
		t.Errorf("NewSubject = %q, %q", a, b)
	}
	u := &oauth.User{Username: "bob", Sub: a, Claims: map[string]any{"sub": "claimed"}}
	if u.Subject() != a {
		t.Errorf("Subject() = %q, want the stored sub %q", u.Subject(), a)
	}
}

// TestClientCutOff_RFC7662_2_2_ADisabledClientsTokensAreInactive: disabling a client
// ends the tokens it was issued at once, not only its next authentication: its access
// and refresh tokens are inactive at introspection (RFC 7662 §2.2) and its access token
// is invalid_token at userinfo (RFC 6750 §3.1). Enabled again, they work again.
func TestClientCutOff_RFC7662_2_2_ADisabledClientsTokensAreInactive(t *testing.T) {
	d := newDomain(t)
	first := d.tokens(d.client(confID), "scope", "openid profile offline_access api")
	check := func(active bool) {
		t.Helper()
		_, uerr := d.userinfo("Bearer", first.AccessToken, oauth.DPoP{})
		atIntro, aerr := d.introspect(d.client(rsID), url.Values{"token": {first.AccessToken}})
		rtIntro, rerr := d.introspect(d.client(rsID), url.Values{"token": {first.RefreshToken}})
		if aerr != nil || rerr != nil {
			t.Fatalf("introspect: %v, %v", aerr, rerr)
		}
		if atIntro["active"] != active || rtIntro["active"] != active || (uerr == nil) != active {
			t.Fatalf("client enabled %v: access token active %v, refresh token active %v, userinfo %v",
				active, atIntro["active"], rtIntro["active"], uerr)
		}
		if !active {
			var e *oauth.Error
			if !errors.As(uerr, &e) || e.Code != oauth.CodeInvalidToken {
				t.Errorf("userinfo error = %v, want invalid_token", uerr)
			}
		}
	}
	check(true)
	d.changeClient(confID, func(c *oauth.Client) { c.Disabled = true })
	check(false)
	d.changeClient(confID, func(c *oauth.Client) { c.Disabled = false })
	check(true)
}
