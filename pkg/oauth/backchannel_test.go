package oauth_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// recordingSender is a LogoutSender that keeps what it was given and answers each
// delivery with result.
type recordingSender struct {
	mu     sync.Mutex
	got    []oauth.LogoutDelivery
	result string
}

func (r *recordingSender) SendLogouts(_ context.Context, ds []oauth.LogoutDelivery) []oauth.LogoutOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ds...)
	out := make([]oauth.LogoutOutcome, len(ds))
	for i, d := range ds {
		out[i] = oauth.LogoutOutcome{ClientID: d.ClientID, Result: r.result, Status: 200, Attempts: 1}
	}
	return out
}

// verifyLogoutToken checks tok's signature against the server's public JWKS, as a
// relying party would, and returns its typ header and claims.
func verifyLogoutToken(t *testing.T, tok string) (string, map[string]any) {
	t.Helper()
	set, err := serverKeys()
	if err != nil {
		t.Fatal(err)
	}
	pub := set.Public()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	keys := pub.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the token's kid %q is not in the JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	typ, _ := jws.Signatures[0].Header.ExtraHeaders["typ"].(string)
	return typ, claims
}

// TestLogoutToken_BackchannelLogout_2_4 checks the logout token's claims and type.
func TestLogoutToken_BackchannelLogout_2_4(t *testing.T) {
	d := newDomain(t)
	_, sess := d.startSession(confID)
	c := d.client(confID)
	tok, err := d.svc.LogoutToken(d.ctx, c, sess)
	if err != nil {
		t.Fatal(err)
	}
	typ, claims := verifyLogoutToken(t, tok)
	t.Run("Back-Channel Logout §2.4, §4.1 typ is logout+jwt", func(t *testing.T) {
		if typ != "logout+jwt" {
			t.Fatalf("typ %q", typ)
		}
	})
	t.Run("Back-Channel Logout §2.4 iss, aud, iat, exp, jti, sub and sid", func(t *testing.T) {
		if claims["iss"] != issuer || claims["aud"] != confID || claims["sub"] != subject {
			t.Fatalf("iss/aud/sub: %v", claims)
		}
		if claims["sid"] != oauth.SessionSID(sess.Key) {
			t.Fatalf("sid %v, want the session's SessionSID (the ID tokens' sid)", claims["sid"])
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		if int64(iat) != d.now().Unix() || int64(exp) != d.now().Add(oauth.LogoutTokenLifetime).Unix() {
			t.Fatalf("iat %v exp %v", iat, exp)
		}
		if jti, _ := claims["jti"].(string); len(jti) < 40 {
			t.Fatalf("jti %q", jti)
		}
	})
	t.Run("Back-Channel Logout §2.4 events holds the back-channel logout event, an empty object", func(t *testing.T) {
		ev, _ := claims["events"].(map[string]any)
		member, ok := ev["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
		if len(ev) != 1 || !ok || len(member) != 0 {
			t.Fatalf("events %v", claims["events"])
		}
	})
	t.Run("Back-Channel Logout §2.4 a logout token never carries a nonce", func(t *testing.T) {
		if _, ok := claims["nonce"]; ok {
			t.Fatal("nonce present")
		}
	})
	t.Run("Back-Channel Logout §2.4 each token has its own jti", func(t *testing.T) {
		other, err := d.svc.LogoutToken(d.ctx, c, sess)
		if err != nil {
			t.Fatal(err)
		}
		_, again := verifyLogoutToken(t, other)
		if again["jti"] == claims["jti"] {
			t.Fatal("jti repeated")
		}
	})
	t.Run("Back-Channel Logout §4.1 a logout token is not an id_token_hint", func(t *testing.T) {
		// Its typ is not JWT, so /logout (and anything checking ID tokens) refuses it.
		if _, err := d.svc.ParseLogout(d.ctx, map[string][]string{"id_token_hint": {tok}}); err == nil {
			t.Fatal("a logout token was accepted as an ID token")
		}
	})
}

// TestBackchannelLogout_2_3_TellsTheSessionsClientsWithAURI: every client the session
// signed in to with a backchannel_logout_uri gets a token of its own audience; one
// without, a disabled one and a deleted one get none.
func TestBackchannelLogout_2_3_TellsTheSessionsClientsWithAURI(t *testing.T) {
	sender := &recordingSender{result: oauth.LogoutDelivered}
	d := newDomain(t, withOption(oauth.WithLogoutSender(sender)))
	d.changeClient(confID, func(c *oauth.Client) { c.BackchannelLogoutURI = "https://client.example.org/bcl" })
	d.changeClient(publicID, func(c *oauth.Client) {
		c.BackchannelLogoutURI = "http://127.0.0.1:9999/bcl"
		c.BackchannelLogoutSessionRequired = true
	})
	d.changeClient(jwtID, func(c *oauth.Client) {
		c.BackchannelLogoutURI = "https://client.example.org/disabled"
		c.Disabled = true
	})
	_, sess := d.startSession(confID)
	sess.Clients = []string{confID, postID, publicID, jwtID, "deleted-client"}
	out := d.svc.BackchannelLogout(d.ctx, sess)
	if len(out) != 2 || out[0].ClientID != confID || out[1].ClientID != publicID || out[0].Result != oauth.LogoutDelivered {
		t.Fatalf("outcomes %+v", out)
	}
	if len(sender.got) != 2 || sender.got[0].URI != "https://client.example.org/bcl" || sender.got[1].URI != "http://127.0.0.1:9999/bcl" {
		t.Fatalf("deliveries %+v", sender.got)
	}
	for _, dl := range sender.got {
		_, claims := verifyLogoutToken(t, dl.Token)
		if claims["aud"] != dl.ClientID || claims["sid"] != oauth.SessionSID(sess.Key) {
			t.Fatalf("token for %s: %v", dl.ClientID, claims)
		}
	}
	t.Run("without a sender nothing is sent", func(t *testing.T) {
		plain := newDomain(t)
		if out := plain.svc.BackchannelLogout(plain.ctx, sess); out != nil {
			t.Fatalf("%+v", out)
		}
	})
}

// TestCheckBackchannelLogoutURI_2_2: absolute, no fragment; https, http only on
// loopback; the session flag needs a URI.
func TestCheckBackchannelLogoutURI_2_2(t *testing.T) {
	for uri, ok := range map[string]bool{
		"":                                  true,
		"https://rp.example/logout?x=1":     true,
		"http://127.0.0.1:8080/logout":      true,
		"http://[::1]/logout":               true,
		"http://rp.example/logout":          false,
		"http://localhost/logout":           true,
		"https://rp.example/logout#frag":    false,
		"/logout":                           false,
		"https://user:pw@rp.example/logout": false,
		"com.example.app:/logout":           false,
		"https:///logout":                   false,
	} {
		err := oauth.CheckBackchannelLogoutURI(&oauth.Client{BackchannelLogoutURI: uri})
		if (err == nil) != ok {
			t.Errorf("Back-Channel Logout §2.2 %q: %v", uri, err)
		}
		if err != nil && !strings.Contains(err.Error(), "backchannel_logout_uri") {
			t.Errorf("%q: the error does not name the field: %v", uri, err)
		}
	}
	if err := oauth.CheckBackchannelLogoutURI(&oauth.Client{BackchannelLogoutSessionRequired: true}); err == nil {
		t.Error("backchannel_logout_session_required without a URI accepted")
	}
}
