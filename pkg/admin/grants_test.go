package admin_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// issueGrant stores a live grant of sub through IssueCode, as an approval does.
func issueGrant(t *testing.T, s *dynamo.Store, sub string) *oauth.Grant {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	r := oauthtest.PushedRequest(t, now)
	if err := s.CreatePushedRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	code := oauthtest.Code(t, now)
	code.Subject = sub
	g := oauthtest.Grant(t, now)
	g.ID, g.Subject = code.GrantID, sub
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, g); err != nil {
		t.Fatal(err)
	}
	return g
}

// The grants of a user are found through the grants-by-subject
// index, listed without their claims, and revoked all at once or one by one.
func TestGrants_ListAndRevokeByUser(t *testing.T) {
	h := newHarness(t)
	h.run(password+"\n", "user", "create", "alice").ok(t, nil)
	alice, err := h.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	mine := []*oauth.Grant{issueGrant(t, h.store, alice.Subject()), issueGrant(t, h.store, alice.Subject())}
	other := issueGrant(t, h.store, "someone-else")

	var list []map[string]any
	r := h.run("", "grants", "list", "alice")
	r.ok(t, &list)
	if len(list) != 2 || list[0]["sub"] != alice.Subject() || list[0]["claims"] != nil {
		t.Fatalf("grants list alice = %s", r.stdout)
	}

	var out struct {
		Revoked []string `json:"revoked"`
	}
	h.run("", "user", "revoke-grants", "alice").ok(t, &out)
	if len(out.Revoked) != 2 {
		t.Errorf("user revoke-grants revoked %v, want both grants", out.Revoked)
	}
	for _, g := range mine {
		if got, err := h.store.GetGrant(t.Context(), g.ID); err != nil || got.RevokedAt == nil {
			t.Errorf("grant %s after revoke-grants: %+v, %v", g.ID, got, err)
		}
	}
	if got, err := h.store.GetGrant(t.Context(), other.ID); err != nil || got.RevokedAt != nil {
		t.Errorf("another user's grant was touched: %+v, %v", got, err)
	}
	h.run("", "user", "revoke-grants", "alice").ok(t, &out)
	if len(out.Revoked) != 0 {
		t.Errorf("a second revoke-grants revoked %v again", out.Revoked)
	}

	h.run("", "grants", "revoke", other.ID).ok(t, nil)
	if got, err := h.store.GetGrant(t.Context(), other.ID); err != nil || got.RevokedAt == nil {
		t.Errorf("grants revoke left %+v, %v", got, err)
	}
	h.run("", "grants", "revoke", "no-such-grant").fails(t, admin.ExitError, `grant "no-such-grant" not found`)
	h.run("", "grants", "list", "nobody").fails(t, admin.ExitError, `user "nobody" not found`)
	h.run("", "user", "revoke-grants", "nobody").fails(t, admin.ExitError, `user "nobody" not found`)
}

// rememberConsent stores the remembered consent of sub for clientID, as an approval
// on the consent page does (docs/design.md decision 32).
func rememberConsent(t *testing.T, s *dynamo.Store, sub, clientID string) string {
	t.Helper()
	now := time.Now().UTC()
	key := oauth.ConsentKey(sub, clientID)
	if err := s.RememberConsent(t.Context(), &oauth.Consent{Key: key, Subject: sub, ClientID: clientID,
		Scopes: []string{"openid"}, GrantedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return key
}

// Revoking a grant forgets the user's remembered consent for the grant's client, so
// the next authorization shows the consent page again; revoking a user's grants
// forgets the consents of every client the user has grants of.
func TestGrants_RevokeForgetsTheRememberedConsent(t *testing.T) {
	h := newHarness(t)
	g := issueGrant(t, h.store, "sub-a")
	key := rememberConsent(t, h.store, "sub-a", g.ClientID)
	otherKey := rememberConsent(t, h.store, "sub-b", g.ClientID)
	h.run("", "grants", "revoke", g.ID).ok(t, nil)
	if _, err := h.store.GetConsent(t.Context(), key); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the consent after grants revoke: %v, want not found", err)
	}
	if _, err := h.store.GetConsent(t.Context(), otherKey); err != nil {
		t.Errorf("another user's consent after grants revoke: %v", err)
	}

	h.run(password+"\n", "user", "create", "alice").ok(t, nil)
	alice, err := h.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ga := issueGrant(t, h.store, alice.Subject())
	aliceKey := rememberConsent(t, h.store, alice.Subject(), ga.ClientID)
	h.run("", "user", "revoke-grants", "alice").ok(t, nil)
	if _, err := h.store.GetConsent(t.Context(), aliceKey); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("alice's consent after user revoke-grants: %v, want not found", err)
	}
}
