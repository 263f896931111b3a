package admin_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// withProviderSecrets gives the CLI a secret prefix of the test's own (moto_server
// is shared) and returns a client of its Secrets Manager.
func (h *harness) withProviderSecrets() (*secretsmanager.Client, string) {
	h.tb.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "pargate/t" + hex.EncodeToString(b) + "/idp/"
	h.env[admin.EnvIDPSecretPrefix] = prefix
	return secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(h.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}), prefix
}

func secretValue(tb testing.TB, sm *secretsmanager.Client, name string) (string, error) {
	tb.Helper()
	out, err := sm.GetSecretValue(tb.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.SecretString), nil
}

type providerOut struct {
	oauth.IdentityProvider
	SecretID string `json:"secret_id"`
}

const upstreamSecret = "upstream-client-secret-0123456789"

// Issue 13: idp add writes the secret to Secrets Manager (from stdin), then the
// item without it; nothing secret is printed.
func TestIdp_AddWritesTheSecretToSecretsManagerAndTheItemWithoutIt(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	var out providerOut
	r := h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://login.example.com/tenant/v2.0",
		"--client-id", "pargate", "--display-name", "Corp SSO", "--claim", "upn=email", "--claim", "name=name", "--trust-email").ok(t, &out)
	if strings.Contains(r.stdout+r.stderr, upstreamSecret) {
		t.Errorf("idp add printed the secret:\n%s\n%s", r.stdout, r.stderr)
	}
	if out.ID != "corp" || out.SecretID != prefix+"corp" || !out.Enabled || !out.TrustEmail || out.Claims["upn"] != "email" || out.ClientSecret != "" {
		t.Errorf("printed %+v", out)
	}
	if !strings.Contains(r.stderr, "ISSUER/federation/callback") {
		t.Errorf("idp add does not say which callback to register:\n%s", r.stderr)
	}
	item, err := h.store.GetIdentityProvider(t.Context(), "corp")
	if err != nil {
		t.Fatal(err)
	}
	if item.ClientSecret != "" || item.SecretID != prefix+"corp" || item.DisplayName != "Corp SSO" || item.Issuer != "https://login.example.com/tenant/v2.0" {
		t.Errorf("stored %+v", item)
	}
	if v, err := secretValue(t, sm, prefix+"corp"); err != nil || v != `{"client_secret":"`+upstreamSecret+`"}` {
		t.Errorf("secret = %q, %v", v, err)
	}
	h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://other.example.com", "--client-id", "x").
		fails(t, admin.ExitError, `identity provider "corp" already exists`)
}

func TestIdp_AddTakesTheSecretFromTheTerminalOrAFileNeverAFlag(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	h.prompt = func(string) (string, error) { return "typed-" + upstreamSecret, nil }
	h.run("", "idp", "add", "typed", "--issuer", "https://idp.example.com", "--client-id", "pargate").ok(t, nil)
	if v, _ := secretValue(t, sm, prefix+"typed"); !strings.Contains(v, "typed-"+upstreamSecret) {
		t.Errorf("prompted secret not stored: %s", v)
	}
	h.prompt = nil
	key := writeFile(t, "key.jwk", oauthtest.ProviderPrivateKey+"\n")
	h.run("", "idp", "add", "eid", "--issuer", "https://eid.example.com", "--client-id", "pargate",
		"--token-endpoint-auth-method", "private_key_jwt", "--secret-file", key).ok(t, nil)
	if v, _ := secretValue(t, sm, prefix+"eid"); !strings.HasPrefix(v, `{"private_key":{"kty":"EC"`) {
		t.Errorf("private key secret = %s", v)
	}
	h.run("", "idp", "add", "pub", "--issuer", "https://eid.example.com", "--client-id", "pargate",
		"--token-endpoint-auth-method", "private_key_jwt", "--secret-file", writeFile(t, "pub.jwk", `{"kty":"EC","crv":"P-256","x":"a","y":"b"}`)).
		fails(t, admin.ExitError, "a private JWK")
	h.run("", "idp", "add", "nosecret", "--issuer", "https://idp.example.com", "--client-id", "pargate").
		fails(t, admin.ExitError, "no client secret")
	h.run("x", "idp", "add", "flag", "--issuer", "https://idp.example.com", "--client-id", "pargate", "--client-secret", "s").
		fails(t, admin.ExitUsage, "client-secret")
	for _, id := range []string{"nosecret", "pub"} {
		if _, err := h.store.GetIdentityProvider(t.Context(), id); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("a refused add stored %s: %v", id, err)
		}
	}
}

func TestIdp_AddRefusesABadProvider(t *testing.T) {
	h := newHarness(t)
	h.withProviderSecrets()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bad id", "--issuer", "https://idp.example.com", "--client-id", "c"}, "must be 1 to 32 of a-z"},
		{[]string{"corp", "--issuer", "http://idp.example.com", "--client-id", "c"}, "must use https"},
		{[]string{"corp", "--issuer", "https://idp.example.com?x=1", "--client-id", "c"}, "without query"},
		{[]string{"corp", "--client-id", "c"}, "--issuer is required"},
		{[]string{"corp", "--issuer", "https://idp.example.com"}, "--client-id is required"},
		{[]string{"corp", "--issuer", "https://idp.example.com", "--client-id", "c", "--token-endpoint-auth-method", "none"}, "token_endpoint_auth_method"},
		{[]string{"corp", "--issuer", "https://idp.example.com", "--client-id", "c", "--scope", "email"}, "including openid"},
	} {
		h.run(upstreamSecret, append([]string{"idp", "add"}, c.args...)...).fails(t, admin.ExitError, c.want)
	}
	// Loopback http is the local demo's upstream.
	h.run(upstreamSecret, "idp", "add", "local", "--issuer", "http://127.0.0.1:9000", "--client-id", "c").ok(t, nil)
	h.env = map[string]string{}
	h.run(upstreamSecret, "idp", "add", "corp", "--issuer", "https://idp.example.com", "--client-id", "c").
		fails(t, admin.ExitUsage, "no identity provider secret prefix")
}

func TestIdp_ListNeverPrintsSecrets(t *testing.T) {
	h := newHarness(t)
	h.withProviderSecrets()
	for _, id := range []string{"zeta", "alpha"} {
		h.run(upstreamSecret+"\n", "idp", "add", id, "--issuer", "https://"+id+".example.com", "--client-id", "pargate").ok(t, nil)
	}
	var list []providerOut
	r := h.run("", "idp", "list").ok(t, &list)
	if len(list) != 2 || list[0].ID != "alpha" || list[1].ID != "zeta" || list[0].SecretID == "" {
		t.Errorf("idp list = %+v", list)
	}
	if strings.Contains(r.stdout, upstreamSecret) || strings.Contains(r.stdout, `"client_secret"`) || strings.Contains(r.stdout, `"private_key"`) {
		t.Errorf("idp list printed a secret:\n%s", r.stdout)
	}
}

// update changes only the fields given; the secret stays unless asked for, and a
// switch to private_key_jwt needs the key.
func TestIdp_UpdateChangesTheGivenFieldsAndTheSecretOnlyWhenAsked(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://idp.example.com", "--client-id", "pargate", "--claim", "a=b").ok(t, nil)
	h.run("", "idp", "update", "corp", "--display-name", "Corp", "--enabled=false").ok(t, nil)
	p, _ := h.store.GetIdentityProvider(t.Context(), "corp")
	if p.DisplayName != "Corp" || p.Enabled || p.Issuer != "https://idp.example.com" || p.Claims["a"] != "b" {
		t.Errorf("after update: %+v", p)
	}
	if v, _ := secretValue(t, sm, prefix+"corp"); !strings.Contains(v, upstreamSecret) {
		t.Errorf("update without --new-secret changed the secret: %s", v)
	}
	h.run("rotated-"+upstreamSecret+"\n", "idp", "update", "corp", "--new-secret", "--clear-claims").ok(t, nil)
	if v, _ := secretValue(t, sm, prefix+"corp"); !strings.Contains(v, "rotated-"+upstreamSecret) {
		t.Errorf("--new-secret did not replace the secret: %s", v)
	}
	if p, _ := h.store.GetIdentityProvider(t.Context(), "corp"); p.Claims != nil {
		t.Errorf("--clear-claims left %v", p.Claims)
	}
	h.run("", "idp", "update", "corp", "--token-endpoint-auth-method", "private_key_jwt").
		fails(t, admin.ExitError, "no private key")
	h.run(oauthtest.ProviderPrivateKey, "idp", "update", "corp", "--token-endpoint-auth-method", "private_key_jwt").ok(t, nil)
	if v, _ := secretValue(t, sm, prefix+"corp"); !strings.Contains(v, `"private_key"`) || strings.Contains(v, upstreamSecret) {
		t.Errorf("after the switch to private_key_jwt the secret is %s", v)
	}
	h.run("", "idp", "update", "nope", "--display-name", "x").fails(t, admin.ExitError, `identity provider "nope" not found`)
}

func TestIdp_DisableEnableAndRemove(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://idp.example.com", "--client-id", "pargate").ok(t, nil)
	var out providerOut
	h.run("", "idp", "disable", "corp").ok(t, &out)
	if out.Enabled {
		t.Error("idp disable printed an enabled provider")
	}
	if p, _ := h.store.GetIdentityProvider(t.Context(), "corp"); p.Enabled {
		t.Error("idp disable left the provider enabled")
	}
	h.run("", "idp", "enable", "corp").ok(t, &out)
	if p, _ := h.store.GetIdentityProvider(t.Context(), "corp"); !p.Enabled {
		t.Error("idp enable left the provider disabled")
	}
	h.run("", "idp", "remove", "corp").ok(t, nil)
	if _, err := h.store.GetIdentityProvider(t.Context(), "corp"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("after remove: %v", err)
	}
	if _, err := secretValue(t, sm, prefix+"corp"); err == nil {
		t.Error("idp remove left the secret")
	}
	h.run("", "idp", "remove", "corp").fails(t, admin.ExitError, `identity provider "corp" not found`)
	h.run("", "idp", "disable", "corp").fails(t, admin.ExitError, `identity provider "corp" not found`)
	// The id can be added again at once (no recovery window holds the name).
	h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://idp.example.com", "--client-id", "pargate").ok(t, nil)
}

// The seed's identity_providers are imported: secrets to Secrets Manager, items
// without them.
func TestImport_WritesTheSeedsIdentityProvidersAndTheirSecrets(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	path := writeFile(t, "seed.json", `{"identity_providers": [
		{"id": "corp", "display_name": "Corp", "issuer": "https://idp.example.com", "client_id": "pargate",
		 "client_secret": "`+upstreamSecret+`", "claims": {"upn": "email"}, "enabled": true},
		{"id": "eid", "display_name": "eID", "issuer": "https://eid.example.com", "client_id": "pargate",
		 "token_endpoint_auth_method": "private_key_jwt", "private_key": `+jsonString(oauthtest.ProviderPrivateKey)+`, "enabled": false}
	]}`)
	var out struct {
		IdentityProviders []string `json:"identity_providers"`
	}
	r := h.run("", "import", path).ok(t, &out)
	if strings.Join(out.IdentityProviders, ",") != "corp,eid" || strings.Contains(r.stdout+r.stderr, upstreamSecret) {
		t.Errorf("import printed %s\n%s", r.stdout, r.stderr)
	}
	list, err := h.store.ListIdentityProviders(t.Context())
	if err != nil || len(list) != 2 || list[0].ClientSecret != "" || list[1].PrivateKey != "" || list[1].Enabled {
		t.Fatalf("stored %+v, %v", list, err)
	}
	if v, _ := secretValue(t, sm, prefix+"corp"); !strings.Contains(v, upstreamSecret) {
		t.Errorf("corp's secret = %s", v)
	}
	if v, _ := secretValue(t, sm, prefix+"eid"); !strings.Contains(v, `"private_key"`) {
		t.Errorf("eid's secret = %s", v)
	}
	// Import again: replaced, not duplicated.
	h.run("", "import", path).ok(t, nil)
	h.env = map[string]string{}
	h.run("", "import", path).fails(t, admin.ExitUsage, "--idp-secret-prefix")
}

func jsonString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// A multi-Region stack's authorize functions read their own Region's replica: a new
// provider secret gets one in each of --replica-regions ($REPLICA_REGIONS).
func TestIdp_AddReplicatesTheSecretToTheReplicaRegions(t *testing.T) {
	h := newHarness(t)
	sm, prefix := h.withProviderSecrets()
	h.env[admin.EnvReplicaRegions] = "eu-central-1, eu-north-1"
	h.run(upstreamSecret+"\n", "idp", "add", "corp", "--issuer", "https://idp.example.com", "--client-id", "pargate").ok(t, nil)
	out, err := sm.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(prefix + "corp")})
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for _, r := range out.ReplicationStatus {
		regions = append(regions, aws.ToString(r.Region))
	}
	if strings.Join(regions, ",") != "eu-central-1,eu-north-1" {
		t.Errorf("replicas in %v, want eu-central-1 and eu-north-1", regions)
	}
}
