package clientkeys

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
)

func TestResolver_FetchesCachesAndLimits(t *testing.T) {
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
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
	r.AllowLoopback = true // the test server listens on 127.0.0.1 (ssrf_test.go: never by default)
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
