package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
)

// Brokered login end to end (issue 13; docs/design.md decisions 35 and 37): a second
// pargate, started here on another port, is the upstream OpenID Provider; it
// advertises PAR, so the upstream leg is pushed too. The browser signs in on the
// upstream's own login page and consent page and comes back through
// /federation/callback; golang.org/x/oauth2 exchanges the code and go-oidc verifies
// the final ID token. On both targets: on the lambda one the providers, their secrets
// and the account links are the table's and Secrets Manager's (moto_server).

const (
	brokerID     = "e2e-broker"
	brokerSecret = "e2e-broker-secret-0123456789abcdefghijklmnopqrstuvwxyz"
	upUser       = "una"
	upPassword   = "una-upstream-password"
)

// freePort is a loopback port free at the time of the call: the two servers must
// know each other's URLs before either starts.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startBrokered starts the upstream pargate (at http://localhost:PORT: another
// cookie host than the broker's 127.0.0.1, as two real sites would be) and the
// broker, whose seed has the upstream as identity provider "up", with the broker's
// extra variables vars.
func startBrokered(t *testing.T, vars map[string]string) (broker, upstream *local) {
	t.Helper()
	upPort, downPort := freePort(t), freePort(t)
	downIssuer := "http://127.0.0.1:" + downPort
	upSeed := `{"clients": [{"client_id": "` + brokerID + `", "client_name": "Broker", "client_secret": "` + brokerSecret + `",
	  "redirect_uris": ["` + downIssuer + `/federation/callback"], "scope": "openid profile email"}],
	 "users": [{"username": "` + upUser + `", "password": "` + upPassword + `",
	  "claims": {"name": "Una Upstream", "email": "una@upstream.example", "email_verified": true}}]}`
	upstream = startSeeded(t, upSeed, map[string]string{"ADDR": "127.0.0.1:" + upPort, "ISSUER": "http://localhost:" + upPort})
	if upstream.meta.PAREndpoint == "" {
		t.Fatal("the upstream pargate advertises no PAR endpoint")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(seedJSON), &doc); err != nil {
		t.Fatal(err)
	}
	doc["identity_providers"] = []map[string]any{{
		"id": "up", "display_name": "Upstream pargate", "issuer": upstream.srv.Issuer,
		"client_id": brokerID, "client_secret": brokerSecret,
	}}
	brokerVars := map[string]string{"ADDR": "127.0.0.1:" + downPort}
	for k, v := range vars {
		brokerVars[k] = v
	}
	broker = startSeeded(t, mustJSON(t, doc), brokerVars)
	if broker.srv.Issuer != downIssuer {
		t.Fatalf("broker issuer %s, want %s", broker.srv.Issuer, downIssuer)
	}
	return broker, upstream
}

// brokeredLogin runs the app's authorization at the broker through the upstream's
// pages with b and returns the broker's consent page.
func brokeredLogin(t *testing.T, broker, upstream *local, b *browser, a *authRequest) httpapitest.Page {
	t.Helper()
	login := b.open(t, appID, broker.push(t, a).RequestURI)
	if !strings.Contains(login.Body, `<button type="submit" name="idp" value="up">Continue with Upstream pargate</button>`) {
		t.Fatalf("the broker's login page has no button for the upstream:\n%s", login.Body)
	}
	fields := httpapitest.HiddenFields(login.Body)
	fields.Set("pargate_step", "federate")
	fields.Set("idp", "up")
	toUp := b.Post(t, broker.meta.AuthorizationEndpoint, fields)
	loc := toUp.Location(t)
	// RFC 9126 §4: the upstream request was pushed; the front channel carries only
	// client_id and request_uri.
	if !strings.HasPrefix(loc.String(), upstream.meta.AuthorizationEndpoint+"?") || loc.Query().Get("request_uri") == "" || loc.Query().Has("code_challenge") {
		t.Fatalf("want a pushed request at the upstream, got %s", loc)
	}
	upLogin := b.Get(t, loc.String())
	if !httpapitest.IsLoginPage(upLogin) {
		t.Fatalf("want the upstream's login page, got %d:\n%s", upLogin.Status, upLogin.Body)
	}
	signedIn := b.Submit(t, upLogin, url.Values{"username": {upUser}, "password": {upPassword}})
	back := b.Get(t, signedIn.Location(t).String())
	if httpapitest.IsConsentPage(back) {
		// The first login: the upstream asks the user to let the broker in; later
		// ones find the consent remembered (docs/design.md decision 32).
		back = b.Submit(t, back, url.Values{"decision": {"approve"}})
	}
	cb := back.Location(t)
	// RFC 9207: the upstream's response names its issuer.
	if !strings.HasPrefix(cb.String(), broker.srv.Issuer+"/federation/callback?") || cb.Query().Get("iss") != upstream.srv.Issuer {
		t.Fatalf("upstream's response %s", cb)
	}
	done := b.Get(t, cb.String())
	if done.Status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%s", done.Status, done.Body)
	}
	consent := b.Get(t, done.Location(t).String())
	if !httpapitest.IsConsentPage(consent) {
		t.Fatalf("after the callback: want the broker's consent page, got %d (%s):\n%s", consent.Status, consent.Header.Get("Location"), consent.Body)
	}
	return consent
}

func TestBrokeredLoginThroughASecondPargate_Issue13(t *testing.T) {
	broker, upstream := startBrokered(t, nil)
	var subs []string
	for i := range 2 {
		a := newRequest(broker.app())
		b := broker.browser(t)
		consent := brokeredLogin(t, broker, upstream, b, a)
		code := broker.authorizationResponse(t, a, b.decide(t, consent, "approve"))
		tok := a.mustExchange(t, code)
		idt := broker.verifyIDToken(t, a, tok)
		var claims struct {
			AMR   []string `json:"amr"`
			IDP   string   `json:"idp"`
			Name  string   `json:"name"`
			Email string   `json:"email"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		// OIDC Core §2 amr: fed first, then the upstream's pwd; idp names the provider.
		if strings.Join(claims.AMR, " ") != "fed pwd" || claims.IDP != "up" || claims.Name != "Una Upstream" || claims.Email != "una@upstream.example" {
			t.Errorf("login %d: ID token claims %+v", i+1, claims)
		}
		subs = append(subs, idt.Subject)
	}
	if target == "lambda" {
		// On run-lambda the callback is the authorize function's route
		// (template.yaml), the providers and links the table's.
		t.Logf("function instances: broker %v, upstream %v", broker.instances(), upstream.instances())
		if broker.instances()["AuthorizeFunction"] == 0 {
			t.Errorf("the broker's authorize function served nothing: %v", broker.instances())
		}
	}
	// Issue 13 §4: the local sub is the broker's own, stable across logins.
	if subs[0] == "" || subs[0] != subs[1] {
		t.Errorf("local subs %v: want one stable sub", subs)
	}
}

// TestBrokeredLoginOnTheLocalDynamoDBStore_Issue13: make run over DynamoDB
// (STORE=dynamodb) keeps the seed's providers, with their secrets, beside the table,
// which refuses a provider with a secret (docs/design.md decision 36); the account
// links are the table's.
func TestBrokeredLoginOnTheLocalDynamoDBStore_Issue13(t *testing.T) {
	localOnly(t, localServer)
	broker, upstream := startBrokered(t, map[string]string{"STORE": "dynamodb", "TABLE_NAME": "pargate-e2e-brokered"})
	a := newRequest(broker.app())
	b := broker.browser(t)
	consent := brokeredLogin(t, broker, upstream, b, a)
	code := broker.authorizationResponse(t, a, b.decide(t, consent, "approve"))
	idt := broker.verifyIDToken(t, a, a.mustExchange(t, code))
	var claims struct {
		IDP string `json:"idp"`
	}
	if err := idt.Claims(&claims); err != nil || claims.IDP != "up" {
		t.Errorf("ID token idp %q (%v), want up", claims.IDP, err)
	}
}
