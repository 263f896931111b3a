// Package app wires the parts of the server into its HTTP handlers, so the Lambda
// functions (through package awsapp) and the local API are built the same way. It
// imports no AWS package: adapters are handed in as Parts.
package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/backchannel"
	"github.com/pargate/pargate/pkg/clientkeys"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// Parts are the adapters a handler is built from.
type Parts struct {
	Store     oauth.Store
	Signer    *keys.Signer
	CookieKey oauth.KeyFunc
	// CookieKeys, if set, are the cookie keys with their ids, newest first
	// (httpapi.Options.CookieKeys), instead of the one CookieKey.
	CookieKeys func(context.Context) ([]httpapi.CookieKey, error)
	// DPoPNonceKey keys the DPoP nonces (DPOP_NONCE=true); it must be shared by every
	// instance and is never the cookie key (on Lambda: its own secret, derived under
	// its own label). Nil is a random key of this process, enough for one local server.
	DPoPNonceKey oauth.KeyFunc
	Logger       *slog.Logger
	// MetricsOutput receives the EMF metrics lines when cfg.Metrics is on; nil is
	// standard output, which Lambda sends to CloudWatch Logs.
	MetricsOutput io.Writer
	// Now overrides the clock (tests).
	Now func() time.Time
	// RequestIDs returns the platform's ids of a request (httpapi.Options.RequestIDs);
	// nil outside Lambda.
	RequestIDs func(r *http.Request) (id, invocation string)
	// ClientCertificates reads requests' TLS client certificates (RFC 8705;
	// httpapi.Options.ClientCertificates): the TLS connection's locally, API
	// Gateway's request context on Lambda. Nil: requests carry none.
	ClientCertificates httpapi.ClientCertificates
	// PublicKeys, if set, publishes the JWKS and the algorithms instead of Signer: the
	// discovery function's public key set (secrets.PublicKeys), so that it never loads
	// the private keys.
	PublicKeys httpapi.KeySet
	// Upstream is the relying-party side of brokered login (issue 13; the
	// federation client): with it the authorize function offers the identity
	// providers of Providers (nil: the store's, when it keeps them) and links their
	// users in Links (nil: the store's).
	Upstream  oauth.Upstream
	Providers oauth.IdentityProviders
	Links     oauth.AccountLinks
}

// The signer publishes its own keys: discovery asks it directly.
var _ httpapi.KeySet = (*keys.Signer)(nil)

// ScopesSupported are the scopes published in discovery.
var ScopesSupported = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// NewHandler builds the HTTP handlers over parts.
func NewHandler(cfg config.Config, p Parts) *httpapi.Handler {
	oc := cfg.Config
	oc.Now = p.Now
	urls := httpapi.EndpointsOf(cfg.Issuer)
	oc.TokenEndpoint, oc.PAREndpoint = urls.Token, urls.PAR
	// jwks_uri fetches never reach loopback unless a local run asks (config jwks.go).
	resolver := clientkeys.New()
	resolver.AllowLoopback = cfg.JWKSURIAllowLoopback
	// Back-Channel Logout 1.0 (docs/design.md decision 34): logout tokens POSTed from
	// the authorize function, which serves /logout and "Not you?"; loopback relying
	// parties only when a local run asks (config jwks.go).
	logouts := backchannel.New()
	logouts.AllowLoopback = cfg.BackchannelLogoutAllowLoopback
	opts := []oauth.Option{oauth.WithClientKeys(resolver), oauth.WithLogoutSender(logouts)}
	if cfg.DPoPNonce {
		// The nonce key is its own key, never the cookie key.
		nonceKey := p.DPoPNonceKey
		if nonceKey == nil {
			nonceKey = randomKey()
		}
		opts = append(opts, oauth.WithDPoPNonces(nonceKey))
	}
	var upstream oauth.Upstream
	if p.Upstream != nil {
		providers, links := p.Providers, p.Links
		if providers == nil {
			providers, _ = p.Store.(oauth.IdentityProviders)
		}
		if links == nil {
			links, _ = p.Store.(oauth.AccountLinks)
		}
		if providers != nil && links != nil {
			opts = append(opts, oauth.WithFederation(providers, links))
			upstream = p.Upstream
		}
	}
	svc := oauth.NewService(oc, p.Store, p.Signer, opts...)
	var m *metrics.Emitter
	if cfg.Metrics {
		out := p.MetricsOutput
		if out == nil {
			out = os.Stdout
		}
		m = metrics.New(out, cfg.ServiceName)
	}
	var published httpapi.KeySet = p.Signer
	if p.PublicKeys != nil {
		published = p.PublicKeys
	}
	return httpapi.New(httpapi.Options{
		Service:            svc,
		Keys:               published,
		CookieKey:          p.CookieKey,
		CookieKeys:         p.CookieKeys,
		ScopesSupported:    ScopesSupported,
		Logger:             p.Logger,
		Metrics:            m,
		RequestIDs:         p.RequestIDs,
		RequestDeadline:    StoreCallTimeout,
		ClientCertificates: p.ClientCertificates,
		MTLSBaseURL:        cfg.MTLSBaseURL,
		Upstream:           upstream,
	})
}

// Logger is the JSON logger every entry point uses: slog's JSON handler on standard
// output, whose access lines the handlers append directly (httpapi.NewJSONLogger).
func Logger(level slog.Level) *slog.Logger {
	return httpapi.NewJSONLogger(os.Stdout, level)
}

// CachedKey calls load until it succeeds once, then returns that key forever.
func CachedKey(load oauth.KeyFunc) oauth.KeyFunc {
	return Cached(load)
}

// Cached calls load until it succeeds once, then returns that value forever.
func Cached[T any](load func(context.Context) (T, error)) func(context.Context) (T, error) {
	var (
		mu  sync.Mutex
		val *T
	)
	return func(ctx context.Context) (T, error) {
		mu.Lock()
		defer mu.Unlock()
		if val != nil {
			return *val, nil
		}
		v, err := load(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		val = &v
		return v, nil
	}
}

// randomKey is a key of this process only, made on first use.
func randomKey() oauth.KeyFunc {
	return CachedKey(func(context.Context) ([32]byte, error) {
		var k [32]byte
		if _, err := rand.Read(k[:]); err != nil {
			return k, fmt.Errorf("random key: %w", err)
		}
		return k, nil
	})
}

// SignerOptions are the options of the signer the configuration asks for: before its
// key set is loaded it answers the configured key algorithm, and under a profile that
// restricts algorithms (fapi2: FAPI 2.0 Security Profile §5.4.1) it refuses a key set
// holding any other key.
func SignerOptions(cfg config.Config) []keys.SignerOption {
	opts := []keys.SignerOption{keys.WithDefaultAlgorithms(cfg.KeyAlgorithm)}
	if cfg.KeyAlgorithms != nil {
		opts = append(opts, keys.WithAllowedAlgorithms(cfg.KeyAlgorithms...))
	}
	return opts
}
