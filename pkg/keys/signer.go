package keys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth"
)

// DefaultRefresh is how long a loaded key set is used before it is read again: short
// enough that a rotation reaches every warm instance within minutes without a
// redeploy, long enough that Secrets Manager is not called per request.
const DefaultRefresh = 5 * time.Minute

// DefaultRetry is how long a Signer waits before trying again after a failed
// refresh, signing with the set it already has meanwhile.
const DefaultRetry = 30 * time.Second

// Signer signs tokens with the active key of the set its [Source] provides. It loads
// the set on first use (never at construction, which in Lambda is the cold start),
// caches it, and re-reads it once the refresh interval has passed; if that fails it
// logs and keeps the set it has, retrying after [DefaultRetry]. It is safe for
// concurrent use, and a Source for the cached set itself, so the JWKS handler can
// share the signer's cache.
type Signer struct {
	src      Source
	refresh  time.Duration
	retry    time.Duration
	defaults []string
	allowed  []string // nil: every algorithm of [Algorithms]
	log      *slog.Logger
	now      func() time.Time

	cur  atomic.Pointer[cached]
	lock chan struct{} // held while calling src.Load, so loads do not pile up
}

type cached struct {
	set  *Set
	next time.Time // when to read the source again
}

var (
	_ oauth.Signer = (*Signer)(nil)
	_ Source       = (*Signer)(nil)
)

// SignerOption configures a [Signer].
type SignerOption func(*Signer)

// WithRefresh sets how long a loaded set is used before it is read again
// (default [DefaultRefresh]).
func WithRefresh(d time.Duration) SignerOption {
	return func(s *Signer) { s.refresh = d }
}

// WithDefaultAlgorithms sets what [Signer.Algorithms] answers before the set has been
// loaded (default [DefaultAlgorithm]): the algorithm keys are generated with.
func WithDefaultAlgorithms(algs ...string) SignerOption {
	return func(s *Signer) { s.defaults = slices.Clone(algs) }
}

// WithAllowedAlgorithms makes the signer refuse a key set holding a key of any other
// algorithm ([Set.CheckAlgorithms]): the first load fails with an error naming the
// key, and a refresh that reads such a set is logged and keeps the set it has, as a
// failed read would. The fapi2 profile allows [FAPIAlgorithms] only.
func WithAllowedAlgorithms(algs ...string) SignerOption {
	return func(s *Signer) { s.allowed = slices.Clone(algs) }
}

// WithLogger sets where failed refreshes and key changes are logged (default
// slog.Default()).
func WithLogger(l *slog.Logger) SignerOption {
	return func(s *Signer) { s.log = l }
}

// NewSigner returns a signer over src. It does no I/O.
func NewSigner(src Source, opts ...SignerOption) *Signer {
	s := &Signer{
		src:      src,
		refresh:  DefaultRefresh,
		retry:    DefaultRetry,
		defaults: []string{DefaultAlgorithm},
		log:      slog.Default(),
		now:      time.Now,
		lock:     make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(s)
	}
	s.retry = min(s.retry, s.refresh)
	return s
}

// Sign returns claims, marshalled with encoding/json, as a compact JWS signed with the
// active key, with the protected header carrying alg, kid and typ (RFC 9068 §2.1:
// access tokens use "at+jwt").
func (s *Signer) Sign(ctx context.Context, typ string, claims any) (string, error) {
	set, err := s.Load(ctx)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign %s: marshal claims: %w", typ, err)
	}
	return signWith(set.Active(), typ, payload)
}

func signWith(key jose.JSONWebKey, typ string, payload []byte) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	// A JSONWebKey signing key makes go-jose put its KeyID in the kid header.
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return token, nil
}

// Algorithms answers without I/O, as discovery needs: the algorithms of the loaded
// set (active key's first), or the configured defaults when nothing has been loaded
// yet. A handler that can wait for the set should use [Signer.LoadAlgorithms], so its
// answer does not depend on whether the instance is warm.
func (s *Signer) Algorithms() []string {
	if c := s.cur.Load(); c != nil {
		return c.set.Algorithms()
	}
	return slices.Clone(s.defaults)
}

// PublicJWKS loads the set if needed and returns its public JWK Set document
// (RFC 7517 §5), as the JWKS endpoint serves it.
func (s *Signer) PublicJWKS(ctx context.Context) ([]byte, error) {
	set, err := s.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	return set.PublicJSON(), nil
}

// LoadAlgorithms loads the set if needed and returns its algorithms, as discovery
// publishes them.
func (s *Signer) LoadAlgorithms(ctx context.Context) ([]string, error) {
	set, err := s.Load(ctx)
	if err != nil {
		return nil, err
	}
	return set.Algorithms(), nil
}

// Load returns the cached set, loading it on first use and re-reading it once the
// refresh interval has passed. Only the first load can fail: a failed refresh is
// logged and the cached set returned. While one caller refreshes, the others get the
// cached set without waiting.
func (s *Signer) Load(ctx context.Context) (*Set, error) {
	c := s.cur.Load()
	if c == nil {
		return s.loadFirst(ctx)
	}
	if s.now().Before(c.next) {
		return c.set, nil
	}
	select {
	case s.lock <- struct{}{}:
	default:
		return c.set, nil // another caller is refreshing
	}
	defer func() { <-s.lock }()
	if latest := s.cur.Load(); latest != c {
		return latest.set, nil // refreshed while we took the lock
	}
	set, err := s.loadSource(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "refresh signing keys failed; signing with the cached keys",
			"active_kid", c.set.Active().KeyID, "retry_in", s.retry, "err", err)
		s.cur.Store(&cached{set: c.set, next: s.now().Add(s.retry)})
		return c.set, nil
	}
	if old, cur := c.set.Active().KeyID, set.Active().KeyID; old != cur {
		s.log.InfoContext(ctx, "signing key changed", "old_kid", old, "new_kid", cur)
	}
	s.cur.Store(&cached{set: set, next: s.now().Add(s.refresh)})
	return set, nil
}

func (s *Signer) loadFirst(ctx context.Context) (*Set, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("load signing keys: %w: %w", oauth.ErrUnavailable, ctx.Err())
	}
	defer func() { <-s.lock }()
	if c := s.cur.Load(); c != nil {
		return c.set, nil // another caller loaded it while we waited
	}
	set, err := s.loadSource(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	s.cur.Store(&cached{set: set, next: s.now().Add(s.refresh)})
	return set, nil
}

func (s *Signer) loadSource(ctx context.Context) (*Set, error) {
	set, err := s.src.Load(ctx)
	if err == nil && set == nil {
		err = errors.New("source returned no key set")
	}
	if err == nil && s.allowed != nil {
		if err = set.CheckAlgorithms(s.allowed); err != nil {
			set = nil
		}
	}
	return set, err
}

// Verify checks a token this server signed — an access token presented at
// introspection, userinfo or revocation — against the keys of the current set, and
// returns its payload and its typ header. Only the algorithm of the key named by kid
// is accepted.
func (s *Signer) Verify(ctx context.Context, token string) ([]byte, string, error) {
	set, err := s.Load(ctx)
	if err != nil {
		return nil, "", err
	}
	jws, err := jose.ParseSignedCompact(token, signatureAlgorithms(set.keys))
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", fmt.Errorf("verify token: not a compact JWS of this server")
	}
	h := jws.Signatures[0].Protected
	k, ok := set.Key(h.KeyID)
	if !ok || h.Algorithm != k.Algorithm {
		return nil, "", fmt.Errorf("verify token: unknown key %q", h.KeyID)
	}
	payload, err := jws.Verify(k.Public().Key)
	if err != nil {
		return nil, "", fmt.Errorf("verify token: %w", err)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return payload, typ, nil
}

// Ready loads the key set if it is not loaded yet (oauth.Signer).
func (s *Signer) Ready(ctx context.Context) error {
	_, err := s.Load(ctx)
	return err
}
