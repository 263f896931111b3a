package admin_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/oauth"
)

const appMeta = `{
  "client_id": "app",
  "client_name": "The App",
  "token_endpoint_auth_method": "client_secret_basic",
  "redirect_uris": ["https://app.example.com/cb"],
  "scope": "openid profile",
  "require_pushed_authorization_requests": true
}`

// created is what client create prints.
type created struct {
	ClientID        string   `json:"client_id"`
	ClientName      string   `json:"client_name"`
	RedirectURIs    []string `json:"redirect_uris"`
	Method          string   `json:"token_endpoint_auth_method"`
	Secret          string   `json:"client_secret"`
	SecretExpiresAt *int     `json:"client_secret_expires_at"`
	SecretHash      []byte   `json:"client_secret_sha256"`
	RequirePAR      bool     `json:"require_pushed_authorization_requests"`
}

func createClient(tb testing.TB, h *harness, meta string) created {
	tb.Helper()
	var out created
	h.run("", "client", "create", "--file", writeFile(tb, "meta.json", meta)).ok(tb, &out)
	return out
}

func basic(id, secret string) oauth.ClientCredentials {
	return oauth.ClientCredentials{BasicUsed: true, BasicID: id, BasicSecret: secret}
}

func TestClientCreate_PrintsTheSecretOnceAndStoresOnlyItsHash(t *testing.T) {
	h := newHarness(t)
	r := h.run("", "client", "create", "--file", writeFile(t, "meta.json", appMeta))
	var out created
	r.ok(t, &out)

	if len(out.Secret) != 43 {
		t.Fatalf("client_secret %q has %d characters, want 43 (256 bits, base64url)", out.Secret, len(out.Secret))
	}
	if raw, err := base64.RawURLEncoding.DecodeString(out.Secret); err != nil || len(raw) != admin.SecretBytes {
		t.Errorf("client_secret is not 32 bytes of base64url: %v", err)
	}
	if out.SecretExpiresAt == nil || *out.SecretExpiresAt != 0 {
		t.Errorf("client_secret_expires_at = %v, want 0 (RFC 7591 §3.2.1: does not expire)", out.SecretExpiresAt)
	}
	if out.ClientID != "app" || out.ClientName != "The App" || !out.RequirePAR || out.Method != oauth.AuthClientSecretBasic {
		t.Errorf("printed metadata = %+v", out)
	}
	if out.SecretHash != nil {
		t.Error("client create printed the stored hash")
	}
	if n := strings.Count(r.stdout, out.Secret); n != 1 {
		t.Errorf("the secret appears %d times on stdout, want once", n)
	}
	if strings.Contains(r.stderr, out.Secret) {
		t.Error("the secret is on stderr")
	}
	if !strings.Contains(r.stderr, "only this once") {
		t.Errorf("stderr does not warn that the secret is shown once:\n%s", r.stderr)
	}

	stored := h.storedClient(t, "app")
	if !bytes.Equal(stored.SecretHash, oauth.SecretHash(out.Secret)) {
		t.Errorf("stored hash %x, want SHA-256 of the printed secret %x", stored.SecretHash, oauth.SecretHash(out.Secret))
	}

	// Never again: not by get, not by list, and neither is the hash.
	hashB64 := base64.StdEncoding.EncodeToString(stored.SecretHash)
	for _, args := range [][]string{{"client", "get", "app"}, {"client", "list"}} {
		r := h.run("", args...).ok(t, nil)
		for _, leak := range []string{out.Secret, hashB64, `"client_secret":`, `"client_secret_sha256":`} {
			if strings.Contains(r.stdout+r.stderr, leak) {
				t.Errorf("%v prints %q:\n%s", args, leak, r.stdout)
			}
		}
	}
}

func TestClientCreate_TheClientAuthenticatesWithThePrintedSecret(t *testing.T) {
	h := newHarness(t)
	svc := h.service()

	out := createClient(t, h, appMeta)
	c, err := svc.AuthenticateClient(t.Context(), basic("app", out.Secret))
	if err != nil {
		t.Fatalf("AuthenticateClient with the printed secret: %v", err)
	}
	if c.ID != "app" {
		t.Errorf("authenticated %q", c.ID)
	}
	if _, err := svc.AuthenticateClient(t.Context(), basic("app", out.Secret[:42]+"x")); err == nil {
		t.Error("a wrong secret authenticated")
	}

	// client_secret_post works the same way.
	post := strings.NewReplacer(`"app"`, `"post-app"`, "client_secret_basic", "client_secret_post").Replace(appMeta)
	out = createClient(t, h, post)
	if _, err := svc.AuthenticateClient(t.Context(), oauth.ClientCredentials{BodyClientID: "post-app", BodySecret: out.Secret}); err != nil {
		t.Errorf("client_secret_post with the printed secret: %v", err)
	}
}

func TestClientCreate_DefaultsToClientSecretBasicAsRFC7591Says(t *testing.T) {
	h := newHarness(t)
	out := createClient(t, h, `{"client_id":"d","redirect_uris":["https://d.example/cb"]}`)
	if out.Method != oauth.AuthClientSecretBasic || out.Secret == "" {
		t.Errorf("metadata without token_endpoint_auth_method: method %q, secret %q", out.Method, out.Secret)
	}
}

func TestClientCreate_PublicClientGetsNoSecret(t *testing.T) {
	h := newHarness(t)
	r := h.run("", "client", "create", "--file", writeFile(t, "spa.json",
		`{"client_id":"spa","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"]}`))
	var out created
	r.ok(t, &out)
	if out.Secret != "" || strings.Contains(r.stdout, `"client_secret":`) {
		t.Errorf("a public client got a secret:\n%s", r.stdout)
	}
	stored := h.storedClient(t, "spa")
	if len(stored.SecretHash) != 0 {
		t.Errorf("a public client has a stored hash %x", stored.SecretHash)
	}
	if _, err := h.service().AuthenticateClient(t.Context(), oauth.ClientCredentials{BodyClientID: "spa"}); err != nil {
		t.Errorf("public client: %v", err)
	}
}

// TestClientCreate_TLSClientAuthKeepsTheRFC8705Metadata: a tls_client_auth client
// gets no secret, and its expected certificate subject and token binding are stored.
func TestClientCreate_TLSClientAuthKeepsTheRFC8705Metadata(t *testing.T) {
	h := newHarness(t)
	r := h.run("", "client", "create", "--file", writeFile(t, "tls.json",
		`{"client_id":"bank-tpp","token_endpoint_auth_method":"tls_client_auth","tls_client_auth_subject_dn":"CN=tpp,O=Example",`+
			`"tls_client_certificate_bound_access_tokens":true,"redirect_uris":["https://tpp.example/cb"]}`))
	var out created
	r.ok(t, &out)
	if out.Secret != "" {
		t.Errorf("a tls_client_auth client got a secret:\n%s", r.stdout)
	}
	stored := h.storedClient(t, "bank-tpp")
	if stored.TLSClientAuthSubjectDN != "CN=tpp,O=Example" || !stored.TLSClientCertificateBoundAccessTokens || len(stored.SecretHash) != 0 {
		t.Errorf("stored %+v", stored)
	}
}

// TestClientCreate_RFC8252_NativeApp: application_type native (OpenID Connect
// Registration §2) is client metadata the CLI keeps, with the redirect URIs it allows:
// a private-use URI scheme (RFC 8252 §7.1) and a loopback IP redirect (§7.3), whose
// port the server then ignores.
func TestClientCreate_RFC8252_NativeApp(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create", "--file", writeFile(t, "native.json",
		`{"client_id":"desktop","application_type":"native","token_endpoint_auth_method":"none",`+
			`"redirect_uris":["com.example.desktop:/oauth2redirect","http://127.0.0.1/cb"],"scope":"openid"}`)).ok(t, &created{})
	stored := h.storedClient(t, "desktop")
	if !stored.Native() || !slices.Equal(stored.RedirectURIs, []string{"com.example.desktop:/oauth2redirect", "http://127.0.0.1/cb"}) {
		t.Fatalf("stored %+v", stored)
	}
	var shown struct {
		ApplicationType string `json:"application_type"`
	}
	h.run("", "client", "get", "desktop").ok(t, &shown)
	if shown.ApplicationType != oauth.ApplicationTypeNative {
		t.Errorf("client get shows application_type %q", shown.ApplicationType)
	}
}

// TestClientCreate_BrowserBasedApp_AllowedOrigins: allowed_origins (docs/design.md
// decision 30) is client metadata the CLI keeps and shows, checked by the seed's
// rules: an origin as a browser sends it, https or loopback http.
func TestClientCreate_BrowserBasedApp_AllowedOrigins(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create", "--file", writeFile(t, "spa.json",
		`{"client_id":"spa","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"],`+
			`"allowed_origins":["https://app.example","http://localhost:5173"],"scope":"openid"}`)).ok(t, &created{})
	if stored := h.storedClient(t, "spa"); !slices.Equal(stored.AllowedOrigins, []string{"https://app.example", "http://localhost:5173"}) ||
		!stored.AllowsOrigin("https://spa.example") || stored.AllowsOrigin("https://evil.example") {
		t.Fatalf("stored %+v", stored)
	}
	var shown struct {
		AllowedOrigins []string `json:"allowed_origins"`
	}
	h.run("", "client", "get", "spa").ok(t, &shown)
	if len(shown.AllowedOrigins) != 2 {
		t.Errorf("client get shows allowed_origins %v", shown.AllowedOrigins)
	}
	h.run("", "client", "create", "--file", writeFile(t, "bad.json",
		`{"client_id":"bad","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"],"allowed_origins":["https://app.example/"]}`)).
		fails(t, admin.ExitError, "allowed_origins entry")
}

// TestClientCreate_RPInitiatedLogout_3_PostLogoutRedirectURIs: post_logout_redirect_uris
// (RP-Initiated Logout 1.0 §3; docs/design.md decision 33) is client metadata the CLI
// keeps and shows, checked like redirect URIs.
func TestClientCreate_RPInitiatedLogout_3_PostLogoutRedirectURIs(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create", "--file", writeFile(t, "rp.json",
		`{"client_id":"rp","token_endpoint_auth_method":"none","redirect_uris":["https://rp.example/cb"],`+
			`"post_logout_redirect_uris":["https://rp.example/bye"],"scope":"openid"}`)).ok(t, &created{})
	if stored := h.storedClient(t, "rp"); !slices.Equal(stored.PostLogoutRedirectURIs, []string{"https://rp.example/bye"}) {
		t.Fatalf("stored %+v", stored)
	}
	var shown struct {
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	}
	h.run("", "client", "get", "rp").ok(t, &shown)
	if len(shown.PostLogoutRedirectURIs) != 1 {
		t.Errorf("client get shows post_logout_redirect_uris %v", shown.PostLogoutRedirectURIs)
	}
	h.run("", "client", "create", "--file", writeFile(t, "bad.json",
		`{"client_id":"bad","token_endpoint_auth_method":"none","redirect_uris":["https://rp.example/cb"],"post_logout_redirect_uris":["http://rp.example/bye"]}`)).
		fails(t, admin.ExitError, "post_logout_redirect_uris")
}

// RFC 6749 §4.4: the CLI accepts a client_credentials client without redirect
// URIs and gives it a secret it authenticates with.
func TestClientCreate_RFC6749_4_4_ClientCredentialsClient(t *testing.T) {
	h := newHarness(t)
	out := createClient(t, h, `{"client_id":"svc","grant_types":["client_credentials"],"scope":"api"}`)
	if out.Secret == "" {
		t.Fatalf("no secret printed: %+v", out)
	}
	c, err := h.service().AuthenticateClient(t.Context(), oauth.ClientCredentials{BasicUsed: true, BasicID: "svc", BasicSecret: out.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllowsGrant(oauth.GrantClientCredentials) || c.AllowsGrant(oauth.GrantAuthorizationCode) || len(c.RedirectURIs) != 0 {
		t.Errorf("stored %+v", c)
	}
	h.run("", "client", "create", "--file", writeFile(t, "pub.json",
		`{"client_id":"pub","token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`)).fails(t, admin.ExitError, "needs a client with credentials")
}

// JARM §3: authorization_signed_response_alg is client metadata the CLI keeps.
func TestClientCreate_JARM_3_KeepsAuthorizationSignedResponseAlg(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create", "--file", writeFile(t, "jarm.json",
		`{"client_id":"jarm-rp","redirect_uris":["https://rp.example/cb"],"authorization_signed_response_alg":"PS256"}`)).ok(t, &created{})
	if stored := h.storedClient(t, "jarm-rp"); stored.AuthorizationSignedResponseAlg != "PS256" {
		t.Errorf("stored %+v", stored)
	}
}

func TestClientCreate_FromStdin(t *testing.T) {
	h := newHarness(t)
	var out created
	h.run(appMeta, "client", "create", "--file", "-").ok(t, &out)
	if out.ClientID != "app" || out.Secret == "" {
		t.Errorf("created from stdin: %+v", out)
	}
}

// The metadata is checked by the seed file's rules (pkg/seed), with its messages.
func TestClientCreate_InvalidMetadataIsRefusedWithTheSeedMessage(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name, meta, want string
	}{
		{"no client_id", `{"redirect_uris":["https://a.example/cb"]}`, "client_id is required"},
		{"no redirect_uris", `{"client_id":"x"}`, "redirect_uris is required"},
		{"http redirect off loopback", `{"client_id":"x","redirect_uris":["http://a.example/cb"]}`, "http is allowed only on loopback"},
		{"fragment", `{"client_id":"x","redirect_uris":["https://a.example/cb#f"]}`, "must not have a fragment"},
		{"unknown method", `{"client_id":"x","token_endpoint_auth_method":"client_secret_jwt","redirect_uris":["https://a.example/cb"]}`,
			`token_endpoint_auth_method "client_secret_jwt" is not supported`},
		{"RFC 8705 tls_client_auth without a subject", `{"client_id":"x","token_endpoint_auth_method":"tls_client_auth","redirect_uris":["https://a.example/cb"]}`,
			"tls_client_auth needs exactly one of"},
		{"RFC 8705 a subject on a client_secret_basic client", `{"client_id":"x","tls_client_auth_san_dns":"a.example","redirect_uris":["https://a.example/cb"]}`,
			"tls_client_auth_san_dns is only for tls_client_auth clients"},
		{"private_key_jwt without keys", `{"client_id":"x","token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://a.example/cb"]}`,
			"private_key_jwt needs jwks or jwks_uri"},
		{"lifetime out of range", `{"client_id":"x","redirect_uris":["https://a.example/cb"],"pushed_request_lifetime":601}`,
			"pushed_request_lifetime must be from 5 to 600 seconds"},
		{"RFC 9126 §2.3 rate_limit not REQUESTS/SECONDS", `{"client_id":"x","redirect_uris":["https://a.example/cb"],"rate_limit":"600 per minute"}`,
			`rate_limit: rate limit "600 per minute": want REQUESTS/SECONDS`},
		{"unknown field", `{"client_id":"x","redirect_uri":"https://a.example/cb"}`, `unknown field "redirect_uri"`},
		{"client_secret given", `{"client_id":"x","client_secret":"` + strings.Repeat("s", 50) + `","redirect_uris":["https://a.example/cb"]}`,
			"client_secret must not be given"},
		{"hash given", `{"client_id":"x","client_secret_sha256":"AAAA","redirect_uris":["https://a.example/cb"]}`,
			"client_secret_sha256 is not client metadata"},
		{"relative resource", `{"client_id":"x","redirect_uris":["https://a.example/cb"],"resources":["/api"]}`,
			`resources entry "/api" must be an absolute URI without a fragment`},
		{"resource with a fragment", `{"client_id":"x","redirect_uris":["https://a.example/cb"],"resources":["https://api.example/#x"]}`,
			`resources entry "https://api.example/#x" must be an absolute URI without a fragment`},
		{"JARM §3 authorization_signed_response_alg none", `{"client_id":"x","redirect_uris":["https://a.example/cb"],"authorization_signed_response_alg":"none"}`,
			`authorization_signed_response_alg "none" is not one the server signs with`},
		{"RFC 8252 §7.1 a web client with a private-use URI scheme", `{"client_id":"x","redirect_uris":["com.example.app:/cb"]}`,
			"private-use URI schemes need application_type native"},
		{"RFC 8252 §8.4 a native client's private-use scheme without a period", `{"client_id":"x","application_type":"native","token_endpoint_auth_method":"none","redirect_uris":["myapp:/cb"]}`,
			"must be a reverse domain name"},
		{"RFC 8252 §7.1 a native client's private-use URI with two slashes", `{"client_id":"x","application_type":"native","token_endpoint_auth_method":"none","redirect_uris":["com.example.app://cb"]}`,
			"single slash after the scheme"},
		{"OIDC Registration §2 an unknown application_type", `{"client_id":"x","application_type":"desktop","redirect_uris":["https://a.example/cb"]}`,
			`application_type "desktop" is not supported`},
		{"not an object", `["x"]`, "parse client metadata"},
		{"two objects", `{"client_id":"x"} {"client_id":"y"}`, "more than one JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.run("", "client", "create", "--file", writeFile(t, "meta.json", tc.meta)).fails(t, admin.ExitError, tc.want)
		})
	}
	clients, err := h.store.ListClients(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != 0 {
		t.Errorf("invalid metadata stored %d clients", len(clients))
	}
}

func TestClientCreate_ATakenIDIsAnErrorAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	first := createClient(t, h, appMeta)
	h.run("", "client", "create", "--file", writeFile(t, "meta.json", appMeta)).fails(t, admin.ExitError, `client "app" already exists`)
	if _, err := h.service().AuthenticateClient(t.Context(), basic("app", first.Secret)); err != nil {
		t.Errorf("the first secret stopped working: %v", err)
	}
}

func TestClientCreate_MissingFileIsAUsageError(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create").fails(t, admin.ExitUsage, "client create needs --file")
	h.run("", "client", "create", "--file", "/nonexistent/meta.json").fails(t, admin.ExitError, "no such file")
}

func TestClientGet_ShowsTheMetadata(t *testing.T) {
	h := newHarness(t)
	createClient(t, h, appMeta)
	var got created
	h.run("", "client", "get", "app").ok(t, &got)
	if got.ClientID != "app" || !slices.Equal(got.RedirectURIs, []string{"https://app.example.com/cb"}) || !got.RequirePAR {
		t.Errorf("client get = %+v", got)
	}
}

// RFC 8707 §2: the client's resource indicators are client metadata the CLI stores.
func TestClientCreate_StoresResources(t *testing.T) {
	h := newHarness(t)
	meta := strings.Replace(appMeta, `"scope"`, `"resources": ["https://api.example.com/", "urn:example:ledger"], "scope"`, 1)
	createClient(t, h, meta)
	if got := h.storedClient(t, "app").Resources; !slices.Equal(got, []string{"https://api.example.com/", "urn:example:ledger"}) {
		t.Errorf("stored resources = %v", got)
	}
}

func TestClientGet_UnknownClientIsNotFound(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "get", "nobody").fails(t, admin.ExitError, `client "nobody" not found`)
}

func TestClientList_ListsEveryClientByID(t *testing.T) {
	h := newHarness(t)
	var empty []created
	h.run("", "client", "list").ok(t, &empty)
	if empty == nil || len(empty) != 0 {
		t.Errorf("empty list = %#v, want []", empty)
	}
	for _, id := range []string{"zz", "aa"} {
		createClient(t, h, strings.Replace(appMeta, `"app"`, `"`+id+`"`, 1))
	}
	var list []created
	h.run("", "client", "list").ok(t, &list)
	if len(list) != 2 || list[0].ClientID != "aa" || list[1].ClientID != "zz" {
		t.Errorf("client list = %+v", list)
	}
}

func TestClientUpdate_ReplacesTheMetadataAndKeepsTheSecret(t *testing.T) {
	h := newHarness(t)
	svc := h.service()
	first := createClient(t, h, appMeta)

	changed := strings.Replace(appMeta, "https://app.example.com/cb", "https://app.example.com/new", 1)
	r := h.run("", "client", "update", "app", "--file", writeFile(t, "meta.json", changed))
	var out created
	r.ok(t, &out)
	if out.Secret != "" || strings.Contains(r.stdout, `"client_secret":`) {
		t.Errorf("an update without --rotate-secret printed a secret:\n%s", r.stdout)
	}
	stored := h.storedClient(t, "app")
	if !slices.Equal(stored.RedirectURIs, []string{"https://app.example.com/new"}) {
		t.Errorf("redirect_uris = %v after update", stored.RedirectURIs)
	}
	if _, err := svc.AuthenticateClient(t.Context(), basic("app", first.Secret)); err != nil {
		t.Errorf("the secret stopped working after an update: %v", err)
	}

	// client_id may be left out of the file; the argument names the client.
	noID := strings.Replace(changed, `"client_id": "app",`, "", 1)
	h.run("", "client", "update", "app", "--file", writeFile(t, "meta.json", noID)).ok(t, nil)
}

func TestClientUpdate_RotateSecretPrintsANewSecretAndRetiresTheOld(t *testing.T) {
	h := newHarness(t)
	svc := h.service()
	first := createClient(t, h, appMeta)

	// Flags may follow the client id.
	r := h.run("", "client", "update", "app", "--file", writeFile(t, "meta.json", appMeta), "--rotate-secret")
	var out created
	r.ok(t, &out)
	if len(out.Secret) != 43 || out.Secret == first.Secret {
		t.Fatalf("rotated secret %q (first %q)", out.Secret, first.Secret)
	}
	if n := strings.Count(r.stdout, out.Secret); n != 1 || strings.Contains(r.stderr, out.Secret) {
		t.Errorf("the new secret appears %d times on stdout (and on stderr: %v)", n, strings.Contains(r.stderr, out.Secret))
	}
	if _, err := svc.AuthenticateClient(t.Context(), basic("app", out.Secret)); err != nil {
		t.Errorf("the new secret: %v", err)
	}
	if _, err := svc.AuthenticateClient(t.Context(), basic("app", first.Secret)); err == nil {
		t.Error("the old secret still works after --rotate-secret")
	}
}

func TestClientUpdate_AClientThatGainsASecretGetsOne(t *testing.T) {
	h := newHarness(t)
	createClient(t, h, `{"client_id":"spa","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example/cb"]}`)
	var out created
	h.run("", "client", "update", "spa", "--file", writeFile(t, "meta.json",
		`{"client_id":"spa","token_endpoint_auth_method":"client_secret_post","redirect_uris":["https://spa.example/cb"]}`)).ok(t, &out)
	if out.Secret == "" {
		t.Fatal("a client that became confidential got no secret")
	}
	if _, err := h.service().AuthenticateClient(t.Context(), oauth.ClientCredentials{BodyClientID: "spa", BodySecret: out.Secret}); err != nil {
		t.Errorf("the generated secret: %v", err)
	}
}

func TestClientUpdate_Errors(t *testing.T) {
	h := newHarness(t)
	first := createClient(t, h, appMeta)
	meta := writeFile(t, "meta.json", appMeta)

	h.run("", "client", "update", "nobody", "--file", writeFile(t, "nobody.json", strings.Replace(appMeta, `"app"`, `"nobody"`, 1))).
		fails(t, admin.ExitError, `client "nobody" not found`)
	h.run("", "client", "update", "other", "--file", meta).fails(t, admin.ExitError, `client_id "app" in`)
	h.run("", "client", "update", "app", "--file", writeFile(t, "bad.json", `{"client_id":"app"}`)).
		fails(t, admin.ExitError, "redirect_uris is required")
	h.run("", "client", "update", "app", "--rotate-secret", "--file", writeFile(t, "public.json",
		`{"client_id":"app","token_endpoint_auth_method":"none","redirect_uris":["https://app.example.com/cb"]}`)).
		fails(t, admin.ExitError, "has no client secret")
	h.run("", "client", "update", "app").fails(t, admin.ExitUsage, "client update needs --file")
	h.run("", "client", "update", "--file", meta).fails(t, admin.ExitUsage, "takes one argument, ID")

	if _, err := h.service().AuthenticateClient(t.Context(), basic("app", first.Secret)); err != nil {
		t.Errorf("a failed update changed the client: %v", err)
	}
}

func TestClientDelete_ThenGetIsNotFound(t *testing.T) {
	h := newHarness(t)
	first := createClient(t, h, appMeta)
	var out struct {
		ClientID string `json:"client_id"`
		Deleted  bool   `json:"deleted"`
	}
	h.run("", "client", "delete", "app").ok(t, &out)
	if out.ClientID != "app" || !out.Deleted {
		t.Errorf("client delete printed %+v", out)
	}
	h.run("", "client", "get", "app").fails(t, admin.ExitError, `client "app" not found`)
	h.run("", "client", "delete", "app").fails(t, admin.ExitError, `client "app" not found`)
	if _, err := h.service().AuthenticateClient(t.Context(), basic("app", first.Secret)); err == nil {
		t.Error("a deleted client authenticated")
	}
	if _, err := h.store.GetClient(t.Context(), "app"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("GetClient after delete = %v", err)
	}
}

// RFC 9126 §2.3 (429): a client's own rate_limit, REQUESTS/SECONDS or off, is
// stored as given, shown by client get and changed by client update
// (docs/design.md decision 23).
func TestClient_RFC9126_2_3_RateLimitIsStoredShownAndUpdated(t *testing.T) {
	h := newHarness(t)
	meta := strings.Replace(appMeta, `"scope"`, `"rate_limit": "1200/60", "scope"`, 1)
	createClient(t, h, meta)
	if got := h.storedClient(t, "app").RateLimit; got != "1200/60" {
		t.Errorf("stored rate_limit %q, want 1200/60", got)
	}
	var shown struct {
		RateLimit string `json:"rate_limit"`
	}
	h.run("", "client", "get", "app").ok(t, &shown)
	if shown.RateLimit != "1200/60" {
		t.Errorf("client get shows rate_limit %q, want 1200/60", shown.RateLimit)
	}
	off := strings.Replace(appMeta, `"scope"`, `"rate_limit": "off", "scope"`, 1)
	h.run("", "client", "update", "app", "--file", writeFile(t, "meta.json", off)).ok(t, nil)
	if got := h.storedClient(t, "app").RateLimit; got != oauth.RateLimitOff {
		t.Errorf("rate_limit after update %q, want off", got)
	}
}

// TestClientCreate_BackchannelLogout_2_2_URI: backchannel_logout_uri and
// backchannel_logout_session_required (OpenID Connect Back-Channel Logout 1.0 §2.2;
// docs/design.md decision 34) are client metadata the CLI keeps and shows; the URI is
// absolute, https (http on loopback), without a fragment.
func TestClientCreate_BackchannelLogout_2_2_URI(t *testing.T) {
	h := newHarness(t)
	h.run("", "client", "create", "--file", writeFile(t, "rp.json",
		`{"client_id":"rp","token_endpoint_auth_method":"none","redirect_uris":["https://rp.example/cb"],`+
			`"backchannel_logout_uri":"https://rp.example/bcl","backchannel_logout_session_required":true,"scope":"openid"}`)).ok(t, &created{})
	if stored := h.storedClient(t, "rp"); stored.BackchannelLogoutURI != "https://rp.example/bcl" || !stored.BackchannelLogoutSessionRequired {
		t.Fatalf("stored %+v", stored)
	}
	var shown struct {
		URI      string `json:"backchannel_logout_uri"`
		Required bool   `json:"backchannel_logout_session_required"`
	}
	h.run("", "client", "get", "rp").ok(t, &shown)
	if shown.URI != "https://rp.example/bcl" || !shown.Required {
		t.Errorf("client get shows %+v", shown)
	}
	for _, bad := range []string{"http://rp.example/bcl", "https://rp.example/bcl#f", "/bcl"} {
		h.run("", "client", "create", "--file", writeFile(t, "bad.json",
			`{"client_id":"bad","token_endpoint_auth_method":"none","redirect_uris":["https://rp.example/cb"],"backchannel_logout_uri":"`+bad+`"}`)).
			fails(t, admin.ExitError, "backchannel_logout_uri")
	}
}
