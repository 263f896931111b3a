package oauthtest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// sessionContract holds the promises of oauth.Sessions: single sign-on sessions
// (OIDC Core §3.1.2.1) created once under their hashed key, slid forward only while
// live, with every client they signed in to, and ended by deleting them (a logout
// reads back their clients).
var sessionContract = []contractCase{
	{"Session/CreateThenGetReturnsEveryField", testSessionCreateThenGetReturnsEveryField},
	{"Session/CreateOnTakenKeyIsConflictAndKeepsTheFirst", testSessionCreateOnTakenKeyIsConflictAndKeepsTheFirst},
	{"Session/GetUnknownKeyIsNotFound", testSessionGetUnknownKeyIsNotFound},
	{"Session/EmptyListsComeBackNilAndClientsSorted", testSessionEmptyListsComeBackNilAndClientsSorted},
	{"Session/TimesAreKeptInUTCToTheMillisecond", testSessionTimesAreKeptInUTCToTheMillisecond},
	{"Session/StoreKeepsNoReferenceToCallersValues", testSessionStoreKeepsNoReferenceToCallersValues},
	{"Session/TouchSlidesTheIdleDeadlineAndAddsTheClient", testSessionTouchSlidesTheIdleDeadlineAndAddsTheClient},
	{"Session/TouchNeverMovesTheIdleDeadlineBack", testSessionTouchNeverMovesTheIdleDeadlineBack},
	{"Session/TouchUnknownKeyIsNotFound", testSessionTouchUnknownKeyIsNotFound},
	{"Session/TouchAtOrPastTheIdleDeadlineIsNotFoundAndWritesNothing", testSessionTouchPastIdleIsNotFound},
	{"Session/TouchAtOrPastExpiryIsNotFoundAndWritesNothing", testSessionTouchPastExpiryIsNotFound},
	{"Session/GetReturnsASessionPastItsDeadlines", testSessionGetReturnsASessionPastItsDeadlines},
	{"Session/PastItsTTLASessionCannotBeTouched", testSessionPastItsTTLCannotBeTouched},
	{"Session/EndDeletesAndReturnsTheSession", testSessionEndDeletesAndReturnsTheSession},
	{"Session/EndUnknownKeyIsNotFound", testSessionEndUnknownKeyIsNotFound},
	{"Session/ConcurrentTouchesKeepTheLatestDeadlineAndEveryClient", testSessionConcurrentTouches},
	{"Session/OfConcurrentEndsOneReturnsTheSession", testSessionOfConcurrentEndsOneReturnsTheSession},
	{"Session/KeysDoNotCollideWithOtherKinds", testSessionKeysDoNotCollideWithOtherKinds},
}

// Session returns a live session under a fresh key: signed in at now with a password,
// to ClientID, idle for 30 minutes, ending after 12 hours. Every field is set.
func Session(tb testing.TB, now time.Time) *oauth.Session {
	tb.Helper()
	return &oauth.Session{
		Key:          Key(tb),
		Username:     "janedoe",
		Subject:      "248289761001",
		AuthTime:     now,
		AMR:          []string{"pwd"},
		ACR:          "urn:mace:incommon:iap:silver",
		IDP:          "corp",
		Clients:      []string{ClientID},
		IdleDeadline: now.Add(30 * time.Minute),
		ExpiresAt:    now.Add(12 * time.Hour),
	}
}

func mustCreateSession(tb testing.TB, s oauth.Store, sess *oauth.Session) {
	tb.Helper()
	if err := s.CreateSession(tb.Context(), sess); err != nil {
		tb.Fatalf("CreateSession: %v", err)
	}
}

func mustGetSession(tb testing.TB, s oauth.Store, key string) *oauth.Session {
	tb.Helper()
	got, err := s.GetSession(tb.Context(), key)
	if err != nil {
		tb.Fatalf("GetSession: %v", err)
	}
	return got
}

func mustTouch(tb testing.TB, s oauth.Store, key, clientID string, now, idle time.Time) {
	tb.Helper()
	if err := s.TouchSession(tb.Context(), key, clientID, now, idle); err != nil {
		tb.Fatalf("TouchSession(%q at %v): %v", clientID, now, err)
	}
}

func assertNotFound(tb testing.TB, err error, what string) {
	tb.Helper()
	if !errors.Is(err, oauth.ErrNotFound) {
		tb.Fatalf("%s: got %v, want ErrNotFound", what, err)
	}
}

func testSessionCreateThenGetReturnsEveryField(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	sess.Clients = []string{"a-client", ClientID}
	sess.AMR = []string{"pwd", "otp"}
	mustCreateSession(t, s, sess)
	assertEqual(t, mustGetSession(t, s, sess.Key), sess, "stored session")
}

func testSessionCreateOnTakenKeyIsConflictAndKeepsTheFirst(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	other := Session(t, now.Add(time.Second))
	other.Key, other.Username = sess.Key, "mallory"
	if err := s.CreateSession(t.Context(), other); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("CreateSession on a taken key: got %v, want ErrConflict", err)
	}
	assertEqual(t, mustGetSession(t, s, sess.Key), sess, "the first session")
}

func testSessionGetUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	_, err := s.GetSession(t.Context(), Key(t))
	assertNotFound(t, err, "GetSession of an unknown key")
}

func testSessionEmptyListsComeBackNilAndClientsSorted(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	sess.AMR, sess.Clients, sess.ACR = []string{}, []string{}, ""
	mustCreateSession(t, s, sess)
	want := *sess
	want.AMR, want.Clients = nil, nil
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session with empty lists")

	sorted := Session(t, now)
	sorted.Clients = []string{"zeta", "alpha", "mid", "alpha"}
	mustCreateSession(t, s, sorted)
	assertEqual(t, mustGetSession(t, s, sorted.Key).Clients, []string{"alpha", "mid", "zeta"}, "clients")
}

func testSessionTimesAreKeptInUTCToTheMillisecond(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("UTC+2", 2*60*60))
	sess := Session(t, odd)
	mustCreateSession(t, s, sess)
	want := *sess
	want.AuthTime, want.IdleDeadline, want.ExpiresAt = ms(sess.AuthTime), ms(sess.IdleDeadline), ms(sess.ExpiresAt)
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session with sub-millisecond, non-UTC times")
}

func testSessionStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	want := *sess
	want.AMR, want.Clients = slices.Clone(sess.AMR), slices.Clone(sess.Clients)
	mustCreateSession(t, s, sess)
	sess.AMR[0], sess.Clients[0] = "changed", "changed"
	got := mustGetSession(t, s, sess.Key)
	assertEqual(t, got, &want, "session after the caller changed its values")
	got.AMR[0], got.Clients[0] = "changed", "changed"
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session after the reader changed its copy")
}

func testSessionTouchSlidesTheIdleDeadlineAndAddsTheClient(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	at := now.Add(20 * time.Minute)
	mustTouch(t, s, sess.Key, "another-client", at, at.Add(30*time.Minute))
	want := *sess
	want.IdleDeadline = at.Add(30 * time.Minute)
	want.Clients = []string{"another-client", ClientID}
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session after a touch with a new client")

	// A client it has already, or none: the slide alone.
	later := at.Add(10 * time.Minute)
	mustTouch(t, s, sess.Key, ClientID, later, later.Add(30*time.Minute))
	mustTouch(t, s, sess.Key, "", later, later.Add(31*time.Minute))
	want.IdleDeadline = later.Add(31 * time.Minute)
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session after touches without a new client")
}

func testSessionTouchNeverMovesTheIdleDeadlineBack(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	mustTouch(t, s, sess.Key, "", now, sess.IdleDeadline.Add(-time.Minute))
	assertEqual(t, mustGetSession(t, s, sess.Key), sess, "session after a touch with an earlier deadline")
	// An earlier deadline still adds the client.
	mustTouch(t, s, sess.Key, "late-client", now, sess.IdleDeadline.Add(-time.Minute))
	want := *sess
	want.Clients = []string{"late-client", ClientID}
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session after an earlier deadline with a new client")
}

func testSessionTouchUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	assertNotFound(t, s.TouchSession(t.Context(), key, ClientID, now, now.Add(time.Hour)), "TouchSession of an unknown key")
	_, err := s.GetSession(t.Context(), key)
	assertNotFound(t, err, "GetSession after touching an unknown key")
}

// testTouchRefused checks that a touch at at is ErrNotFound and changes nothing.
func testTouchRefused(t *testing.T, s oauth.Store, sess *oauth.Session, at time.Time, what string) {
	t.Helper()
	assertNotFound(t, s.TouchSession(t.Context(), sess.Key, "another-client", at, at.Add(30*time.Minute)), what)
	assertEqual(t, mustGetSession(t, s, sess.Key), sess, "session after "+what)
}

func testSessionTouchPastIdleIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	testTouchRefused(t, s, sess, sess.IdleDeadline, "a touch at the idle deadline")
	testTouchRefused(t, s, sess, sess.IdleDeadline.Add(time.Millisecond), "a touch past the idle deadline")
	mustTouch(t, s, sess.Key, "", sess.IdleDeadline.Add(-time.Millisecond), sess.IdleDeadline.Add(time.Minute))
}

func testSessionTouchPastExpiryIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	sess.IdleDeadline = sess.ExpiresAt.Add(time.Hour) // only the absolute deadline decides
	mustCreateSession(t, s, sess)
	testTouchRefused(t, s, sess, sess.ExpiresAt, "a touch at the absolute deadline")
	testTouchRefused(t, s, sess, sess.ExpiresAt.Add(time.Millisecond), "a touch past the absolute deadline")
}

func testSessionGetReturnsASessionPastItsDeadlines(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now.Add(-13*time.Hour))
	sess.ExpiresAt = now.Add(-time.Minute)
	mustCreateSession(t, s, sess)
	assertEqual(t, mustGetSession(t, s, sess.Key), sess, "session past its deadlines")
}

// A session past its deadlines by more than any TTL slack may be gone or still there
// (DynamoDB deletes late, moto never); either way it cannot be used.
func testSessionPastItsTTLCannotBeTouched(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now.Add(-72*time.Hour))
	mustCreateSession(t, s, sess)
	err := s.TouchSession(t.Context(), sess.Key, "another-client", now, now.Add(30*time.Minute))
	assertNotFound(t, err, "TouchSession two days past the deadline")
	got, err := s.GetSession(t.Context(), sess.Key)
	switch {
	case errors.Is(err, oauth.ErrNotFound):
	case err != nil:
		t.Fatalf("GetSession past its TTL: %v", err)
	default:
		assertEqual(t, got, sess, "session past its TTL, if still stored")
	}
}

func testSessionEndDeletesAndReturnsTheSession(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	mustTouch(t, s, sess.Key, "another-client", now, sess.IdleDeadline)
	ended, err := s.EndSession(t.Context(), sess.Key)
	if err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	want := *sess
	want.Clients = []string{"another-client", ClientID}
	assertEqual(t, ended, &want, "ended session")
	_, err = s.GetSession(t.Context(), sess.Key)
	assertNotFound(t, err, "GetSession after EndSession")
	assertNotFound(t, s.TouchSession(t.Context(), sess.Key, "", now, now.Add(time.Hour)), "TouchSession after EndSession")
	_, err = s.EndSession(t.Context(), sess.Key)
	assertNotFound(t, err, "EndSession twice")
}

func testSessionEndUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	_, err := s.EndSession(t.Context(), Key(t))
	assertNotFound(t, err, "EndSession of an unknown key")
}

// Concurrent touches, each with its own client and idle deadline, in any order: every
// client is added and the deadline is the latest asked for.
func testSessionConcurrentTouches(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	sess.Clients = nil
	mustCreateSession(t, s, sess)
	var clients []string
	for i := range concurrency {
		clients = append(clients, fmt.Sprintf("client-%02d", i))
	}
	errs := race(func(i int) error {
		return s.TouchSession(t.Context(), sess.Key, clients[i], now, now.Add(time.Duration(31+i)*time.Minute))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent TouchSession %d: %v", i, err)
		}
	}
	want := *sess
	want.Clients = clients
	want.IdleDeadline = now.Add(time.Duration(31+concurrency-1) * time.Minute)
	assertEqual(t, mustGetSession(t, s, sess.Key), &want, "session after concurrent touches")
}

func testSessionOfConcurrentEndsOneReturnsTheSession(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	sess := Session(t, now)
	mustCreateSession(t, s, sess)
	errs := race(func(int) error {
		_, err := s.EndSession(t.Context(), sess.Key)
		return err
	})
	assertOneWinner(t, errs, "EndSession", oauth.ErrNotFound)
}

// A session shares no key space with the records whose keys are hashes too.
func testSessionKeysDoNotCollideWithOtherKinds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	sess := Session(t, now)
	sess.Key = r.Key
	mustCreateSession(t, s, sess)
	if err := s.UseOnce(t.Context(), r.Key, now.Add(time.Minute), now); err != nil {
		t.Fatalf("UseOnce of a session's key: %v", err)
	}
	assertEqual(t, mustGetSession(t, s, r.Key), sess, "session sharing its key with a pushed request")
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request sharing its key with a session")
}
