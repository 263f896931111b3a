// Package clientkeys resolves the public keys clients sign with: the `jwks` registered
// with the client, or the JWK Set document at its `jwks_uri` (RFC 7591 §2), fetched
// over https with a short timeout and a size limit, and cached.
package clientkeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// Limits of a jwks_uri fetch.
const (
	DefaultTimeout = 3 * time.Second
	DefaultTTL     = 5 * time.Minute
	MaxDocument    = 64 << 10
)

// Resolver implements oauth.ClientKeys.
type Resolver struct {
	HTTP *http.Client
	TTL  time.Duration
	// AllowHTTP permits http jwks_uri values (tests only).
	AllowHTTP bool
	now       func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	set     *jose.JSONWebKeySet
	expires time.Time
}

var _ oauth.ClientKeys = (*Resolver)(nil)

// New returns a Resolver with the default limits.
func New() *Resolver {
	return &Resolver{
		HTTP: &http.Client{
			Timeout: DefaultTimeout,
			// A key document is fetched from where it was registered, not from wherever
			// that server redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		TTL: DefaultTTL,
		now: time.Now,
	}
}

// ClientKeys returns the client's registered jwks, or its jwks_uri document.
func (r *Resolver) ClientKeys(ctx context.Context, c *oauth.Client) (*jose.JSONWebKeySet, error) {
	if c.JWKSURI == "" {
		return oauth.RegisteredKeys{}.ClientKeys(ctx, c)
	}
	r.mu.Lock()
	e, ok := r.cache[c.JWKSURI]
	r.mu.Unlock()
	if ok && r.now().Before(e.expires) {
		return e.set, nil
	}
	set, err := r.fetch(ctx, c.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("client %s jwks_uri: %w", c.ID, err)
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[string]entry{}
	}
	r.cache[c.JWKSURI] = entry{set: set, expires: r.now().Add(r.TTL)}
	r.mu.Unlock()
	return set, nil
}

func (r *Resolver) fetch(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(r.AllowHTTP && u.Scheme == "http")) {
		return nil, errors.New("jwks_uri must be an https URL")
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(body) > MaxDocument {
		return nil, fmt.Errorf("document larger than %d bytes", MaxDocument)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return nil, errors.New("the document contains private keys")
		}
	}
	return &set, nil
}
