package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
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
