package awsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

// IdentityProviderSecretPrefixEnv names the prefix of the upstream identity
// providers' secrets (template.yaml: "pargate/<stack>/idp/", the authorize function
// only; the role may read "<prefix>*"). Without it a function has no providers.
const IdentityProviderSecretPrefixEnv = "IDP_SECRET_PREFIX"

// IdentityProviderTTL is how long an instance serves the providers as it read them
// (table items and secrets): `pargate idp disable`, update and remove take effect on
// every instance within this bound (docs/design.md decision 36). It costs one
// directory read, one batch read and one secret read per enabled provider, per
// instance, per TTL, and only while the instance serves logins.
const IdentityProviderTTL = 30 * time.Second

// ProvidersFunc makes the table's side of the providers from the function's AWS
// configuration and TABLE_NAME: their items, without secrets, each naming its
// secret (oauth.IdentityProvider.SecretID); awstable.Providers, handed in (like
// StoreFunc) so that this package links no DynamoDB client.
type ProvidersFunc func(cfg aws.Config, table string) oauth.IdentityProviders

// Option configures Start, Function and Lambda.
type Option func(*options)

type options struct {
	// providers builds the function's identity providers (WithIdentityProviders).
	providers func(cfg aws.Config, table string, sm secrets.GetSecretValueAPI, prefix string, log *slog.Logger) oauth.IdentityProviders
	// upstream builds the relying-party client that signs users in at them
	// (WithUpstream): pkg/federation, which only the function that asks imports.
	upstream func(log *slog.Logger) oauth.Upstream
}

// WithIdentityProviders gives the function the upstream identity providers of
// brokered logins (issue 13): the table's, through items, with their secrets under
// IDP_SECRET_PREFIX (the authorize function's main; without the variable, none).
// The cache is reached only through this option, so that the functions that do not
// ask for it do not link it (docs/design.md decision 25).
func WithIdentityProviders(items ProvidersFunc) Option {
	return func(o *options) {
		o.providers = func(cfg aws.Config, table string, sm secrets.GetSecretValueAPI, prefix string, log *slog.Logger) oauth.IdentityProviders {
			return IdentityProviders(items(cfg, table), sm, prefix, IdentityProviderTTL, log)
		}
	}
}

// WithUpstream gives the function the relying-party client of brokered logins
// (issue 13), made with the function's logger: federation.New in the authorize
// function's main, which imports pkg/federation so that no other function links it
// (docs/design.md decision 25). It is used with WithIdentityProviders.
func WithUpstream(upstream func(log *slog.Logger) oauth.Upstream) Option {
	return func(o *options) { o.upstream = upstream }
}

// IdentityProviders is the oauth.IdentityProviders of a function on AWS: the
// table's items with each enabled provider's secret from Secrets Manager, read
// together and cached for ttl (IdentityProviderTTL); Get serves from the same list,
// so an unknown id (the idp button's value is the browser's) costs no read. A
// disabled provider comes without its secret. Table calls are bounded by
// app.StoreCallTimeout and secret reads by secrets.DefaultTimeout; a read that
// fails for a reason a retry may cure (oauth.ErrUnavailable: throttling, timeouts) is
// an error and is not cached. An enabled provider whose secret cannot be used (none,
// malformed, access denied) comes back disabled, without a secret, and log (nil: none)
// says why at Warn: one misconfigured provider takes neither the other providers nor
// the password form down.
//
// A provider's secret is read only from ProviderSecretName(prefix, id), and only if
// its item names exactly that secret: an item written by someone who may write the
// table but not the secrets cannot make this function send another secret (the
// signing keys, another provider's credential) to an upstream of their choosing.
func IdentityProviders(items oauth.IdentityProviders, sm secrets.GetSecretValueAPI, prefix string, ttl time.Duration, log *slog.Logger) oauth.IdentityProviders {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &providerCache{items: items, sm: sm, prefix: prefix, ttl: ttl, now: time.Now, log: log}
}

type providerCache struct {
	items  oauth.IdentityProviders
	sm     secrets.GetSecretValueAPI
	prefix string
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu     sync.Mutex
	list   []*oauth.IdentityProvider
	readAt time.Time
}

func (c *providerCache) GetIdentityProvider(ctx context.Context, id string) (*oauth.IdentityProvider, error) {
	list, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.ID == id {
			return cloneProvider(p), nil
		}
	}
	return nil, fmt.Errorf("identity provider %q: %w", id, oauth.ErrNotFound)
}

func (c *providerCache) ListIdentityProviders(ctx context.Context) ([]*oauth.IdentityProvider, error) {
	list, err := c.load(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*oauth.IdentityProvider, len(list))
	for i, p := range list {
		out[i] = cloneProvider(p)
	}
	return out, nil
}

// load returns the cached list, or reads it again once it is ttl old. One read at a
// time per instance (Lambda gives an instance one request at a time anyway).
func (c *providerCache) load(ctx context.Context) ([]*oauth.IdentityProvider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.list != nil && now.Sub(c.readAt) < c.ttl {
		return c.list, nil
	}
	list, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	c.list, c.readAt = list, now
	return list, nil
}

func (c *providerCache) read(ctx context.Context) ([]*oauth.IdentityProvider, error) {
	tctx, cancel := context.WithTimeout(ctx, app.StoreCallTimeout)
	list, err := c.items.ListIdentityProviders(tctx)
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, oauth.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", oauth.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("identity providers: %w", err)
	}
	list = slices.Clone(list)
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, item := range list {
		p := cloneProvider(item)
		p.ClientSecret, p.PrivateKey = "", ""
		list[i] = p
		if !p.Enabled {
			continue
		}
		name := secrets.ProviderSecretName(c.prefix, p.ID)
		if p.SecretID != name {
			errs[i] = fmt.Errorf("identity provider %s: its item names secret %q, not its own %q", p.ID, p.SecretID, name)
			continue
		}
		wg.Go(func() { errs[i] = secrets.ReadProviderSecret(ctx, c.sm, name, p) })
	}
	wg.Wait()
	var transient []error
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, oauth.ErrUnavailable):
			transient = append(transient, err)
		default:
			p := list[i]
			p.Enabled, p.ClientSecret, p.PrivateKey = false, "", ""
			c.log.Warn("identity provider disabled: its secret cannot be used", "idp", p.ID, "error", err.Error())
		}
	}
	if err := errors.Join(transient...); err != nil {
		return nil, fmt.Errorf("identity providers: %w", err)
	}
	return list, nil
}

func cloneProvider(p *oauth.IdentityProvider) *oauth.IdentityProvider {
	c := *p
	if p.Claims != nil {
		c.Claims = maps.Clone(p.Claims)
	}
	return &c
}
