package oauth_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// Brokered login (issue 13; docs/design.md decision 35) in the domain: account links,
// just-in-time users, claim mapping, the ID token's amr, acr and idp.

const idpID = "corp"

func withFederation(d *domain, p *oauth.IdentityProvider) {
	d.tb.Helper()
	if err := d.store.PutIdentityProvider(d.ctx, p); err != nil {
		d.tb.Fatal(err)
	}
}

func newFederatedDomain(tb testing.TB, providers ...*oauth.IdentityProvider) *domain {
	tb.Helper()
	d := newDomain(tb)
	// The same configuration and store, with the store's providers and links.
	d.svc = oauth.NewService(d.svc.Config(), d.store, staticSigner(tb), oauth.WithFederation(d.store, d.store))
	if len(providers) == 0 {
		providers = []*oauth.IdentityProvider{{ID: idpID, DisplayName: "Corp", Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true}}
	}
	for _, p := range providers {
		withFederation(d, p)
	}
	return d
}

func (d *domain) provider(id string) *oauth.IdentityProvider {
	d.tb.Helper()
	p, err := d.store.GetIdentityProvider(d.ctx, id)
	if err != nil {
		d.tb.Fatal(err)
	}
	return p
}

func upstreamID(sub string, claims map[string]any) *oauth.UpstreamIdentity {
	if claims == nil {
		claims = map[string]any{}
	}
	claims["sub"] = sub
	return &oauth.UpstreamIdentity{ProviderID: idpID, Issuer: "https://idp.example.com", Subject: sub, Claims: claims}
}

func TestBrokeredSignIn_Issue13Accounts(t *testing.T) {
	t.Run("issue 13 §4: the first login creates a local user with its own random sub; the second finds it", func(t *testing.T) {
		d := newFederatedDomain(t)
		p := d.provider(idpID)
		u1, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("up-1", map[string]any{"name": "Una", "iss": "https://idp.example.com"}))
		if err != nil {
			t.Fatal(err)
		}
		if !oauth.ReservedUsername(u1.Username) || !strings.HasPrefix(u1.Username, "idp:corp:") {
			t.Errorf("username %q is not in the brokered users' key space", u1.Username)
		}
		if u1.Sub == "" || u1.Sub == "up-1" || u1.PasswordHash != "" {
			t.Errorf("sub %q (want random, never the upstream's), password hash %q", u1.Sub, u1.PasswordHash)
		}
		if u1.Claims["name"] != "Una" || u1.Claims["sub"] != nil || u1.Claims["iss"] != nil {
			t.Errorf("claims %v: want name only (sub and iss are never copied)", u1.Claims)
		}
		u2, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("up-1", map[string]any{"name": "Una Renamed"}))
		if err != nil {
			t.Fatal(err)
		}
		if u2.Username != u1.Username || u2.Subject() != u1.Subject() {
			t.Errorf("second login: %s/%s, want %s/%s", u2.Username, u2.Subject(), u1.Username, u1.Subject())
		}
		stored, err := d.store.GetUser(d.ctx, u1.Username)
		if err != nil || stored.Claims["name"] != "Una Renamed" {
			t.Errorf("issue 13 §4 mapped claims are refreshed on each login: %v %v", stored, err)
		}
		other, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("up-2", nil))
		if err != nil || other.Subject() == u1.Subject() {
			t.Errorf("another upstream sub: %v %v", other, err)
		}
	})
	t.Run("issue 13 §4: the same upstream sub at another provider is another user", func(t *testing.T) {
		d := newFederatedDomain(t,
			&oauth.IdentityProvider{ID: idpID, Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true},
			&oauth.IdentityProvider{ID: "other", Issuer: "https://other.example.com", ClientID: "c", ClientSecret: "s", Enabled: true})
		a, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("same", nil))
		if err != nil {
			t.Fatal(err)
		}
		id := upstreamID("same", nil)
		id.ProviderID = "other"
		b, err := d.svc.BrokeredSignIn(d.ctx, d.provider("other"), id)
		if err != nil || b.Subject() == a.Subject() {
			t.Fatalf("other provider: %v %v", b, err)
		}
	})
	t.Run("issue 13 §1 claims mapping: upstream names to local ones, never a reserved claim", func(t *testing.T) {
		d := newFederatedDomain(t, &oauth.IdentityProvider{ID: idpID, Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true,
			Claims: map[string]string{"upn": "preferred_username", "groups": "groups", "tid": "sub", "oid": "acr"}})
		u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("x", map[string]any{
			"upn": "una@corp", "groups": []any{"a", "b"}, "tid": "t", "oid": "o", "nickname": "u", "unmapped": 1,
		}))
		if err != nil {
			t.Fatal(err)
		}
		if u.Claims["preferred_username"] != "una@corp" || u.Claims["nickname"] != "u" || len(u.Claims["groups"].([]any)) != 2 {
			t.Errorf("claims %v", u.Claims)
		}
		for _, bad := range []string{"sub", "acr", "unmapped", "upn", "tid"} {
			if _, ok := u.Claims[bad]; ok {
				t.Errorf("claim %s copied: %v", bad, u.Claims)
			}
		}
	})
	t.Run("issue 13 §4: trust_email and email_verified true link the existing local user", func(t *testing.T) {
		d := newFederatedDomain(t, &oauth.IdentityProvider{ID: idpID, Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true, TrustEmail: true})
		d.putUser(&oauth.User{Username: "bob@example.org", PasswordHash: cheapHash(password), Sub: "bob-sub", Claims: map[string]any{"email": "Bob@example.org"}})
		u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("b1", map[string]any{"email": "bob@example.org", "email_verified": true}))
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "bob@example.org" || u.Subject() != "bob-sub" {
			t.Fatalf("linked %s/%s, want bob's own record", u.Username, u.Subject())
		}
		// The link holds once the email changes upstream.
		again, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("b1", map[string]any{"email": "bob@new.example", "email_verified": true}))
		if err != nil || again.Subject() != "bob-sub" {
			t.Fatalf("second login: %v %v", again, err)
		}
		// Bob keeps his password.
		if _, err := d.login("bob@example.org", password); err != nil {
			t.Errorf("bob's password after the link: %v", err)
		}
	})
	for _, c := range []struct {
		name   string
		trust  bool
		claims map[string]any
	}{
		{"issue 13 §4: without trust_email an email never links", false, map[string]any{"email": "bob@example.org", "email_verified": true}},
		{"issue 13 §4: email_verified false does not link", true, map[string]any{"email": "bob@example.org", "email_verified": false}},
		{"OIDC Core §5.1: email_verified is a boolean, the string \"true\" does not link", true, map[string]any{"email": "bob@example.org", "email_verified": "true"}},
		{"issue 13 §4: email_verified missing does not link", true, map[string]any{"email": "bob@example.org"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newFederatedDomain(t, &oauth.IdentityProvider{ID: idpID, Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true, TrustEmail: c.trust})
			d.putUser(&oauth.User{Username: "bob@example.org", PasswordHash: cheapHash(password), Sub: "bob-sub"})
			u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("b1", c.claims))
			if err != nil {
				t.Fatal(err)
			}
			if u.Subject() == "bob-sub" || !oauth.ReservedUsername(u.Username) {
				t.Fatalf("linked to bob: %+v", u)
			}
		})
	}
	t.Run("issue 13 §4: a disabled local user is refused although the upstream signed in (access_denied, redirectable)", func(t *testing.T) {
		d := newFederatedDomain(t)
		p := d.provider(idpID)
		u, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("d1", nil))
		if err != nil {
			t.Fatal(err)
		}
		u.Disabled = true
		d.putUser(u)
		_, err = d.svc.BrokeredSignIn(d.ctx, p, upstreamID("d1", nil))
		if e := wantErr(t, err, oauth.CodeAccessDenied); !e.Redirect {
			t.Errorf("want a redirectable access_denied (decision 11): %+v", e)
		}
	})
	t.Run("issue 13 §4: a disabled local user found by email is refused too", func(t *testing.T) {
		d := newFederatedDomain(t, &oauth.IdentityProvider{ID: idpID, Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s", Enabled: true, TrustEmail: true})
		d.putUser(&oauth.User{Username: "bob@example.org", PasswordHash: cheapHash(password), Sub: "bob-sub", Disabled: true})
		_, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("b1", map[string]any{"email": "bob@example.org", "email_verified": true}))
		wantErr(t, err, oauth.CodeAccessDenied)
	})
	t.Run("OIDC Core §2: a deleted linked user comes back as a new user with a new sub", func(t *testing.T) {
		d := newFederatedDomain(t)
		p := d.provider(idpID)
		old, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("del", nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.store.DeleteUser(d.ctx, old.Username); err != nil {
			t.Fatal(err)
		}
		again, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("del", map[string]any{"name": "D"}))
		if err != nil || again.Subject() == old.Subject() || again.Claims["name"] != "D" {
			t.Fatalf("after the delete: %+v %v, want a new user (old sub %s)", again, err, old.Subject())
		}
		if third, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("del", nil)); err != nil || third.Subject() != again.Subject() {
			t.Errorf("the login after: %+v %v", third, err)
		}
	})
	t.Run("issue 13 §4: a linked username re-created with another sub is refused", func(t *testing.T) {
		d := newFederatedDomain(t)
		p := d.provider(idpID)
		u, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("g1", nil))
		if err != nil {
			t.Fatal(err)
		}
		d.putUser(&oauth.User{Username: u.Username, Sub: "someone-else"})
		_, err = d.svc.BrokeredSignIn(d.ctx, p, upstreamID("g1", nil))
		wantErr(t, err, oauth.CodeAccessDenied)
	})
	t.Run("issue 13 §4: a user left without its link by a cut-short first login is adopted, not duplicated", func(t *testing.T) {
		d := newFederatedDomain(t)
		key := oauth.LinkKey(idpID, "orphan")
		d.putUser(&oauth.User{Username: oauth.BrokeredUsername(idpID, key), Sub: "orphan-sub"})
		u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("orphan", map[string]any{"name": "O"}))
		if err != nil || u.Subject() != "orphan-sub" {
			t.Fatalf("%+v %v, want the user already under the derived username", u, err)
		}
		if l, err := d.store.GetAccountLink(d.ctx, key); err != nil || l.Subject != "orphan-sub" {
			t.Errorf("link %+v %v", l, err)
		}
	})
	t.Run("issue 13 §4: concurrent first logins make one user", func(t *testing.T) {
		d := newFederatedDomain(t)
		p := d.provider(idpID)
		var wg sync.WaitGroup
		subs := make([]string, 8)
		errs := make([]error, 8)
		for i := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				u, err := d.svc.BrokeredSignIn(d.ctx, p, upstreamID("race", nil))
				errs[i] = err
				if err == nil {
					subs[i] = u.Subject()
				}
			}()
		}
		wg.Wait()
		for i := range subs {
			if errs[i] != nil || subs[i] != subs[0] {
				t.Fatalf("login %d: %q %v, want %q", i, subs[i], errs[i], subs[0])
			}
		}
	})
	t.Run("issue 13 §4: a brokered user has no password and cannot use the password form", func(t *testing.T) {
		d := newFederatedDomain(t)
		u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("np", nil))
		if err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"", "x", password} {
			if _, err := d.login(u.Username, pw); !errors.Is(err, oauth.ErrBadCredentials) {
				t.Errorf("password %q: %v, want ErrBadCredentials", pw, err)
			}
		}
	})
	t.Run("issue 13 §4: an answer for another provider is refused", func(t *testing.T) {
		d := newFederatedDomain(t)
		id := upstreamID("x", nil)
		id.ProviderID = "other"
		_, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), id)
		wantErr(t, err, oauth.CodeInvalidRequest)
	})
}

func TestProvidersFor_Issue13ClientMetadata(t *testing.T) {
	d := newFederatedDomain(t,
		&oauth.IdentityProvider{ID: "a", Issuer: "https://a.example", ClientID: "c", ClientSecret: "s", Enabled: true},
		&oauth.IdentityProvider{ID: "b", Issuer: "https://b.example", ClientID: "c", ClientSecret: "s", Enabled: true},
		&oauth.IdentityProvider{ID: "off", Issuer: "https://off.example", ClientID: "c", ClientSecret: "s"})
	ids := func(c *oauth.Client) string {
		ps, err := d.svc.ProvidersFor(d.ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(&oauth.Client{ID: "x"}); got != "a,b" {
		t.Errorf("identity_providers absent: %q, want every enabled provider", got)
	}
	if got := ids(&oauth.Client{ID: "x", IdentityProviders: []string{"b", "off"}}); got != "b" {
		t.Errorf("identity_providers [b off]: %q, want b (off is disabled)", got)
	}
	if got := ids(&oauth.Client{ID: "x", IdentityProviders: []string{}}); got != "" {
		t.Errorf("identity_providers []: %q, want none", got)
	}
	for _, c := range []struct {
		id     string
		client *oauth.Client
		ok     bool
	}{
		{"a", &oauth.Client{}, true},
		{"off", &oauth.Client{}, false},
		{"missing", &oauth.Client{}, false},
		{"a", &oauth.Client{IdentityProviders: []string{"b"}}, false},
		{"Bad!", &oauth.Client{}, false},
	} {
		_, err := d.svc.ProviderFor(d.ctx, c.client, c.id)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, oauth.ErrProviderNotAllowed)) {
			t.Errorf("ProviderFor %s %v: %v", c.id, c.client.IdentityProviders, err)
		}
	}
}

func TestIDPHint_Issue13(t *testing.T) {
	d := newFederatedDomain(t)
	c := d.client(confID)
	uri := d.mustPush(c, authParams(confID, "idp_hint", idpID))
	if tx := d.mustResume(confID, uri); tx.Request.Request.IDPHint != idpID {
		t.Errorf("idp_hint kept as %q", tx.Request.Request.IDPHint)
	}
	for _, bad := range []string{"Corp", "a b", strings.Repeat("a", 33), "é"} {
		_, err := d.push(c, authParams(confID, "idp_hint", bad), oauth.DPoP{})
		wantErr(t, err, oauth.CodeInvalidRequest)
	}
	// RFC 6749 §3.1: a well-formed hint for a provider the client may not use is
	// accepted and ignored where it is read (the login page).
	if _, err := d.push(c, authParams(confID, "idp_hint", "unknown"), oauth.DPoP{}); err != nil {
		t.Errorf("unknown provider hint: %v", err)
	}
}

func TestBrokeredAMR_RFC8176(t *testing.T) {
	got := oauth.BrokeredAMR([]string{"mfa", "pwd", "custom", "mfa", "fed"})
	if want := []string{"fed", "mfa", "pwd"}; !slices.Equal(got, want) {
		t.Errorf("amr %v, want %v", got, want)
	}
	if oauth.BrokeredACR("urn:x\u202e") != "" || oauth.BrokeredACR(strings.Repeat("a", 300)) != "" || oauth.BrokeredACR("urn:mace:incommon:iap:silver") == "" {
		t.Error("BrokeredACR")
	}
}

// The ID tokens of a brokered login: OIDC Core §2 amr includes fed, acr is the
// upstream's, idp names the provider, sub is the local one — on the code's ID token
// and on the refreshed ones (carried on the grant).
func TestBrokeredIDToken_OIDCCore2(t *testing.T) {
	d := newFederatedDomain(t)
	u, err := d.svc.BrokeredSignIn(d.ctx, d.provider(idpID), upstreamID("tok", map[string]any{"email": "t@example.org", "email_verified": true}))
	if err != nil {
		t.Fatal(err)
	}
	c := d.client(confID)
	params := authParams(confID, "scope", "openid email offline_access")
	tx := d.mustResume(confID, d.mustPush(c, params))
	resp, err := d.svc.ApproveAs(d.ctx, tx, oauth.SignedInAs(u), oauth.Authentication{
		Time: d.now(), AMR: oauth.BrokeredAMR([]string{"mfa"}), ACR: "urn:upstream:loa:high", IDP: idpID,
	})
	if err != nil {
		t.Fatal(err)
	}
	ru, _ := url.Parse(resp.URL())
	tr, err := d.exchange(c, tokenParams(ru.Query().Get("code")), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, token string) {
		cl := claimsOf(t, token)
		amr, _ := cl["amr"].([]any)
		if len(amr) == 0 || amr[0] != "fed" || cl["acr"] != "urn:upstream:loa:high" || cl["idp"] != idpID || cl["sub"] != u.Subject() || cl["email"] != "t@example.org" {
			t.Errorf("%s ID token claims %v", name, cl)
		}
	}
	check("code", tr.IDToken)
	rt, err := d.exchange(c, refreshParams(tr.RefreshToken), oauth.DPoP{})
	if err != nil {
		t.Fatal(err)
	}
	check("refresh", rt.IDToken)
}
