package seed_test

import (
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/seed"
)

// RFC 9126 §7.2: "The authorization server MUST only accept new redirect URIs in the
// pushed authorization request from authenticated clients", and §2.4: the server "MAY
// require a certain URI prefix". A public client cannot register prefixes, and a
// prefix must fix the scheme, the host and the start of the path.
func TestParse_RedirectPrefixesOnlyForClientsWithCredentials(t *testing.T) {
	secret := strings.Repeat("s", seed.MinSecretLength)
	client := func(extra string) string {
		return `{"clients":[{"client_id":"a","redirect_uris":["https://a.example/cb"],` + extra + `}]}`
	}
	for name, doc := range map[string]string{
		"public client with a prefix": client(`"token_endpoint_auth_method":"none","pushed_redirect_uri_prefixes":["https://a.example/cb/"]`),
		"prefix without a path":       client(`"client_secret":"` + secret + `","pushed_redirect_uri_prefixes":["https://a.example"]`),
		"prefix with userinfo":        client(`"client_secret":"` + secret + `","pushed_redirect_uri_prefixes":["https://a.example@b.example/cb/"]`),
		"http prefix":                 client(`"client_secret":"` + secret + `","pushed_redirect_uri_prefixes":["http://a.example/cb/"]`),
		"relative prefix":             client(`"client_secret":"` + secret + `","pushed_redirect_uri_prefixes":["/cb/"]`),
	} {
		if _, err := seed.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := seed.Parse([]byte(client(`"client_secret":"` + secret + `","pushed_redirect_uri_prefixes":["https://a.example/cb/"]`))); err != nil {
		t.Errorf("confidential client with an https prefix: %v", err)
	}
}

// RFC 9700 §2.1 / RFC 8252 §7.3: plain http is for loopback IP literals (127.0.0.1,
// [::1]); a DNS name such as 127.evil.example is not loopback, as a redirect URI or
// as an issuer (found by review of the fuzz oracles).
func TestParse_LoopbackMeansAnIPLiteral(t *testing.T) {
	doc := `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["http://127.evil.example/cb"]}]}`
	if _, err := seed.Parse([]byte(doc)); err == nil {
		t.Error("redirect URI http://127.evil.example/cb accepted as loopback")
	}
	if _, err := config.FromEnv(func(k string) string {
		if k == "ISSUER" {
			return "http://127.evil.example"
		}
		return ""
	}); err == nil {
		t.Error("ISSUER http://127.evil.example accepted as loopback")
	}
}

// RFC 8707 §2: a registered resource indicator is an absolute URI without fragment,
// as every requested one must be.
func TestParse_ResourcesAreAbsoluteURIsWithoutFragment(t *testing.T) {
	client := func(resources string) string {
		return `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"],"resources":` + resources + `}]}`
	}
	for _, bad := range []string{`["/api"]`, `["api.example.com"]`, `["https://api.example.com/#"]`, `[""]`} {
		if _, err := seed.Parse([]byte(client(bad))); err == nil || !strings.Contains(err.Error(), "RFC 8707") {
			t.Errorf("resources %s: %v, want refused", bad, err)
		}
	}
	f, err := seed.Parse([]byte(client(`["https://api.example.com/","urn:example:ledger"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Clients[0].Resources; len(got) != 2 || got[1] != "urn:example:ledger" {
		t.Errorf("resources = %v", got)
	}
}

// TestParse_RFC8252_NativeApps: application_type (OpenID Connect Registration §2: web
// by default, or native) decides the redirect URIs a seeded client may register. A
// native app may use a private-use URI scheme that is a reverse domain name with one
// slash after it (RFC 8252 §7.1, §8.4) and loopback http (§7.3); a web client keeps
// https and loopback http, never a private-use scheme.
func TestParse_RFC8252_NativeApps(t *testing.T) {
	client := func(appType, uri string) string {
		at := ""
		if appType != "" {
			at = `"application_type":"` + appType + `",`
		}
		return `{"clients":[{"client_id":"app",` + at + `"token_endpoint_auth_method":"none","redirect_uris":["` + uri + `"]}]}`
	}
	for _, tc := range []struct {
		name, doc, want string // want: "" accepted, else a word of the error
	}{
		{"RFC 8252 §7.1 native: com.example.app:/oauth2redirect", client("native", "com.example.app:/oauth2redirect"), ""},
		{"RFC 8252 §7.3 native: http://127.0.0.1/cb", client("native", "http://127.0.0.1/cb"), ""},
		{"RFC 8252 §7.3 native: http://[::1]/cb", client("native", "http://[::1]/cb"), ""},
		{"RFC 8252 §7.2 native: a claimed https URI", client("native", "https://app.example.com/cb"), ""},
		{"OIDC Registration §2 web: application_type web", client("web", "https://app.example.com/cb"), ""},
		{"RFC 8252 §7.1 web: a private-use URI scheme is refused", client("", "com.example.app:/cb"), "application_type native"},
		{"RFC 8252 §7.1 web (application_type web): a private-use URI scheme is refused", client("web", "com.example.app:/cb"), "application_type native"},
		{"RFC 8252 §8.4 native: a scheme without a period is refused", client("native", "myapp:/cb"), "reverse domain name"},
		{"RFC 8252 §7.1 native: two slashes after the scheme are refused", client("native", "com.example.app://cb"), "single slash"},
		{"RFC 9700 §2.1 native: http off loopback is refused", client("native", "http://app.example.com/cb"), "only on loopback"},
		{"OIDC Registration §2 application_type other than web or native is refused", client("desktop", "https://app.example.com/cb"), `application_type "desktop"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := seed.Parse([]byte(tc.doc))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c := f.Clients[0]; c.ApplicationType != "" && c.ApplicationType != "native" && c.ApplicationType != "web" {
					t.Errorf("application_type = %q", c.ApplicationType)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one saying %q", err, tc.want)
			}
		})
	}
	f, err := seed.Parse([]byte(client("native", "http://127.0.0.1/cb")))
	if err != nil || !f.Clients[0].Native() {
		t.Fatalf("application_type native not kept: %v %+v", err, f)
	}
}

// RFC 6749 §4.4: "The client credentials grant type MUST only be used by
// confidential clients"; such a client needs no redirect_uris (RFC 7591 §2: they
// are for redirect-based flows) unless it also has the authorization_code grant.
func TestParse_RFC6749_4_4_ClientCredentialsClients(t *testing.T) {
	secret := strings.Repeat("s", seed.MinSecretLength)
	f, err := seed.Parse([]byte(`{"clients":[{"client_id":"svc","client_secret":"` + secret + `","grant_types":["client_credentials"],"scope":"api"}]}`))
	if err != nil {
		t.Fatalf("a client_credentials client without redirect_uris: %v", err)
	}
	if c := f.Clients[0]; !c.AllowsGrant("client_credentials") || c.AllowsGrant("authorization_code") {
		t.Errorf("grant_types = %v", c.GrantTypes)
	}
	for name, doc := range map[string]string{
		"public client_credentials client": `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","grant_types":["client_credentials"]}]}`,
		"public client with both grants": `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none",` +
			`"grant_types":["authorization_code","client_credentials"],"redirect_uris":["https://a.example/cb"]}]}`,
		"authorization_code without redirect_uris": `{"clients":[{"client_id":"a","client_secret":"` + secret + `","grant_types":["client_credentials","authorization_code"]}]}`,
		"unknown grant type":                       `{"clients":[{"client_id":"a","client_secret":"` + secret + `","grant_types":["password"]}]}`,
	} {
		if _, err := seed.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestParse_BrowserBasedApps_AllowedOriginsAreSerializedOrigins: allowed_origins
// (docs/design.md decision 30) holds origins exactly as a browser sends them in
// Origin (Fetch §3.1, the HTML serialization of an origin), https or loopback http
// as for redirect URIs (RFC 9700 §2.1); anything else could never match or would
// open CORS to a page on plain http.
func TestParse_BrowserBasedApps_AllowedOriginsAreSerializedOrigins(t *testing.T) {
	client := func(origins string) string {
		return `{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"],"allowed_origins":` + origins + `}]}`
	}
	for _, bad := range []string{
		`["https://spa.example/"]`,         // a trailing slash is a path
		`["https://spa.example/app"]`,      // a path
		`["https://SPA.example"]`,          // browsers send the host in lower case
		`["https://spa.example:443"]`,      // and no default port
		`["https://spa.example:"]`,         // nor an empty one
		`["https://u@spa.example"]`,        // user information
		`["https://spa.example?x"]`,        // a query
		`["https://spa.example#x"]`,        // a fragment
		`["http://spa.example"]`,           // plain http off loopback
		`["http://127.evil.example:8080"]`, // a DNS name is not loopback
		`["spa.example"]`,                  // not absolute
		`["null"]`,                         // the opaque origin
		`["*"]`,                            // no wildcard
		`["chrome-extension://abc"]`,       // not a web origin
		`["https://bücher.example"]`,       // browsers send the A-label
		`[""]`,
	} {
		if _, err := seed.Parse([]byte(client(bad))); err == nil || !strings.Contains(err.Error(), "allowed_origins") {
			t.Errorf("allowed_origins %s: %v, want refused", bad, err)
		}
	}
	good := `["https://spa.example","https://spa.example:8443","http://localhost:5173","http://127.0.0.1:4000","http://[::1]:3000","https://xn--bcher-kva.example"]`
	f, err := seed.Parse([]byte(client(good)))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Clients[0].AllowedOrigins; len(got) != 6 || got[4] != "http://[::1]:3000" {
		t.Errorf("allowed_origins = %v", got)
	}
}
