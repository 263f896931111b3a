package keys

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// fakeSource hands out sets from a script; a nil set with err fails that load.
type fakeSource struct {
	mu    sync.Mutex
	loads int
	sets  []*Set
	errs  []error
	gate  chan struct{} // when set, Load waits for it
}

func (f *fakeSource) Load(ctx context.Context) (*Set, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	i := min(f.loads, len(f.sets)-1)
	f.loads++
	var err error
	if i < len(f.errs) {
		err = f.errs[i]
	}
	if err != nil {
		return nil, err
	}
	return f.sets[i], nil
}

func (f *fakeSource) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loads
}

func newTestSigner(src Source, opts ...SignerOption) (*Signer, *oauthtest.Clock, *bytes.Buffer) {
	var logs bytes.Buffer
	opts = append([]SignerOption{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}, opts...)
	s := NewSigner(src, opts...)
	clock := oauthtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.now = clock.Now
	return s, clock, &logs
}

func activeKid(tb testing.TB, s *Signer) string {
	tb.Helper()
	token, err := s.Sign(context.Background(), "JWT", map[string]string{"sub": "alice"})
	if err != nil {
		tb.Fatalf("Sign: %v", err)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA})
	if err != nil {
		tb.Fatalf("parse token: %v", err)
	}
	return jws.Signatures[0].Protected.KeyID
}

// A relying party verifies with nothing but the published JWKS: parse it, pick the key
// by kid, check the signature.
func TestSigner_TokenVerifiesAgainstPublishedJWKS(t *testing.T) {
	for _, alg := range Algorithms() {
		t.Run(alg, func(t *testing.T) {
			retired := mustGenerate(t, ES256)
			set := mustSet(t, mustGenerate(t, alg), retired)
			s := NewSigner(Static(set))
			claims := map[string]any{"iss": "https://issuer.example", "sub": "alice", "aud": "api", "exp": 1767225600}

			token, err := s.Sign(context.Background(), "at+jwt", claims)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}

			var jwks jose.JSONWebKeySet
			if err := json.Unmarshal(set.PublicJSON(), &jwks); err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("parse token: %v", err)
			}
			h := jws.Signatures[0].Protected
			if h.KeyID != set.Active().KeyID {
				t.Errorf("kid = %q, want the active key %q", h.KeyID, set.Active().KeyID)
			}
			if h.Algorithm != alg {
				t.Errorf("alg = %q, want %q", h.Algorithm, alg)
			}
			if typ := h.ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
				t.Errorf("typ = %v, want at+jwt", typ)
			}
			matches := jwks.Key(h.KeyID)
			if len(matches) != 1 {
				t.Fatalf("%d published keys with kid %q, want 1", len(matches), h.KeyID)
			}
			payload, err := jws.Verify(matches[0])
			if err != nil {
				t.Fatalf("verify with published key: %v", err)
			}
			want, _ := json.Marshal(claims)
			if !bytes.Equal(payload, want) {
				t.Errorf("payload = %s, want %s", payload, want)
			}
			if _, err := jws.Verify(retired.Public()); err == nil {
				t.Error("token verified with the retired key too")
			}
			if _, err := set.Verify(token); err != nil {
				t.Errorf("Set.Verify: %v", err)
			}
		})
	}
}

func TestSigner_RejectsUnmarshallableClaims(t *testing.T) {
	s := NewSigner(Static(mustSet(t, mustGenerate(t, ES256))))
	if _, err := s.Sign(context.Background(), "JWT", map[string]any{"bad": func() {}}); err == nil {
		t.Fatal("Sign succeeded, want marshal error")
	}
}

func TestSigner_LoadsLazily(t *testing.T) {
	src := &fakeSource{sets: []*Set{mustSet(t, mustGenerate(t, ES256))}}
	s, _, _ := newTestSigner(src, WithDefaultAlgorithms(PS256))
	if n := src.count(); n != 0 {
		t.Fatalf("NewSigner loaded keys %d times, want none (Lambda cold start)", n)
	}
	if algs := s.Algorithms(); !slices.Equal(algs, []string{PS256}) {
		t.Errorf("Algorithms() before any load = %v, want the defaults [PS256]", algs)
	}
	if n := src.count(); n != 0 {
		t.Fatalf("Algorithms() loaded keys, want no I/O")
	}
	activeKid(t, s)
	activeKid(t, s)
	if n := src.count(); n != 1 {
		t.Errorf("source loaded %d times for two signatures, want 1", n)
	}
	if algs := s.Algorithms(); !slices.Equal(algs, []string{ES256}) {
		t.Errorf("Algorithms() after load = %v, want the set's [ES256]", algs)
	}
}

func TestSigner_LoadAlgorithmsLoadsTheSet(t *testing.T) {
	src := &fakeSource{sets: []*Set{mustSet(t, mustGenerate(t, ES256), mustGenerate(t, RS256))}}
	s, _, _ := newTestSigner(src)
	algs, err := s.LoadAlgorithms(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(algs, []string{ES256, RS256}) {
		t.Errorf("LoadAlgorithms = %v, want [ES256 RS256]", algs)
	}
}

func TestSigner_PicksUpRotationAfterRefreshInterval(t *testing.T) {
	a, b := mustGenerate(t, ES256), mustGenerate(t, ES256)
	src := &fakeSource{sets: []*Set{mustSet(t, a, b), mustSet(t, b, a)}}
	s, clock, logs := newTestSigner(src, WithRefresh(5*time.Minute))

	if kid := activeKid(t, s); kid != a.KeyID {
		t.Fatalf("kid = %q, want %q", kid, a.KeyID)
	}
	clock.Advance(5*time.Minute - time.Second)
	if kid := activeKid(t, s); kid != a.KeyID {
		t.Errorf("kid before the refresh interval = %q, want the cached %q", kid, a.KeyID)
	}
	if n := src.count(); n != 1 {
		t.Errorf("source loaded %d times within the refresh interval, want 1", n)
	}
	clock.Advance(time.Second)
	if kid := activeKid(t, s); kid != b.KeyID {
		t.Errorf("kid after the refresh interval = %q, want the rotated %q", kid, b.KeyID)
	}
	if !strings.Contains(logs.String(), "signing key changed") {
		t.Errorf("key change not logged: %s", logs)
	}
}

func TestSigner_FailedRefreshKeepsCachedSet(t *testing.T) {
	a, b := mustGenerate(t, ES256), mustGenerate(t, ES256)
	outage := errors.New("secrets manager: throttled")
	src := &fakeSource{
		sets: []*Set{mustSet(t, a), nil, mustSet(t, b)},
		errs: []error{nil, outage, nil},
	}
	s, clock, logs := newTestSigner(src, WithRefresh(5*time.Minute))
	activeKid(t, s)

	clock.Advance(5 * time.Minute)
	if kid := activeKid(t, s); kid != a.KeyID {
		t.Errorf("kid after a failed refresh = %q, want the cached %q", kid, a.KeyID)
	}
	if !strings.Contains(logs.String(), "throttled") {
		t.Errorf("failed refresh not logged: %q", logs)
	}
	// No retry on every request while the source is down…
	clock.Advance(DefaultRetry - time.Second)
	activeKid(t, s)
	if n := src.count(); n != 2 {
		t.Errorf("source loaded %d times before the retry delay, want 2", n)
	}
	// …but soon after.
	clock.Advance(time.Second)
	if kid := activeKid(t, s); kid != b.KeyID {
		t.Errorf("kid after the retry = %q, want %q", kid, b.KeyID)
	}
}

func TestSigner_FailedFirstLoadIsAnErrorAndRetried(t *testing.T) {
	a := mustGenerate(t, ES256)
	outage := errors.New("secrets manager unreachable")
	src := &fakeSource{sets: []*Set{nil, mustSet(t, a)}, errs: []error{outage}}
	s, _, _ := newTestSigner(src)

	_, err := s.Sign(context.Background(), "JWT", map[string]string{})
	if !errors.Is(err, outage) {
		t.Fatalf("Sign error = %v, want it to wrap the source's", err)
	}
	if algs := s.Algorithms(); !slices.Equal(algs, []string{DefaultAlgorithm}) {
		t.Errorf("Algorithms() after a failed load = %v, want the defaults", algs)
	}
	if kid := activeKid(t, s); kid != a.KeyID {
		t.Errorf("kid = %q after the source recovered, want %q", kid, a.KeyID)
	}
}

func TestSigner_SourceReturningNilIsAnError(t *testing.T) {
	s := NewSigner(SourceFunc(func(context.Context) (*Set, error) { return nil, nil }))
	if _, err := s.Sign(context.Background(), "JWT", map[string]string{}); err == nil {
		t.Fatal("Sign succeeded without a key set")
	}
}

func TestSigner_ConcurrentFirstUseLoadsOnce(t *testing.T) {
	src := &fakeSource{sets: []*Set{mustSet(t, mustGenerate(t, ES256))}, gate: make(chan struct{})}
	s, _, _ := newTestSigner(src)

	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := s.Sign(context.Background(), "JWT", map[string]string{"sub": "alice"}); err != nil {
				failed.Add(1)
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let them pile up on the first load
	close(src.gate)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d signatures failed", n)
	}
	if n := src.count(); n != 1 {
		t.Errorf("source loaded %d times for 50 concurrent first signatures, want 1", n)
	}
}

func TestSigner_ConcurrentRefreshDoesNotBlockSigning(t *testing.T) {
	a, b := mustGenerate(t, ES256), mustGenerate(t, ES256)
	src := &fakeSource{sets: []*Set{mustSet(t, a), mustSet(t, b)}}
	s, clock, _ := newTestSigner(src)
	activeKid(t, s)

	// The refresh hangs; everyone else keeps signing with the cached key meanwhile.
	src.gate = make(chan struct{})
	clock.Advance(DefaultRefresh)
	refreshed := make(chan string)
	go func() {
		set, err := s.Load(context.Background())
		if err != nil {
			refreshed <- err.Error()
			return
		}
		refreshed <- set.Active().KeyID
	}()
	time.Sleep(20 * time.Millisecond)
	for range 20 {
		if kid := activeKid(t, s); kid != a.KeyID {
			t.Fatalf("kid during refresh = %q, want cached %q", kid, a.KeyID)
		}
	}
	close(src.gate)
	if kid := <-refreshed; kid != b.KeyID {
		t.Errorf("refresh got %q, want %q", kid, b.KeyID)
	}
	if n := src.count(); n != 2 {
		t.Errorf("source loaded %d times, want 2 (first load, one refresh)", n)
	}
	if kid := activeKid(t, s); kid != b.KeyID {
		t.Errorf("kid after refresh = %q, want %q", kid, b.KeyID)
	}
}

func TestSigner_WaitingForFirstLoadHonoursContext(t *testing.T) {
	src := &fakeSource{sets: []*Set{mustSet(t, mustGenerate(t, ES256))}, gate: make(chan struct{})}
	defer close(src.gate)
	s, _, _ := newTestSigner(src)
	go s.Load(context.Background()) // holds the load lock until the gate opens
	time.Sleep(20 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Sign(ctx, "JWT", map[string]string{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Sign error = %v, want the context's deadline", err)
	}
}

// FAPI 2.0 §5.4.1: a signer restricted to the profile's algorithms refuses a set with
// an RS256 key at its first load, naming the kid, and a refresh that reads one keeps
// signing with the set it has.
func TestSigner_WithAllowedAlgorithms_FAPI2_5_4_1_RefusesAnRS256Key(t *testing.T) {
	rs := mustGenerate(t, RS256)
	bad := mustSet(t, rs, mustGenerate(t, ES256))
	s, _, _ := newTestSigner(Static(bad), WithAllowedAlgorithms(FAPIAlgorithms()...))
	if _, err := s.Sign(context.Background(), "JWT", map[string]string{}); err == nil || !strings.Contains(err.Error(), rs.KeyID) {
		t.Errorf("first load of a set with an RS256 key: %v, want an error naming %s", err, rs.KeyID)
	}

	good := mustSet(t, mustGenerate(t, EdDSA), mustGenerate(t, ES256))
	src := &fakeSource{sets: []*Set{good, bad}}
	s, clock, logs := newTestSigner(src, WithAllowedAlgorithms(FAPIAlgorithms()...))
	if kid := activeKid(t, s); kid != good.Active().KeyID {
		t.Fatalf("kid %s, want %s", kid, good.Active().KeyID)
	}
	clock.Advance(DefaultRefresh + time.Second)
	if kid := activeKid(t, s); kid != good.Active().KeyID {
		t.Errorf("after a refresh that read an RS256 key: kid %s, want the cached %s", kid, good.Active().KeyID)
	}
	if !strings.Contains(logs.String(), rs.KeyID) {
		t.Errorf("log %q does not name the refused key", logs.String())
	}
}
