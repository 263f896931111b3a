package memory

import (
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// fakeClock is a settable clock for the pruning tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestStore_PrunesRecordsLongPastTheirDeadlines(t *testing.T) {
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(WithClock(clock.now), WithRetention(time.Hour))
	ctx := t.Context()

	old := oauthtest.PushedRequest(t, clock.t)
	if err := s.CreatePushedRequest(ctx, old); err != nil {
		t.Fatal(err)
	}
	oldCode := oauthtest.Code(t, clock.t)
	oldGrant := oauthtest.Grant(t, clock.t)
	oldGrant.ID = oldCode.GrantID
	oldGrant.ExpiresAt = old.Deadline
	if err := s.IssueCode(ctx, oauth.Consume{Key: old.Key, ClientID: old.ClientID, Now: clock.t}, oldCode, oldGrant); err != nil {
		t.Fatal(err)
	}
	oldRT := oauthtest.RefreshToken(t, clock.t, oldGrant.ID)
	oldRT.ExpiresAt = old.Deadline
	if err := s.CreateRefreshToken(ctx, oldRT); err != nil {
		t.Fatal(err)
	}
	oldReplay := oauthtest.Key(t)
	if err := s.UseOnce(ctx, oldReplay, old.Deadline, clock.t); err != nil {
		t.Fatal(err)
	}

	// Within the retention after the deadline the record stays, expired or not.
	clock.t = old.Deadline.Add(59 * time.Minute)
	fresh := oauthtest.PushedRequest(t, clock.t)
	if err := s.CreatePushedRequest(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPushedRequest(ctx, old.Key); err != nil {
		t.Fatalf("record within retention: %v", err)
	}
	if _, err := s.GetGrant(ctx, oldGrant.ID); err != nil {
		t.Fatalf("grant within retention: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, oldRT.Key); err != nil {
		t.Fatalf("refresh token within retention: %v", err)
	}

	// Past it, the next write sweeps it, its code, grant and refresh token and the
	// replay record away, but not the fresh one.
	clock.t = old.Deadline.Add(61 * time.Minute)
	if err := s.CreatePushedRequest(ctx, oauthtest.PushedRequest(t, clock.t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPushedRequest(ctx, old.Key); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("record past retention: got %v, want ErrNotFound", err)
	}
	if _, ok := s.codes[oldCode.Key]; ok {
		t.Error("code past retention was kept")
	}
	if _, err := s.GetGrant(ctx, oldGrant.ID); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("grant past retention: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetRefreshToken(ctx, oldRT.Key); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("refresh token past retention: got %v, want ErrNotFound", err)
	}
	if _, ok := s.replays[oldReplay]; ok {
		t.Error("replay record past retention was kept")
	}
	if _, err := s.GetPushedRequest(ctx, fresh.Key); err != nil {
		t.Errorf("fresh record: %v", err)
	}
}

func TestStore_MemoryStaysBoundedUnderAStreamOfPushes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := New(WithClock(clock.now))
	// 60,000 pushes at 10 per second, each with a 10 minute deadline: without pruning
	// all of them would stay; with it, at most deadline + retention + one sweep
	// interval's worth (about 43,000 at this rate) do.
	for range 60_000 {
		clock.t = clock.t.Add(100 * time.Millisecond)
		if err := s.CreatePushedRequest(t.Context(), oauthtest.PushedRequest(t, clock.t)); err != nil {
			t.Fatal(err)
		}
	}
	bound := int((10*time.Minute + DefaultRetention + sweepInterval) / (100 * time.Millisecond))
	if n := len(s.pushed); n > bound {
		t.Errorf("%d pushed requests kept, want at most %d", n, bound)
	}
}
