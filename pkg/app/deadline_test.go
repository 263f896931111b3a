package app_test

import (
	"context"
	"encoding/base64"
	"errors"
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
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
	"github.com/pargate/pargate/pkg/seed"
)

func TestWithDeadlines_AHangingCallIsUnavailableAtTheDeadline(t *testing.T) {
	faulty := oauthtest.NewFaulty(memory.New())
	store := app.WithDeadlines(faulty, 30*time.Millisecond)
	now := time.Now()
	calls := map[string]func(ctx context.Context) error{
		oauthtest.MethodGetClient: func(ctx context.Context) error { _, err := store.GetClient(ctx, "c"); return err },
		oauthtest.MethodIssueCode: func(ctx context.Context) error {
			return store.IssueCode(ctx, oauth.Consume{Key: "k", ClientID: "c", Now: now}, oauthtest.Code(t, now), oauthtest.Grant(t, now))
		},
		oauthtest.MethodConsumeCode: func(ctx context.Context) error { _, err := store.ConsumeCode(ctx, "k", "c", now); return err },
		oauthtest.MethodRotateRefreshToken: func(ctx context.Context) error {
			err := store.RotateRefreshToken(ctx, "k", "c", now, oauthtest.RefreshToken(t, now, "g"))
			return err
		},
	}
	for method, call := range calls {
		t.Run(method, func(t *testing.T) {
			faulty.Heal()
			faulty.FailMethod(method, oauthtest.Hang)
			start := time.Now()
			err := call(context.Background()) // no deadline of its own
			if !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want unavailable after the deadline", err)
			}
			if d := time.Since(start); d < 30*time.Millisecond || d > time.Second {
				t.Errorf("returned after %v, want the 30ms deadline", d)
			}
		})
	}
}

// hangUntilDone is a store whose reads wait for their context and then return err.
type hangUntilDone struct {
	oauth.Store
	err error
}

func (s hangUntilDone) GetGrant(ctx context.Context, _ string) (*oauth.Grant, error) {
	<-ctx.Done()
	return nil, s.err
}

func TestWithDeadlines_Classification(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		// A store that reports the timeout in its own words still becomes 503.
		{"an error after the deadline", errors.New("connection closed"), true},
		{"the context's error", context.DeadlineExceeded, true},
		// A definite answer stays one, even if it came as the deadline passed.
		{"not found", oauth.ErrNotFound, false},
		{"used", oauth.ErrUsed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := app.WithDeadlines(hangUntilDone{Store: memory.New(), err: tc.err}, 10*time.Millisecond)
			_, err := store.GetGrant(context.Background(), "g")
			if !errors.Is(err, tc.err) || errors.Is(err, oauth.ErrUnavailable) != tc.unavailable {
				t.Errorf("got %v, want %v (unavailable %v)", err, tc.err, tc.unavailable)
			}
		})
	}
}

func TestWithDeadlines_PassesAnswersThrough(t *testing.T) {
	inner := memory.New()
	store := app.WithDeadlines(inner, app.StoreCallTimeout)
	now := time.Now()
	r := oauthtest.PushedRequest(t, now)
	if err := store.CreatePushedRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if err := store.CreatePushedRequest(t.Context(), r); !errors.Is(err, oauth.ErrConflict) || errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("second create: %v, want ErrConflict", err)
	}
	got, err := store.GetPushedRequest(t.Context(), r.Key)
	if err != nil || got.Key != r.Key {
		t.Errorf("get: %v %v", got, err)
	}
	if _, err := store.GetUser(t.Context(), "nobody"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("get user: %v", err)
	}
	// The deadline is the call's: a caller's earlier deadline still wins.
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	faulty := oauthtest.NewFaulty(inner)
	faulty.FailMethod(oauthtest.MethodGetClient, oauthtest.Hang)
	if _, err := app.WithDeadlines(faulty, time.Hour).GetClient(ctx, "c"); !errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("with an expired caller deadline: %v", err)
	}
}

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

// One deadline per request, not one timer per store call. The store calls
// of one request run under the same deadline, at most app.StoreCallTimeout after the
// request began, so each call is still bounded.
func TestNewHandler_StoreCallsOfARequestShareOneDeadline(t *testing.T) {
	spy := &deadlineSpy{Store: seededMemory(t), deadlines: map[string]time.Time{}}
	h := handlerOver(t, app.WithDeadlines(spy, app.StoreCallTimeout), "")
	start := time.Now()
	time.Sleep(2 * time.Millisecond) // so that per-call deadlines could not coincide by chance
	pushC1(t, h)
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

// hangingLinks is a memory store whose link reads wait for their context.
type hangingLinks struct{ *memory.Store }

func (s hangingLinks) GetAccountLink(ctx context.Context, _ string) (*oauth.AccountLink, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestWithDeadlines_AccountLinks: a store keeping account links (brokered login,
// issue 13) stays one behind the deadlines, its calls bounded and answered as the
// store's; a store without them does not become one.
func TestWithDeadlines_AccountLinks(t *testing.T) {
	if _, ok := app.WithDeadlines(oauthtest.NewFaulty(memory.New()), time.Second).(oauth.AccountLinks); ok {
		t.Error("a store without account links became one")
	}
	links, ok := app.WithDeadlines(memory.New(), time.Second).(oauth.AccountLinks)
	if !ok {
		t.Fatal("the memory store's account links are hidden by the deadlines")
	}
	now := time.Now()
	u := &oauth.User{Username: "idp:corp:x", Sub: "s"}
	link := &oauth.AccountLink{Key: oauthtest.Key(t), ProviderID: "corp", Username: u.Username, Subject: "s", CreatedAt: now}
	if err := links.CreateLinkedUser(t.Context(), link, u); err != nil {
		t.Fatal(err)
	}
	if err := links.CreateLinkedUser(t.Context(), link, u); !errors.Is(err, oauth.ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict", err)
	}
	if got, err := links.GetAccountLink(t.Context(), link.Key); err != nil || got.Username != u.Username {
		t.Errorf("GetAccountLink: %+v %v", got, err)
	}
	if err := links.SetUserClaims(t.Context(), oauth.UserCheck{Username: u.Username, Sub: "other"}, nil); !errors.Is(err, oauth.ErrUserChanged) {
		t.Errorf("SetUserClaims of a changed user: %v", err)
	}
	if err := links.LinkUser(t.Context(), link, oauth.UserCheck{Username: u.Username, Sub: "s"}); !errors.Is(err, oauth.ErrConflict) {
		t.Errorf("LinkUser on a taken link: %v", err)
	}
	hang := app.WithDeadlines(hangingLinks{memory.New()}, 30*time.Millisecond).(oauth.AccountLinks)
	if _, err := hang.GetAccountLink(context.Background(), "k"); !errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("a hanging link read: %v, want unavailable", err)
	}
}

// inProcessSpy is the in-memory store (oauth.InProcess, through the embedding) with
// the deadline of each call recorded.
type inProcessSpy struct {
	*memory.Store
	mu        sync.Mutex
	deadlines map[string]bool // method → ran under a deadline
}

func (s *inProcessSpy) note(method string, ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := ctx.Deadline()
	s.deadlines[method] = ok
}

func (s *inProcessSpy) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	s.note("GetClient", ctx)
	return s.Store.GetClient(ctx, id)
}

func (s *inProcessSpy) CountRequest(ctx context.Context, key string, now, expiresAt time.Time) (int, error) {
	s.note("CountRequest", ctx)
	return s.Store.CountRequest(ctx, key, now, expiresAt)
}

func (s *inProcessSpy) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	s.note("CreatePushedRequest", ctx)
	return s.Store.CreatePushedRequest(ctx, r)
}

// An in-process store (oauth.InProcess: the in-memory store of make run) cannot hang,
// so a push arms no deadline at all over it — not the request's (app.StoreCallTimeout),
// not the back channel's bound, not the rate counter's — each being a timer that could
// never fire; the same push over a remote store runs under one deadline
// (TestNewHandler_StoreCallsOfARequestShareOneDeadline).
func TestNewHandler_AnInProcessStoreGetsNoDeadline(t *testing.T) {
	spy := &inProcessSpy{Store: seededMemory(t), deadlines: map[string]bool{}}
	pushC1(t, handlerOver(t, spy, "600/60")) // the rate limit counted (docs/design.md decision 23)
	for _, m := range []string{"GetClient", "CountRequest", "CreatePushedRequest"} {
		dl, called := spy.deadlines[m]
		if !called {
			t.Errorf("%s was not called: %v", m, spy.deadlines)
		} else if dl {
			t.Errorf("%s ran under a deadline over an in-process store", m)
		}
	}
}

const c1Secret = "s3cret-s3cret-s3cret-s3cret-0123456789abcdefgh"

// seededMemory is an in-memory store with the confidential client c1.
func seededMemory(t *testing.T) *memory.Store {
	t.Helper()
	f, err := seed.Parse([]byte(`{"clients": [{"client_id": "c1", "client_secret": "` + c1Secret + `",
 "redirect_uris": ["https://client.example.com/cb"], "scope": "openid"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.New()
	if err := seed.Import(t.Context(), mem, f); err != nil {
		t.Fatal(err)
	}
	return mem
}

// handlerOver is the handler app.NewHandler builds over store, with CLIENT_RATE_LIMIT
// rateLimit ("" for the default).
func handlerOver(t *testing.T, store oauth.Store, rateLimit string) *httpapi.Handler {
	t.Helper()
	cfg, err := config.FromEnv(func(name string) string {
		switch name {
		case "ISSUER":
			return "https://as.example.com"
		case "CLIENT_RATE_LIMIT":
			return rateLimit
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return app.NewHandler(cfg, app.Parts{
		Store:     store,
		Signer:    keys.NewSigner(keys.Static(httpapitest.KeySet(t, keys.ES256))),
		CookieKey: func(context.Context) ([32]byte, error) { return [32]byte{1}, nil },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

// pushC1 pushes a request of c1 through h and wants 201.
func pushC1(t *testing.T, h *httpapi.Handler) {
	t.Helper()
	body := url.Values{"response_type": {"code"}, "redirect_uri": {"https://client.example.com/cb"}, "scope": {"openid"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/par", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("c1:"+c1Secret)))
	rec := httptest.NewRecorder()
	h.PAR().ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("push: %d %s", rec.Code, rec.Body)
	}
}
