package oauthtest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// ProviderPrivateKey is a private EC P-256 JWK (ES256) of the broker, for
// private_key_jwt at an upstream; test data only.
const ProviderPrivateKey = `{"kty":"EC","crv":"P-256","kid":"broker-1","alg":"ES256",` +
	`"x":"O3RVFwrS_LdEnaDlowb-PXHMZRjDtnm-odTRGzyYF8M","y":"MSsxSEO-elWLnyAbvsqIhzPGkGuENr3oym7KM2HGz6w",` +
	`"d":"LVvdTyBZK3eiYyy8cjCmcxFCYPDdLiYYp28yNZrMb5I"}`

// IdentityProvider returns an enabled upstream provider id with every field set and
// a client secret (client_secret_basic).
func IdentityProvider(tb testing.TB, id string) *oauth.IdentityProvider {
	tb.Helper()
	return &oauth.IdentityProvider{
		ID:                      id,
		DisplayName:             "Example " + id,
		Issuer:                  "https://" + id + ".idp.example.com",
		ClientID:                "pargate-broker",
		ClientSecret:            "upstream-secret-of-" + id + "-0123456789abcdef",
		TokenEndpointAuthMethod: oauth.AuthClientSecretBasic,
		Scope:                   "openid email profile",
		Claims:                  map[string]string{"email": "email", "preferred_username": "name"},
		TrustEmail:              true,
		Enabled:                 true,
	}
}

// RunIdentityProvidersContract runs the promises of oauth.IdentityProviders and
// oauth.ProviderRegistry against the providers newStore returns (a reader and a
// writer of the same, empty store): every field comes back, the client secret or
// the private key included; Put replaces; a disabled provider is still returned by
// Get and List; List is ordered by ID; an unknown ID is oauth.ErrNotFound; the store
// keeps no reference to the caller's values. SecretID is where the secret is kept
// (set on AWS, empty in memory) and is not compared.
func RunIdentityProvidersContract(t *testing.T, newStore func(t *testing.T) (oauth.IdentityProviders, oauth.ProviderRegistry)) {
	t.Helper()
	for _, c := range []struct {
		name string
		test func(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry)
	}{
		{"IdentityProvider/PutThenGetReturnsEveryFieldWithTheClientSecret", testProviderPutThenGet},
		{"IdentityProvider/PrivateKeyJWTKeepsThePrivateKey", testProviderPrivateKeyJWT},
		{"IdentityProvider/GetUnknownIsNotFound", testProviderGetUnknown},
		{"IdentityProvider/PutReplacesEveryFieldAndTheSecretKind", testProviderPutReplaces},
		{"IdentityProvider/DisabledIsReturnedByGetAndList", testProviderDisabled},
		{"IdentityProvider/ListIsOrderedByIDAndEmptyWhenNone", testProviderListOrdered},
		{"IdentityProvider/StoreKeepsNoReferenceToCallersValues", testProviderNoReference},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, w := newStore(t)
			c.test(t, r, w)
		})
	}
}

func mustPutProvider(tb testing.TB, w oauth.ProviderRegistry, p *oauth.IdentityProvider) {
	tb.Helper()
	if err := w.PutIdentityProvider(tb.Context(), p); err != nil {
		tb.Fatalf("PutIdentityProvider(%s): %v", p.ID, err)
	}
}

func mustGetProvider(tb testing.TB, r oauth.IdentityProviders, id string) *oauth.IdentityProvider {
	tb.Helper()
	p, err := r.GetIdentityProvider(tb.Context(), id)
	if err != nil {
		tb.Fatalf("GetIdentityProvider(%s): %v", id, err)
	}
	return p
}

// sameProvider compares got with want, SecretID aside.
func sameProvider(tb testing.TB, got, want *oauth.IdentityProvider) {
	tb.Helper()
	g, w := *got, *want
	g.SecretID, w.SecretID = "", ""
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("provider is\n%+v\nwant\n%+v", g, w)
	}
}

func testProviderPutThenGet(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	p := IdentityProvider(t, "corp")
	mustPutProvider(t, w, p)
	sameProvider(t, mustGetProvider(t, r, "corp"), p)
}

func testProviderPrivateKeyJWT(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	p := IdentityProvider(t, "eid")
	p.ClientSecret = ""
	p.TokenEndpointAuthMethod = oauth.AuthPrivateKeyJWT
	p.PrivateKey = ProviderPrivateKey
	mustPutProvider(t, w, p)
	sameProvider(t, mustGetProvider(t, r, "eid"), p)
}

func testProviderGetUnknown(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	mustPutProvider(t, w, IdentityProvider(t, "corp"))
	for _, id := range []string{"nope", "", "corp2", "Corp"} {
		if _, err := r.GetIdentityProvider(t.Context(), id); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("GetIdentityProvider(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func testProviderPutReplaces(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	mustPutProvider(t, w, IdentityProvider(t, "corp"))
	changed := &oauth.IdentityProvider{
		ID:                      "corp",
		DisplayName:             "Corp (new tenant)",
		Issuer:                  "https://login.example.net/tenant-2/v2.0",
		ClientID:                "other-client",
		TokenEndpointAuthMethod: oauth.AuthPrivateKeyJWT,
		PrivateKey:              ProviderPrivateKey,
		Enabled:                 true,
	}
	mustPutProvider(t, w, changed)
	got := mustGetProvider(t, r, "corp")
	sameProvider(t, got, changed)
	if got.ClientSecret != "" {
		t.Error("the replaced provider kept its old client secret")
	}
}

func testProviderDisabled(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	p := IdentityProvider(t, "corp")
	p.Enabled = false
	mustPutProvider(t, w, p)
	if got := mustGetProvider(t, r, "corp"); got.Enabled {
		t.Error("a disabled provider came back enabled")
	}
	list, err := r.ListIdentityProviders(t.Context())
	if err != nil {
		t.Fatalf("ListIdentityProviders: %v", err)
	}
	if len(list) != 1 || list[0].ID != "corp" || list[0].Enabled {
		t.Errorf("ListIdentityProviders = %+v, want the one disabled provider", list)
	}
}

func testProviderListOrdered(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	list, err := r.ListIdentityProviders(t.Context())
	if err != nil || len(list) != 0 {
		t.Fatalf("ListIdentityProviders of an empty store = %v, %v; want none", list, err)
	}
	for _, id := range []string{"zeta", "alpha", "mid"} {
		mustPutProvider(t, w, IdentityProvider(t, id))
	}
	mustPutProvider(t, w, IdentityProvider(t, "alpha")) // a replace lists once
	list, err = r.ListIdentityProviders(t.Context())
	if err != nil {
		t.Fatalf("ListIdentityProviders: %v", err)
	}
	var ids []string
	for _, p := range list {
		ids = append(ids, p.ID)
	}
	if want := []string{"alpha", "mid", "zeta"}; !slices.Equal(ids, want) {
		t.Fatalf("ListIdentityProviders ids = %v, want %v", ids, want)
	}
	sameProvider(t, list[1], IdentityProvider(t, "mid"))
}

func testProviderNoReference(t *testing.T, r oauth.IdentityProviders, w oauth.ProviderRegistry) {
	p := IdentityProvider(t, "corp")
	mustPutProvider(t, w, p)
	p.Claims["email"] = "changed"
	p.DisplayName = "changed"
	got := mustGetProvider(t, r, "corp")
	sameProvider(t, got, IdentityProvider(t, "corp"))
	got.Claims["email"] = "changed again"
	sameProvider(t, mustGetProvider(t, r, "corp"), IdentityProvider(t, "corp"))
	list, err := r.ListIdentityProviders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	list[0].Claims["email"] = "changed in a list"
	sameProvider(t, mustGetProvider(t, r, "corp"), IdentityProvider(t, "corp"))
}
