package oauth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// consentTx approves a request of confID with params on the consent page, as the
// handler does: the code, then RememberConsent. It returns the user as signed in.
func (d *domain) consentGiven(params ...string) oauth.SignedIn {
	d.tb.Helper()
	tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, params...)))
	if _, err := d.approve(tx, username); err != nil {
		d.tb.Fatalf("approve: %v", err)
	}
	user := d.signedIn()
	if err := d.svc.RememberConsent(d.ctx, tx, user.Subject); err != nil {
		d.tb.Fatalf("RememberConsent: %v", err)
	}
	return user
}

func (d *domain) signedIn() oauth.SignedIn {
	d.tb.Helper()
	u, err := d.store.GetUser(d.ctx, username)
	if err != nil {
		d.tb.Fatal(err)
	}
	return oauth.SignedInAs(u)
}

func (d *domain) remembered(user oauth.SignedIn, params ...string) bool {
	d.tb.Helper()
	tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID, params...)))
	ok, err := d.svc.ConsentRemembered(d.ctx, tx, user)
	if err != nil {
		d.tb.Fatalf("ConsentRemembered: %v", err)
	}
	return ok
}

func TestConsentRemembered_OIDCCore_3_1_2_1(t *testing.T) {
	t.Run("no consent given: not remembered", func(t *testing.T) {
		d := newDomain(t)
		if d.remembered(d.signedIn()) {
			t.Fatal("remembered without a consent")
		}
	})
	t.Run("OIDC Core §3.1.2.1 scopes within the approved ones skip the page", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven()
		if !d.remembered(user) || !d.remembered(user, "scope", "openid email") {
			t.Fatal("the approved scopes, or fewer, are not remembered")
		}
	})
	for name, params := range map[string][]string{
		"OIDC Core §3.1.2.1 prompt=consent shows the page":                    {"prompt", "consent"},
		"a scope not approved shows the page":                                 {"scope", "openid profile email api"},
		"OIDC Core §11 offline_access is not covered by a consent without it": {"scope", "openid offline_access"},
		"RFC 9396 authorization_details are always shown":                     {"authorization_details", paymentRAR},
	} {
		t.Run(name, func(t *testing.T) {
			d := newDomain(t)
			if d.remembered(d.consentGiven(), params...) {
				t.Fatalf("remembered for %v", params)
			}
		})
	}
	t.Run("OIDC Core §11 offline_access approved before is covered", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven("scope", "openid offline_access")
		if !d.remembered(user, "scope", "openid offline_access") {
			t.Fatal("an approved offline_access is not remembered")
		}
	})
	t.Run("RFC 9396 an approval with authorization_details is not remembered", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven("authorization_details", paymentRAR)
		if d.remembered(user) {
			t.Fatal("remembered from a RAR approval")
		}
	})
	t.Run("a client registered with consent always is never remembered", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven()
		d.changeClient(confID, func(c *oauth.Client) { c.Consent = oauth.ConsentAlways })
		d.advance(time.Hour) // past the client cache
		if d.remembered(user) {
			t.Fatal("remembered for a consent: always client")
		}
	})
	t.Run("a consent past GRANT_LIFETIME is not remembered", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven()
		d.advance(30*24*time.Hour + time.Second)
		if d.remembered(user) {
			t.Fatal("remembered past GRANT_LIFETIME")
		}
	})
	t.Run("a user cut off since the consent (tokens_valid_after) must consent again", func(t *testing.T) {
		d := newDomain(t)
		d.consentGiven()
		d.advance(time.Minute)
		u, _ := d.store.GetUser(d.ctx, username)
		u.TokensValidAfter = d.now()
		d.putUser(u)
		d.advance(time.Minute)
		if d.remembered(d.signedIn()) {
			t.Fatal("remembered across a cut-off")
		}
	})
	t.Run("a forgotten consent (pargate grants revoke) shows the page", func(t *testing.T) {
		d := newDomain(t)
		user := d.consentGiven()
		if err := oauth.ForgetConsent(d.ctx, d.store, user.Subject, confID); err != nil {
			t.Fatal(err)
		}
		if d.remembered(user) {
			t.Fatal("remembered after ForgetConsent")
		}
	})
	t.Run("another user's consent does not count", func(t *testing.T) {
		d := newDomain(t)
		d.consentGiven()
		other := d.signedIn()
		other.Subject, other.Username = "someone-else", "mallory"
		if d.remembered(other) {
			t.Fatal("remembered for another subject")
		}
	})
	t.Run("a store outage is an error, never not-remembered", func(t *testing.T) {
		var faulty *oauthtest.Faulty
		d := newDomain(t, func(s *setup) {
			s.wrap = func(st oauth.Store) oauth.Store { faulty = oauthtest.NewFaulty(st); return faulty }
		})
		tx := d.mustResume(confID, d.mustPush(d.client(confID), authParams(confID)))
		faulty.FailMethod(oauthtest.MethodGetConsent, oauthtest.Before)
		if _, err := d.svc.ConsentRemembered(d.ctx, tx, d.signedIn()); err == nil || errors.Is(err, oauth.ErrNotFound) {
			t.Fatalf("ConsentRemembered in an outage = %v, want an error", err)
		}
	})
}

func TestCheckConsentMetadata(t *testing.T) {
	for v, ok := range map[string]bool{"": true, "always": true, "never": false, "Always": false} {
		if err := oauth.CheckConsentMetadata(&oauth.Client{Consent: v}); (err == nil) != ok {
			t.Errorf("consent %q: %v", v, err)
		}
	}
}
