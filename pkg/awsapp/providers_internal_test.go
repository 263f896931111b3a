package awsapp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/pargate/pargate/pkg/oauth"
)

// fakeItems is a table of providers that counts its reads.
type fakeItems struct {
	list  []*oauth.IdentityProvider
	err   error
	reads int
}

func (f *fakeItems) GetIdentityProvider(context.Context, string) (*oauth.IdentityProvider, error) {
	panic("the cache serves Get from its list")
}

func (f *fakeItems) ListIdentityProviders(context.Context) ([]*oauth.IdentityProvider, error) {
	f.reads++
	if f.err != nil {
		return nil, f.err
	}
	out := make([]*oauth.IdentityProvider, len(f.list))
	for i, p := range f.list {
		out[i] = cloneProvider(p)
	}
	return out, nil
}

// countingSecrets answers every read with a client secret and counts the reads.
type countingSecrets struct{ reads int }

func (c *countingSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	c.reads++
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(`{"client_secret":"s3cret-of-` + aws.ToString(in.SecretId) + `"}`)}, nil
}

// `pargate idp disable` takes effect on an instance within IdentityProviderTTL, and
// not before the list is that old: one table read and one secret read per enabled
// provider per TTL, whatever the number of Gets and Lists, unknown ids included.
func TestIdentityProviders_CachedForTheTTLThenReadAgain(t *testing.T) {
	items := &fakeItems{list: []*oauth.IdentityProvider{
		{ID: "corp", Enabled: true, SecretID: "pfx/corp"},
		{ID: "old", Enabled: false, SecretID: "pfx/old"},
	}}
	sm := &countingSecrets{}
	now := time.Unix(1_700_000_000, 0)
	c := IdentityProviders(items, sm, "pfx/", IdentityProviderTTL, nil).(*providerCache)
	c.now = func() time.Time { return now }
	ctx := t.Context()

	for range 3 {
		p, err := c.GetIdentityProvider(ctx, "corp")
		if err != nil || !p.Enabled || p.ClientSecret != "s3cret-of-pfx/corp" {
			t.Fatalf("Get = %+v, %v", p, err)
		}
		if _, err := c.GetIdentityProvider(ctx, "random-id-from-a-browser"); !errors.Is(err, oauth.ErrNotFound) {
			t.Fatalf("Get of an unknown id = %v", err)
		}
		if list, err := c.ListIdentityProviders(ctx); err != nil || len(list) != 2 {
			t.Fatalf("List = %v, %v", list, err)
		}
	}
	if items.reads != 1 || sm.reads != 1 {
		t.Fatalf("reads: table %d, secrets %d; want 1 and 1 (the disabled provider's secret is not read)", items.reads, sm.reads)
	}

	items.list[0].Enabled = false // pargate idp disable corp
	now = now.Add(IdentityProviderTTL - time.Millisecond)
	if p, _ := c.GetIdentityProvider(ctx, "corp"); !p.Enabled || items.reads != 1 {
		t.Fatalf("before the TTL: enabled %v after %d reads; want the cached provider", p.Enabled, items.reads)
	}
	now = now.Add(time.Millisecond)
	p, err := c.GetIdentityProvider(ctx, "corp")
	if err != nil || p.Enabled || p.ClientSecret != "" || items.reads != 2 {
		t.Fatalf("at the TTL: %+v, %v after %d reads; want the provider disabled, without its secret", p, err, items.reads)
	}
}

// A failed read is not cached: the next call reads again, and an outage stays
// oauth.ErrUnavailable.
func TestIdentityProviders_AFailedReadIsNotCached(t *testing.T) {
	items := &fakeItems{err: oauth.ErrUnavailable}
	c := IdentityProviders(items, &countingSecrets{}, "pfx/", IdentityProviderTTL, nil)
	if _, err := c.ListIdentityProviders(t.Context()); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("List = %v, want ErrUnavailable", err)
	}
	items.err = nil
	items.list = []*oauth.IdentityProvider{{ID: "corp", Enabled: true, SecretID: "pfx/corp"}}
	if p, err := c.GetIdentityProvider(t.Context(), "corp"); err != nil || p.ClientSecret == "" {
		t.Fatalf("Get after the outage = %+v, %v", p, err)
	}
	if items.reads != 2 {
		t.Errorf("table reads = %d, want 2", items.reads)
	}
}

// throttledSecrets answers every read as Secrets Manager does when it throttles.
type throttledSecrets struct{}

func (throttledSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient}
}

// A secret read a retry may cure is an outage of the whole read (503 at the login
// page), never a provider served disabled or without its secret.
func TestIdentityProviders_AThrottledSecretReadIsAnOutage(t *testing.T) {
	items := &fakeItems{list: []*oauth.IdentityProvider{{ID: "corp", Enabled: true, SecretID: "pfx/corp"}}}
	c := IdentityProviders(items, throttledSecrets{}, "pfx/", IdentityProviderTTL, nil)
	if _, err := c.GetIdentityProvider(t.Context(), "corp"); !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("Get = %v, want ErrUnavailable", err)
	}
}
