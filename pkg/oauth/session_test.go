package oauth_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// sessionDomain is a domain whose store logs its calls, with the user signed in once.
func sessionDomain(t *testing.T) (*domain, *oauthtest.Faulty) {
	t.Helper()
	var f *oauthtest.Faulty
	d := newDomain(t, withStore(func(s oauth.Store) oauth.Store { f = oauthtest.NewFaulty(s); return f }))
	return d, f
}

func (d *domain) startSession(clientID string) (string, *oauth.Session) {
	d.tb.Helper()
	u, err := d.store.GetUser(d.ctx, username)
	if err != nil {
		d.tb.Fatal(err)
	}
	id, sess, err := d.svc.StartSession(d.ctx, oauth.SignedInAs(u), clientID, d.now(), oauth.Authentication{AMR: []string{oauth.AMRPassword}})
	if err != nil {
		d.tb.Fatalf("StartSession: %v", err)
	}
	return id, sess
}

func touches(f *oauthtest.Faulty) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == oauthtest.MethodTouchSession {
			n++
		}
	}
	return n
}

// TestSession_StartStoresOnlyTheHashOfA256BitID: decision 1 for sessions; the
// deadlines of SESSION_IDLE_TIMEOUT and SESSION_LIFETIME.
func TestSession_StartStoresOnlyTheHashOfA256BitID(t *testing.T) {
	d, _ := sessionDomain(t)
	id, sess := d.startSession(confID)
	if len(id) != 43 {
		t.Fatalf("session id %q: want 43 base64url characters (256 bits)", id)
	}
	if sess.Key != oauth.HashKey(id) || sess.Key == id {
		t.Fatalf("session key %q is not the SHA-256 of the id", sess.Key)
	}
	stored, err := d.store.GetSession(d.ctx, oauth.HashKey(id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.store.GetSession(d.ctx, id); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a session is stored under its id: %v", err)
	}
	want := oauth.Session{Key: sess.Key, Username: username, Subject: subject, AuthTime: d.now(), AMR: []string{"pwd"},
		Clients: []string{confID}, IdleDeadline: d.now().Add(30 * time.Minute), ExpiresAt: d.now().Add(12 * time.Hour)}
	if !equalJSON(t, stored, &want) {
		t.Fatalf("stored session %+v, want %+v", stored, want)
	}
	if other, _ := d.startSession(confID); other == id {
		t.Fatal("two sessions with one id")
	}
}

// TestSession_CurrentSession_Rules: a session is used only while live and while its
// user is as it was at the login; otherwise it ends at this use.
func TestSession_CurrentSession_Rules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *domain, st *deletable, u *oauth.User)
		ends   bool
	}{
		{name: "OIDC Core §3.1.2.1 a live session is used", change: func(*domain, *deletable, *oauth.User) {}},
		{name: "OIDC Core §3.1.2.1 just inside the idle timeout", change: func(d *domain, _ *deletable, _ *oauth.User) {
			d.advance(30*time.Minute - time.Millisecond)
		}},
		{name: "OIDC Core §3.1.2.1 at the idle timeout the session has ended", ends: true, change: func(d *domain, _ *deletable, _ *oauth.User) {
			d.advance(30 * time.Minute)
		}},
		{name: "OIDC Core §2 a disabled user's session ends at the next use", ends: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			u.Disabled = true
			d.putUser(u)
		}},
		{name: "OIDC Core §2 a deleted user's session ends", ends: true, change: func(_ *domain, st *deletable, _ *oauth.User) {
			st.deleted.Store(true)
		}},
		{name: "OIDC Core §2 a re-created username is another subject", ends: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			u.Sub = "another-random-sub"
			d.putUser(u)
		}},
		{name: "OIDC Core §2 tokens_valid_after at or after auth_time ends the session", ends: true, change: func(d *domain, _ *deletable, u *oauth.User) {
			u.TokensValidAfter = d.now()
			d.putUser(u)
		}},
		{name: "OIDC Core §2 tokens_valid_after before auth_time keeps it", change: func(d *domain, _ *deletable, u *oauth.User) {
			u.TokensValidAfter = d.now().Add(-time.Millisecond)
			d.putUser(u)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &deletable{}
			d := newDomain(t, withStore(func(s oauth.Store) oauth.Store { st.Store = s; return st }))
			id, sess := d.startSession(confID)
			u, err := d.store.GetUser(d.ctx, username)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(d, st, u)
			got, user, err := d.svc.CurrentSession(d.ctx, id)
			if !tc.ends {
				if err != nil || got.Key != sess.Key || user.Username != username {
					t.Fatalf("CurrentSession = %+v, %v, %v; want the session", got, user, err)
				}
				return
			}
			if !errors.Is(err, oauth.ErrNoSession) || got != nil {
				t.Fatalf("CurrentSession = %+v, %v; want ErrNoSession", got, err)
			}
			if _, err := d.store.GetSession(d.ctx, sess.Key); !errors.Is(err, oauth.ErrNotFound) {
				t.Fatalf("the unusable session was not ended: %v", err)
			}
		})
	}
}

// TestSession_CurrentSession_AbsoluteLifetime: SESSION_LIFETIME ends a session that is
// used all the time.
func TestSession_CurrentSession_AbsoluteLifetime(t *testing.T) {
	d := newDomain(t, withConfig(func(c *oauth.Config) {
		c.Session = oauth.SessionPolicy{IdleTimeout: time.Hour, Lifetime: 2 * time.Hour}
	}))
	id, _ := d.startSession(confID)
	for range 2 {
		d.advance(40 * time.Minute)
		sess, _, err := d.svc.CurrentSession(d.ctx, id)
		if err != nil {
			t.Fatalf("CurrentSession at %v: %v", d.now(), err)
		}
		if err := d.svc.UseSession(d.ctx, sess, confID); err != nil {
			t.Fatal(err)
		}
		if sess.IdleDeadline.After(sess.ExpiresAt) {
			t.Fatalf("idle deadline %v after the absolute deadline %v", sess.IdleDeadline, sess.ExpiresAt)
		}
	}
	d.advance(40 * time.Minute) // 2 h after the login, 40 minutes after the last use
	if _, _, err := d.svc.CurrentSession(d.ctx, id); !errors.Is(err, oauth.ErrNoSession) {
		t.Fatalf("CurrentSession at the absolute deadline: %v, want ErrNoSession", err)
	}
}

func TestSession_CurrentSession_UnknownOrEmptyIDIsNoSession(t *testing.T) {
	d := newDomain(t)
	for _, id := range []string{"", "not-a-session-id"} {
		if _, _, err := d.svc.CurrentSession(d.ctx, id); !errors.Is(err, oauth.ErrNoSession) {
			t.Fatalf("CurrentSession(%q): %v, want ErrNoSession", id, err)
		}
	}
}

// A store outage is not "no session": that would send the user to sign in again.
func TestSession_CurrentSession_StoreOutageIsUnavailable(t *testing.T) {
	d, f := sessionDomain(t)
	id, _ := d.startSession(confID)
	f.FailMethod(oauthtest.MethodGetSession, oauthtest.Before)
	_, _, err := d.svc.CurrentSession(d.ctx, id)
	wantErr(t, err, oauth.CodeTemporarilyUnavailable)
}

// TestSession_UseSession_SlidesWithABoundedNumberOfWrites: a use writes only when the
// idle deadline moves by a tenth of the idle timeout or the client is new.
func TestSession_UseSession_SlidesWithABoundedNumberOfWrites(t *testing.T) {
	d, f := sessionDomain(t)
	id, _ := d.startSession(confID)
	use := func(clientID string) *oauth.Session {
		t.Helper()
		sess, _, err := d.svc.CurrentSession(d.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.svc.UseSession(d.ctx, sess, clientID); err != nil {
			t.Fatalf("UseSession: %v", err)
		}
		return sess
	}
	// Every second for a minute: no write (the deadline would move by under 3 minutes).
	for range 60 {
		d.advance(time.Second)
		use(confID)
	}
	if n := touches(f); n != 0 {
		t.Fatalf("%d writes for uses within a slide step", n)
	}
	// Three minutes after the login the deadline moves one step: one write.
	d.advance(2 * time.Minute)
	sess := use(confID)
	if n := touches(f); n != 1 {
		t.Fatalf("%d writes after a slide step, want 1", n)
	}
	if want := d.now().Add(30 * time.Minute); !sess.IdleDeadline.Equal(want) {
		t.Fatalf("idle deadline %v, want %v", sess.IdleDeadline, want)
	}
	// A new client writes at once, and is recorded for the logout.
	d.advance(time.Second)
	sess = use(postID)
	if n := touches(f); n != 2 {
		t.Fatalf("%d writes after a new client, want 2", n)
	}
	stored, err := d.store.GetSession(d.ctx, sess.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.SignedInTo(postID) || !stored.SignedInTo(confID) {
		t.Fatalf("clients %v, want both", stored.Clients)
	}
}

// TestSession_UseSession_EndedMeanwhileIsNoSession: a session ended between the read
// and the touch ("Not you?" in another tab) is not used.
func TestSession_UseSession_EndedMeanwhileIsNoSession(t *testing.T) {
	d := newDomain(t)
	id, _ := d.startSession(confID)
	sess, _, err := d.svc.CurrentSession(d.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ended, err := d.svc.EndSession(d.ctx, id); err != nil || ended == nil || ended.Key != sess.Key {
		t.Fatalf("EndSession = %+v, %v", ended, err)
	}
	if err := d.svc.UseSession(d.ctx, sess, postID); !errors.Is(err, oauth.ErrNoSession) {
		t.Fatalf("UseSession of an ended session: %v, want ErrNoSession", err)
	}
	if ended, err := d.svc.EndSession(d.ctx, id); err != nil || ended != nil {
		t.Fatalf("EndSession twice = %+v, %v; want nil, nil", ended, err)
	}
}

func TestSessionPrompt_OIDCCore_3_1_2_1(t *testing.T) {
	now := t0
	live := &oauth.Session{Username: username, AuthTime: now.Add(-10 * time.Minute),
		IdleDeadline: now.Add(20 * time.Minute), ExpiresAt: now.Add(11 * time.Hour)}
	maxAge := func(n int) *int { return &n }
	for _, tc := range []struct {
		name    string
		req     oauth.AuthorizationRequest
		sess    *oauth.Session
		consent bool
		want    oauth.SessionUse
		code    string
	}{
		{name: "OIDC Core §3.1.2.1 no session: the login page", want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 a live session skips the login", sess: live, want: oauth.ReusesSession},
		{name: "OIDC Core §3.1.2.1 prompt=login asks again", sess: live, req: oauth.AuthorizationRequest{Prompt: "login"}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 prompt=login consent asks again", sess: live, req: oauth.AuthorizationRequest{Prompt: "login consent"}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 max_age elapsed asks again", sess: live, req: oauth.AuthorizationRequest{MaxAge: maxAge(599)}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 max_age just elapsed (equal) asks again", sess: live, req: oauth.AuthorizationRequest{MaxAge: maxAge(600)}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 max_age=0 asks again", sess: live, req: oauth.AuthorizationRequest{MaxAge: maxAge(0)}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 max_age not elapsed reuses", sess: live, req: oauth.AuthorizationRequest{MaxAge: maxAge(601)}, want: oauth.ReusesSession},
		{name: "OIDC Core §3.1.2.1 prompt=select_account offers the session", sess: live, req: oauth.AuthorizationRequest{Prompt: "select_account"}, want: oauth.OffersSession},
		{name: "OIDC Core §3.1.2.1 prompt=select_account without a session: the login page", req: oauth.AuthorizationRequest{Prompt: "select_account"}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 login_hint of another user: the login page", sess: live, req: oauth.AuthorizationRequest{LoginHint: "bob"}, want: oauth.NeedsLogin},
		{name: "OIDC Core §3.1.2.1 login_hint of the session's user reuses", sess: live, req: oauth.AuthorizationRequest{LoginHint: username}, want: oauth.ReusesSession},
		{name: "OIDC Core §3.1.2.1 prompt=consent reuses the session", sess: live, req: oauth.AuthorizationRequest{Prompt: "consent"}, consent: true, want: oauth.ReusesSession},
		{name: "OIDC Core §3.1.2.6 prompt=none without a session is login_required", req: oauth.AuthorizationRequest{Prompt: "none"}, want: oauth.NeedsLogin, code: oauth.CodeLoginRequired},
		{name: "OIDC Core §3.1.2.6 prompt=none with max_age elapsed is login_required", sess: live, req: oauth.AuthorizationRequest{Prompt: "none", MaxAge: maxAge(60)}, want: oauth.NeedsLogin, code: oauth.CodeLoginRequired},
		{name: "OIDC Core §3.1.2.6 prompt=none with max_age=0 is login_required", sess: live, req: oauth.AuthorizationRequest{Prompt: "none", MaxAge: maxAge(0)}, want: oauth.NeedsLogin, code: oauth.CodeLoginRequired},
		{name: "OIDC Core §3.1.2.6 prompt=none with login_hint of another user is login_required", sess: live, req: oauth.AuthorizationRequest{Prompt: "none", LoginHint: "bob"}, want: oauth.NeedsLogin, code: oauth.CodeLoginRequired},
		{name: "OIDC Core §3.1.2.6 prompt=none needing consent is consent_required", sess: live, req: oauth.AuthorizationRequest{Prompt: "none"}, consent: true, want: oauth.ReusesSession, code: oauth.CodeConsentRequired},
		{name: "OIDC Core §3.1.2.1 prompt=none with a session and consent reuses without a page", sess: live, req: oauth.AuthorizationRequest{Prompt: "none"}, want: oauth.ReusesSession},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := oauth.SessionPrompt(&tc.req, tc.sess, tc.consent, now)
			if got != tc.want {
				t.Errorf("SessionPrompt = %v, want %v", got, tc.want)
			}
			if tc.code == "" {
				if err != nil {
					t.Fatalf("SessionPrompt error %v", err)
				}
				return
			}
			e := wantErr(t, err, tc.code)
			if !e.Redirect {
				t.Fatalf("%s is not redirected to the client", tc.code)
			}
		})
	}
}

func equalJSON(tb testing.TB, got, want any) bool {
	tb.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		tb.Fatal(err)
	}
	return string(g) == string(w)
}
