package awsapp_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
	"github.com/pargate/pargate/pkg/secrets"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// awsProviders is the AWS side of issue 13 on moto_server: the table store of a new
// table and Secrets Manager, written as the seed import writes them
// (secrets.ProviderWriter) and read as the authorize function reads them
// (awsapp.IdentityProviders, here uncached).
func awsProviders(t *testing.T) (oauth.IdentityProviders, *secrets.ProviderWriter, *dynamo.Store, *secretsmanager.Client) {
	t.Helper()
	endpoint := dynamotest.Endpoint(t)
	db := dynamotest.Client(t, endpoint)
	store := dynamo.New(db, dynamotest.NewTable(t, db))
	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	// A prefix of this test's own: moto_server is shared by the package's tests.
	prefix := "pargate/" + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "/idp/"
	w := &secrets.ProviderWriter{Secrets: sm, Items: store, Prefix: prefix}
	return awsapp.IdentityProviders(store, sm, prefix, 0, nil), w, store, sm
}

func TestIdentityProvidersContract_TableAndSecretsManager(t *testing.T) {
	oauthtest.RunIdentityProvidersContract(t, func(t *testing.T) (oauth.IdentityProviders, oauth.ProviderRegistry) {
		r, w, _, _ := awsProviders(t)
		return r, w
	})
}

// The secret is in Secrets Manager under the stack's prefix, and the item names it.
func TestIdentityProviders_TheSecretIsInSecretsManagerUnderThePrefix(t *testing.T) {
	_, w, store, sm := awsProviders(t)
	p := oauthtest.IdentityProvider(t, "corp")
	if err := w.PutIdentityProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	item, err := store.GetIdentityProvider(t.Context(), "corp")
	if err != nil {
		t.Fatal(err)
	}
	if want := w.Prefix + "corp"; item.SecretID != want || item.ClientSecret != "" {
		t.Fatalf("item = %+v, want no secret and SecretID %s", item, want)
	}
	out, err := sm.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(item.SecretID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.SecretString); got != `{"client_secret":"`+p.ClientSecret+`"}` {
		t.Errorf("secret value = %s", got)
	}
}

// An item that names another secret than its provider's own (someone who may write
// the table, not the secrets) is refused - the provider comes back disabled, without
// a secret: the function never sends, say, the signing keys to an upstream of the
// item's choosing - and the other providers are still served.
func TestIdentityProviders_AnItemNamingAnotherSecretIsRefused(t *testing.T) {
	r, w, store, sm := awsProviders(t)
	for _, id := range []string{"corp", "other"} {
		if err := w.PutIdentityProvider(t.Context(), oauthtest.IdentityProvider(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(w.Prefix + "-signing-keys"), SecretString: aws.String(`{"client_secret":"signing keys"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{w.Prefix + "other", aws.ToString(keys.ARN), ""} {
		planted := oauthtest.IdentityProvider(t, "corp")
		planted.ClientSecret, planted.Issuer, planted.SecretID = "", "https://attacker.example", name
		if err := store.PutIdentityProvider(t.Context(), planted); err != nil {
			t.Fatal(err)
		}
		p, err := r.GetIdentityProvider(t.Context(), "corp")
		if err != nil || p.Enabled || p.ClientSecret != "" {
			t.Errorf("secret_id %q: GetIdentityProvider = %+v, %v; want it disabled without a secret", name, p, err)
		}
		if o, err := r.GetIdentityProvider(t.Context(), "other"); err != nil || !o.Enabled || o.ClientSecret == "" {
			t.Errorf("secret_id %q: the other provider = %+v, %v", name, o, err)
		}
	}
}

// A disabled provider is listed without its secret: its secret is not read (it may
// even be gone).
func TestIdentityProviders_ADisabledProviderComesWithoutItsSecret(t *testing.T) {
	r, w, _, sm := awsProviders(t)
	p := oauthtest.IdentityProvider(t, "corp")
	p.Enabled = false
	if err := w.PutIdentityProvider(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if err := secrets.DeleteProviderSecret(t.Context(), sm, w.Prefix+"corp"); err != nil {
		t.Fatal(err)
	}
	got, err := r.GetIdentityProvider(t.Context(), "corp")
	if err != nil {
		t.Fatalf("GetIdentityProvider: %v", err)
	}
	if got.Enabled || got.ClientSecret != "" || got.ClientID != p.ClientID {
		t.Errorf("got %+v", got)
	}
}

// An enabled provider whose secret is missing or malformed is never served as usable
// without credentials: it comes back disabled, the others stay enabled, and the
// warning names it without a secret value.
func TestIdentityProviders_AProviderWithoutAUsableSecretComesBackDisabled(t *testing.T) {
	_, w, store, sm := awsProviders(t)
	var logs strings.Builder
	r := awsapp.IdentityProviders(store, sm, w.Prefix, 0, slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, id := range []string{"corp", "broken", "ok"} {
		if err := w.PutIdentityProvider(t.Context(), oauthtest.IdentityProvider(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := secrets.DeleteProviderSecret(context.WithoutCancel(t.Context()), sm, w.Prefix+"corp"); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(w.Prefix + "broken"), SecretString: aws.String(`upstream-secret-not-json`)}); err != nil {
		t.Fatal(err)
	}
	list, err := r.ListIdentityProviders(t.Context())
	if err != nil {
		t.Fatalf("ListIdentityProviders: %v", err)
	}
	enabled := map[string]bool{}
	for _, p := range list {
		enabled[p.ID] = p.Enabled
		if !p.Enabled && p.ClientSecret != "" {
			t.Errorf("disabled %s kept a secret", p.ID)
		}
	}
	if enabled["corp"] || enabled["broken"] || !enabled["ok"] {
		t.Errorf("enabled = %v, want only ok", enabled)
	}
	if !strings.Contains(logs.String(), `"idp":"corp"`) || !strings.Contains(logs.String(), `"idp":"broken"`) || strings.Contains(logs.String(), "upstream-secret") {
		t.Errorf("logs:\n%s", logs.String())
	}
	if errors.Is(err, oauth.ErrNotFound) {
		t.Error(err)
	}
}
