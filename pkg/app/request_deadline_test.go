package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// deadlineSpy records the deadline each store call runs under.
type deadlineSpy struct {
	oauth.Store
	mu        sync.Mutex
	deadlines map[string]time.Time
}

func (s *deadlineSpy) note(method string, ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Time{}
	}
	s.deadlines[method] = d
}

func (s *deadlineSpy) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	s.note("GetClient", ctx)
	return s.Store.GetClient(ctx, id)
}

func (s *deadlineSpy) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	s.note("CreatePushedRequest", ctx)
	return s.Store.CreatePushedRequest(ctx, r)
}

// Issue 15: one deadline per request, not one timer per store call. The store calls
// of one request run under the same deadline, at most app.StoreCallTimeout after the
// request began, so each call is still bounded.
func TestNewHandler_StoreCallsOfARequestShareOneDeadline(t *testing.T) {
	f, err := seed.Parse([]byte(`{"clients": [{"client_id": "c1", "client_secret": "s3cret-s3cret-s3cret-s3cret-0123456789abcdefgh",
 "redirect_uris": ["https://client.example.com/cb"], "scope": "openid"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	if err := seed.Import(t.Context(), mem, f); err != nil {
		t.Fatal(err)
	}
	k, err := keys.Generate(keys.ES256)
	if err != nil {
		t.Fatal(err)
	}
	set, err := keys.NewSet(k)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.FromEnv(func(name string) string {
		if name == "ISSUER" {
			return "https://as.example.com"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	spy := &deadlineSpy{Store: mem, deadlines: map[string]time.Time{}}
	h := app.NewHandler(cfg, app.Parts{
		Store:     app.WithDeadlines(spy, app.StoreCallTimeout),
		Signer:    keys.NewSigner(keys.Static(set)),
		CookieKey: func(context.Context) ([32]byte, error) { return [32]byte{1}, nil },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	body := url.Values{"response_type": {"code"}, "redirect_uri": {"https://client.example.com/cb"}, "scope": {"openid"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("c1:s3cret-s3cret-s3cret-s3cret-0123456789abcdefgh")))
	rec := httptest.NewRecorder()
	start := time.Now()
	time.Sleep(2 * time.Millisecond) // so that per-call deadlines could not coincide by chance
	h.PAR().ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("push: %d %s", rec.Code, rec.Body)
	}
	get, create := spy.deadlines["GetClient"], spy.deadlines["CreatePushedRequest"]
	if get.IsZero() || create.IsZero() {
		t.Fatalf("store calls without a deadline: %v", spy.deadlines)
	}
	if !get.Equal(create) {
		t.Errorf("GetClient ran under %v and CreatePushedRequest under %v, want one deadline per request", get, create)
	}
	if limit := start.Add(app.StoreCallTimeout + time.Second); create.After(limit) {
		t.Errorf("deadline %v is later than %v", create, limit)
	}
}
