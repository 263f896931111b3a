package oauth_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

const signedOutURI = "https://client.example.org/signed-out"

func logoutDomain(t *testing.T) (*domain, *oauth.Client) {
	t.Helper()
	d := newDomain(t)
	c := d.changeClient(confID, func(c *oauth.Client) { c.PostLogoutRedirectURIs = []string{signedOutURI} })
	return d, c
}

// TestParseLogout_RPInitiated covers RP-Initiated Logout 1.0 §2 (parameters), §3
// (registered post_logout_redirect_uri) and §4 (validation).
func TestParseLogout_RPInitiated(t *testing.T) {
	d, c := logoutDomain(t)
	tr := d.tokens(c)
	idt := tr.IDToken
	parse := func(kv ...string) (*oauth.LogoutRequest, error) {
		p := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Add(kv[i], kv[i+1])
		}
		return d.svc.ParseLogout(d.ctx, p)
	}
	invalid := func(t *testing.T, err error) {
		t.Helper()
		if e := oauth.AsError(err); err == nil || e.Code != oauth.CodeInvalidRequest || e.Redirect {
			t.Fatalf("want a non-redirectable invalid_request, got %v", err)
		}
	}
	t.Run("RP-Initiated Logout §2 a valid hint names its client and user", func(t *testing.T) {
		req, err := parse("id_token_hint", idt, "post_logout_redirect_uri", signedOutURI, "state", "s", "logout_hint", "alice")
		if err != nil {
			t.Fatal(err)
		}
		if req.Client == nil || req.Client.ID != confID || req.Hint == nil || req.Hint.Subject == "" ||
			req.PostLogoutRedirectURI != signedOutURI || req.Unregistered || req.State != "s" || req.LogoutHint != "alice" {
			t.Fatalf("%+v", req)
		}
	})
	t.Run("RP-Initiated Logout §4 an expired hint is accepted", func(t *testing.T) {
		d.advance(time.Hour)
		defer d.advance(-time.Hour)
		if req, err := parse("id_token_hint", idt); err != nil || req.Hint == nil {
			t.Fatalf("%v %+v", err, req)
		}
	})
	t.Run("RP-Initiated Logout §4 a tampered hint is invalid_request", func(t *testing.T) {
		parts := strings.Split(idt, ".")
		_, err := parse("id_token_hint", parts[0]+"."+parts[1]+"."+strings.Repeat("A", len(parts[2])))
		invalid(t, err)
	})
	t.Run("RP-Initiated Logout §4 an access token is not an ID token hint", func(t *testing.T) {
		_, err := parse("id_token_hint", tr.AccessToken)
		invalid(t, err)
	})
	t.Run("RP-Initiated Logout §2 client_id must be the hint's audience", func(t *testing.T) {
		_, err := parse("id_token_hint", idt, "client_id", postID)
		invalid(t, err)
	})
	t.Run("RP-Initiated Logout §2 an unknown client_id is invalid_request", func(t *testing.T) {
		_, err := parse("client_id", "nobody")
		invalid(t, err)
	})
	t.Run("RP-Initiated Logout §2 a repeated parameter is invalid_request", func(t *testing.T) {
		_, err := parse("state", "a", "state", "b")
		invalid(t, err)
	})
	t.Run("RP-Initiated Logout §3 an unregistered post_logout_redirect_uri is never the target", func(t *testing.T) {
		for _, kv := range [][]string{
			{"client_id", confID, "post_logout_redirect_uri", "https://attacker.example/"},
			{"client_id", confID, "post_logout_redirect_uri", redirect},
			{"client_id", confID, "post_logout_redirect_uri", signedOutURI + "/"},
			{"post_logout_redirect_uri", signedOutURI}, // no client to check it against
		} {
			req, err := parse(kv...)
			if err != nil || req.PostLogoutRedirectURI != "" || !req.Unregistered {
				t.Fatalf("%v: %v %+v", kv, err, req)
			}
		}
	})
	t.Run("RP-Initiated Logout §4 the hint matches only its own session", func(t *testing.T) {
		req, err := parse("id_token_hint", idt)
		if err != nil {
			t.Fatal(err)
		}
		sess := &oauth.Session{Key: "k", Subject: req.Hint.Subject}
		if req.HintMatches(sess) {
			t.Fatal("a hint without sid matched a session")
		}
		req.Hint.SID = oauth.SessionSID("k")
		if !req.HintMatches(sess) || req.HintMatches(&oauth.Session{Key: "other", Subject: req.Hint.Subject}) || req.HintMatches(nil) {
			t.Fatal("sid matching is wrong")
		}
		if req.HintMatches(&oauth.Session{Key: "k", Subject: "someone-else"}) {
			t.Fatal("a hint of another user matched")
		}
	})
}

// TestCheckPostLogoutRedirectURIs_RPInitiated_3: registered like redirect URIs
// (RFC 6749 §3.1.2: absolute, no fragment; RFC 9700 §2.1: http only on loopback).
func TestCheckPostLogoutRedirectURIs_RPInitiated_3(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://rp.example/bye":      true,
		"http://127.0.0.1:8080/bye":   true,
		"http://rp.example/bye":       false,
		"https://rp.example/bye#frag": false,
		"/relative":                   false,
		"com.example.app:/bye":        false, // a web client's
	} {
		err := oauth.CheckPostLogoutRedirectURIs(&oauth.Client{PostLogoutRedirectURIs: []string{uri}})
		if (err == nil) != ok {
			t.Errorf("%s: %v", uri, err)
		}
	}
}

// TestLogout_RPInitiated_EndsTheSessionAndRevokesItsOnlineGrants: node-oidc-provider's
// rule: the grants of the session without offline_access are revoked; others, and
// other sessions' grants, are not.
func TestLogout_RPInitiated_EndsTheSessionAndRevokesItsOnlineGrants(t *testing.T) {
	d, _ := logoutDomain(t)
	id, sess := d.startSession(confID)
	sid := oauth.SessionSID(sess.Key)
	now := d.now()
	ids := map[string]string{}
	grant := func(name, sid string, scopes ...string) {
		r := oauthtest.PushedRequest(t, now)
		if err := d.store.CreatePushedRequest(d.ctx, r); err != nil {
			t.Fatal(err)
		}
		code := oauthtest.Code(t, now)
		code.Subject = sess.Subject
		g := oauthtest.Grant(t, now)
		g.ID, g.Subject, g.Username, g.Scopes, g.SID = code.GrantID, sess.Subject, sess.Username, scopes, sid
		if err := d.store.IssueCode(d.ctx, oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, g); err != nil {
			t.Fatal(err)
		}
		ids[name] = g.ID
	}
	grant("online", sid, "openid")
	grant("offline", sid, "openid", "offline_access")
	grant("other-session", oauth.SessionSID("other"), "openid")
	ended, err := d.svc.Logout(d.ctx, id)
	if err != nil || ended == nil || ended.Key != sess.Key || !ended.SignedInTo(confID) {
		t.Fatalf("Logout: %v %+v", err, ended)
	}
	revoked := func(gid string) bool {
		g, err := d.store.GetGrant(d.ctx, ids[gid])
		if err != nil {
			t.Fatal(err)
		}
		return g.RevokedAt != nil
	}
	if !revoked("online") || revoked("offline") || revoked("other-session") {
		t.Fatalf("revoked: online %v, offline %v, other session %v", revoked("online"), revoked("offline"), revoked("other-session"))
	}
	if _, _, err := d.svc.CurrentSession(d.ctx, id); err != oauth.ErrNoSession {
		t.Fatalf("the session lives on: %v", err)
	}
	if again, err := d.svc.Logout(d.ctx, id); err != nil || again != nil {
		t.Fatalf("a second logout: %v %+v", err, again)
	}
}
