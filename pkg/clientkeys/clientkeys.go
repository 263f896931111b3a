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
	"net"
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
	// DefaultFailureTTL is how long a failed fetch is remembered: a flood of assertions
	// naming a client whose jwks_uri is down or refused costs one fetch per period.
	DefaultFailureTTL = 30 * time.Second
)

// Resolver implements oauth.ClientKeys.
type Resolver struct {
	HTTP *http.Client
	TTL  time.Duration
	// FailureTTL is how long a failed fetch is answered from the cache.
	FailureTTL time.Duration
	// AllowHTTP permits http jwks_uri values (tests only).
	AllowHTTP bool
	// AllowLoopback lets jwks_uri fetches connect to loopback addresses (127.0.0.0/8,
	// ::1), for tests and local runs whose key servers listen there. It is off by
	// default and nothing in the Lambda wiring sets it; every other non-public
	// address is refused whatever it says (dialControl).
	AllowLoopback bool
	now           func() time.Time

	mu       sync.Mutex
	cache    map[string]entry
	inflight map[string]*fetchCall
}

type entry struct {
	set     *jose.JSONWebKeySet
	err     error
	expires time.Time
}

// fetchCall is one fetch of a URI that concurrent callers share (singleflight).
type fetchCall struct {
	done chan struct{}
	set  *jose.JSONWebKeySet
	err  error
}

var _ oauth.ClientKeys = (*Resolver)(nil)

// New returns a Resolver with the default limits.
func New() *Resolver {
	r := &Resolver{TTL: DefaultTTL, FailureTTL: DefaultFailureTTL, now: time.Now}
	dialer := &net.Dialer{Timeout: DefaultTimeout, Control: r.dialControl}
	r.HTTP = &http.Client{
		Timeout: DefaultTimeout,
		Transport: &http.Transport{
			// No proxy: the address checked by dialControl is the key server's own.
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: DefaultTimeout,
			MaxIdleConns:        16,
			IdleConnTimeout:     90 * time.Second,
		},
		// A key document is fetched from where it was registered, not from wherever
		// that server redirects.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return r
}

// ClientKeys returns the client's registered jwks, or its jwks_uri document.
func (r *Resolver) ClientKeys(ctx context.Context, c *oauth.Client) (*jose.JSONWebKeySet, error) {
	if c.JWKSURI == "" {
		return oauth.RegisteredKeys{}.ClientKeys(ctx, c)
	}
	set, err := r.document(ctx, c.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("client %s jwks_uri: %w", c.ID, err)
	}
	return set, nil
}

// document returns the cached document of uri, or fetches it: one fetch at a time
// per URI, whose result every concurrent caller shares, and whose failure is
// remembered for FailureTTL.
func (r *Resolver) document(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	r.mu.Lock()
	if e, ok := r.cache[uri]; ok && r.now().Before(e.expires) {
		r.mu.Unlock()
		return e.set, e.err
	}
	call, running := r.inflight[uri]
	if !running {
		call = &fetchCall{done: make(chan struct{})}
		if r.inflight == nil {
			r.inflight = map[string]*fetchCall{}
		}
		r.inflight[uri] = call
	}
	r.mu.Unlock()
	if running {
		select {
		case <-call.done:
			return call.set, call.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	// The shared fetch does not end with the first caller's request.
	call.set, call.err = r.fetch(context.WithoutCancel(ctx), uri)
	r.mu.Lock()
	delete(r.inflight, uri)
	if r.cache == nil {
		r.cache = map[string]entry{}
	}
	if call.err == nil {
		r.cache[uri] = entry{set: call.set, expires: r.now().Add(r.TTL)}
	} else if r.FailureTTL > 0 {
		r.cache[uri] = entry{err: call.err, expires: r.now().Add(r.FailureTTL)}
	}
	r.mu.Unlock()
	close(call.done)
	return call.set, call.err
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
		// RFC 7518 §3.3, FAPI 2.0 Security Profile §5.4.1 items 2 and 3: a document
		// with a key too small to sign with is refused whole, as one with a private
		// key is, so the client's operator sees the problem at once.
		if err := oauth.CheckKeyStrength(k); err != nil {
			return nil, fmt.Errorf("the document holds a key too small: %w", err)
		}
	}
	return &set, nil
}
