package clientkeys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
)

// keyAndSet is a new ES256 key and a JWK Set of its public half.
func keyAndSet(t *testing.T) (jose.JSONWebKey, []byte) {
	t.Helper()
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
	return k, doc
}

func TestResolver_FetchesCachesAndLimits(t *testing.T) {
	k, doc := keyAndSet(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/jwks":
			_, _ = w.Write(doc)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat(" ", MaxDocument+10)))
		case "/private":
			b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k}})
			_, _ = w.Write(b)
		case "/redirect":
			http.Redirect(w, r, "/jwks", http.StatusFound)
		}
	}))
	defer srv.Close()
	now := time.Now()
	r := New()
	r.AllowHTTP = true
	r.AllowLoopback = true // the test server listens on 127.0.0.1 (TestResolver_NeverDialsNonPublic: never by default)
	r.now = func() time.Time { return now }
	c := &oauth.Client{ID: "c", JWKSURI: srv.URL + "/jwks"}
	for range 3 {
		set, err := r.ClientKeys(context.Background(), c)
		if err != nil || len(set.Keys) != 1 {
			t.Fatalf("%v %v", set, err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("fetched %d times, want 1 (cached)", hits.Load())
	}
	now = now.Add(DefaultTTL + time.Second)
	if _, err := r.ClientKeys(context.Background(), c); err != nil || hits.Load() != 2 {
		t.Errorf("after the TTL: %v, %d fetches", err, hits.Load())
	}
	for _, path := range []string{"/big", "/private", "/redirect", "/missing"} {
		if _, err := r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: srv.URL + path}); err == nil {
			t.Errorf("%s accepted", path)
		}
	}
	r.AllowHTTP = false
	if _, err := r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: srv.URL + "/jwks?x"}); err == nil {
		t.Error("http jwks_uri accepted")
	}
}

// tlsKeyServer serves a JWK Set over TLS on 127.0.0.1, counting requests; handler,
// if set, answers instead.
func tlsKeyServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	_, doc := keyAndSet(t)
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if handler != nil {
			handler(w, r)
			return
		}
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// trusting is New() trusting srv's certificate, with the SSRF-safe dialer kept.
func trusting(srv *httptest.Server) *Resolver {
	r := New()
	r.HTTP.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return r
}

// TestResolver_NeverDialsNonPublic: a jwks_uri that resolves to 127.0.0.1 or to
// 169.254.169.254 (the cloud metadata service) is never dialled by default: the
// dialer's Control refuses the address after DNS resolution, before connecting.
func TestResolver_NeverDialsNonPublic(t *testing.T) {
	srv, hits := tlsKeyServer(t, nil)
	r := trusting(srv)
	if r.AllowLoopback {
		t.Fatal("loopback allowed by default")
	}
	for _, uri := range []string{
		srv.URL + "/jwks", // https://127.0.0.1:port
		"https://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port) + "/jwks", // a name resolving to loopback
		"https://169.254.169.254/latest/meta-data/",
		"https://[::1]:1/jwks",
		"https://10.0.0.1/jwks",
		"https://100.64.0.1/jwks",
		"https://[fd00:ec2::254]/jwks",
		"https://[::ffff:127.0.0.1]:1/jwks",
	} {
		start := time.Now()
		_, err := r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: uri})
		if !errors.Is(err, ErrNotPublic) {
			t.Errorf("%s: %v, want ErrNotPublic", uri, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s: took %s: a connection was attempted", uri, took)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the key server on 127.0.0.1 was reached %d times", hits.Load())
	}
	r = trusting(srv)
	r.AllowLoopback = true
	if set, err := r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: srv.URL + "/jwks"}); err != nil || len(set.Keys) != 1 {
		t.Fatalf("with AllowLoopback: %v %v", set, err)
	}
	if _, err := r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: "https://169.254.169.254/"}); !errors.Is(err, ErrNotPublic) {
		t.Errorf("AllowLoopback let the metadata address through: %v", err)
	}
}

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true,
		"127.0.0.1": false, "127.1.2.3": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false,
		"192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false, "100.127.255.254": false,
		"0.0.0.0": false, "::": false, "fe80::1": false, "fc00::1": false, "fd00:ec2::254": false,
		"::ffff:10.0.0.1": false, "::ffff:169.254.169.254": false, "224.0.0.1": false, "255.255.255.255": false,
		"64:ff9b::a9fe:a9fe": false, "2002:a9fe:a9fe::": false,
	} {
		if got := publicAddr(netip.MustParseAddr(addr), false); got != want {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

// TestResolver_FailuresCachedAndFetchesMerged: a failed fetch is remembered for
// FailureTTL, and concurrent fetches of one URI are one request, so a flood of
// assertions cannot make the function fetch thousands of times.
func TestResolver_FailuresCachedAndFetchesMerged(t *testing.T) {
	srv, hits := tlsKeyServer(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	r := trusting(srv)
	r.AllowLoopback = true
	now := time.Now()
	r.now = func() time.Time { return now }
	c := &oauth.Client{ID: "c", JWKSURI: srv.URL + "/jwks"}
	for range 5 {
		if _, err := r.ClientKeys(context.Background(), c); err == nil {
			t.Fatal("a 500 was accepted")
		}
	}
	if hits.Load() != 1 {
		t.Errorf("a failing jwks_uri was fetched %d times, want 1", hits.Load())
	}
	now = now.Add(DefaultFailureTTL + time.Second)
	_, _ = r.ClientKeys(context.Background(), c)
	if hits.Load() != 2 {
		t.Errorf("after FailureTTL: %d fetches, want 2", hits.Load())
	}

	release := make(chan struct{})
	gate, gateHits := tlsKeyServer(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		http.Redirect(w, r, "/", http.StatusFound) // any answer; a failure is fine
	})
	r = trusting(gate)
	r.AllowLoopback = true
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: gate.URL + "/jwks"})
		}()
	}
	deadline := time.Now().Add(2 * time.Second)
	for gateHits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the other callers arrive
	close(release)
	wg.Wait()
	if gateHits.Load() != 1 {
		t.Errorf("50 concurrent callers made %d fetches, want 1", gateHits.Load())
	}
}

// RFC 7518 §3.3, FAPI 2.0 Security Profile §5.4.1 item 2: a jwks_uri document holding
// an RSA key below 2048 bits is refused whole, whatever the other keys.
func TestResolver_RFC7518_3_3_FAPI2_5_4_1_RefusesAKeyBelow2048Bits(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := keyAndSet(t)
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{good.Public(), {Key: &small.PublicKey, KeyID: "small", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(doc) }))
	defer srv.Close()
	r := New()
	r.AllowHTTP, r.AllowLoopback = true, true
	_, err = r.ClientKeys(context.Background(), &oauth.Client{ID: "c", JWKSURI: srv.URL + "/jwks"})
	if err == nil || !strings.Contains(err.Error(), "small") || !strings.Contains(err.Error(), "1024") {
		t.Errorf("a document with an RSA-1024 key: %v, want an error naming the key and its size", err)
	}
}
