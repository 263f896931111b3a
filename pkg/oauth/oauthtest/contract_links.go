package oauthtest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// LinkStore is what the account-link contract runs on: a store with its registry
// and its account links (brokered login, issue 13).
type LinkStore interface {
	oauth.Store
	oauth.Registry
	oauth.AccountLinks
}

// RunAccountLinksContract runs the promises of oauth.AccountLinks against the store
// newStore returns (empty, once per parallel subtest): a first brokered login creates
// its user and its link in one atomic step, so that of concurrent first logins one
// creates the user; a link to an existing user holds only while the user is as read;
// claims are replaced under the same check.
func RunAccountLinksContract(t *testing.T, newStore func(t *testing.T) LinkStore) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, c := range []struct {
		name string
		test func(t *testing.T, s LinkStore, now time.Time)
	}{
		{"Link/CreateLinkedUserThenGetBoth", testLinkCreateLinkedUserThenGetBoth},
		{"Link/CreateLinkedUserOnTakenLinkIsConflictAndWritesNoUser", testLinkCreateOnTakenLinkIsConflict},
		{"Link/CreateLinkedUserOnTakenUsernameIsConflictAndWritesNoLink", testLinkCreateOnTakenUsernameIsConflict},
		{"Link/GetUnknownKeyIsNotFound", testLinkGetUnknownKeyIsNotFound},
		{"Link/OfConcurrentFirstLoginsExactlyOneCreates", testLinkOfConcurrentFirstLoginsOneCreates},
		{"Link/LinkUserLinksTheUserAsRead", testLinkUserLinksTheUserAsRead},
		{"Link/LinkUserOnTakenLinkIsConflict", testLinkUserOnTakenLinkIsConflict},
		{"Link/LinkUserToAChangedUserIsUserChangedAndWritesNothing", testLinkUserToAChangedUserIsUserChanged},
		{"Link/RelinkUserReplacesTheStaleLinkAndCreatesTheUser", testLinkRelinkReplaces},
		{"Link/RelinkUserOfAChangedLinkIsConflictAndWritesNothing", testLinkRelinkOfAChangedLink},
		{"Link/RelinkUserOnTakenUsernameIsConflictAndKeepsTheLink", testLinkRelinkOnTakenUsername},
		{"Link/SetUserClaimsReplacesTheClaims", testLinkSetUserClaimsReplaces},
		{"Link/SetUserClaimsOfAChangedUserIsUserChangedAndWritesNothing", testLinkSetUserClaimsOfAChangedUser},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.test(t, newStore(t), now)
		})
	}
}

// Link is a link of provider corp's upstream sub to username, with its key.
func Link(tb testing.TB, username, sub string, now time.Time) *oauth.AccountLink {
	tb.Helper()
	return &oauth.AccountLink{Key: Key(tb), ProviderID: "corp", Username: username, Subject: sub, CreatedAt: now}
}

func brokeredUser(username, sub string) *oauth.User {
	return &oauth.User{Username: username, Sub: sub, Claims: map[string]any{"name": "Una", "email_verified": true, "groups": []any{"a"}}}
}

func mustGetLink(tb testing.TB, s LinkStore, key string) *oauth.AccountLink {
	tb.Helper()
	l, err := s.GetAccountLink(tb.Context(), key)
	if err != nil {
		tb.Fatalf("GetAccountLink: %v", err)
	}
	return l
}

func testLinkCreateLinkedUserThenGetBoth(t *testing.T, s LinkStore, now time.Time) {
	u := brokeredUser("idp:corp:one", "sub-1")
	l := Link(t, u.Username, u.Sub, now)
	if err := s.CreateLinkedUser(t.Context(), l, u); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, mustGetLink(t, s, l.Key), l, "stored link")
	assertEqual(t, mustGetUser(t, s, u.Username), u, "stored user")
}

func testLinkCreateOnTakenLinkIsConflict(t *testing.T, s LinkStore, now time.Time) {
	u := brokeredUser("idp:corp:one", "sub-1")
	l := Link(t, u.Username, u.Sub, now)
	if err := s.CreateLinkedUser(t.Context(), l, u); err != nil {
		t.Fatal(err)
	}
	other := brokeredUser("idp:corp:two", "sub-2")
	l2 := *l
	l2.Username, l2.Subject = other.Username, other.Sub
	if err := s.CreateLinkedUser(t.Context(), &l2, other); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("taken link: %v, want ErrConflict", err)
	}
	if _, err := s.GetUser(t.Context(), other.Username); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the refused create wrote its user: %v", err)
	}
	assertEqual(t, mustGetLink(t, s, l.Key), l, "the first link")
}

func testLinkCreateOnTakenUsernameIsConflict(t *testing.T, s LinkStore, now time.Time) {
	mustPutUser(t, s, &oauth.User{Username: "idp:corp:one", PasswordHash: "x", Sub: "operator"})
	u := brokeredUser("idp:corp:one", "sub-1")
	l := Link(t, u.Username, u.Sub, now)
	if err := s.CreateLinkedUser(t.Context(), l, u); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("taken username: %v, want ErrConflict", err)
	}
	if _, err := s.GetAccountLink(t.Context(), l.Key); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the refused create wrote its link: %v", err)
	}
	if got := mustGetUser(t, s, u.Username); got.Sub != "operator" {
		t.Errorf("the user in the way was replaced: %+v", got)
	}
}

func testLinkGetUnknownKeyIsNotFound(t *testing.T, s LinkStore, now time.Time) {
	if _, err := s.GetAccountLink(t.Context(), Key(t)); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
}

func testLinkOfConcurrentFirstLoginsOneCreates(t *testing.T, s LinkStore, now time.Time) {
	key := Key(t)
	var wg sync.WaitGroup
	errs := make([]error, concurrency/5)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := brokeredUser("idp:corp:race", "sub-"+string(rune('a'+i)))
			l := &oauth.AccountLink{Key: key, ProviderID: "corp", Username: u.Username, Subject: u.Sub, CreatedAt: now}
			errs[i] = s.CreateLinkedUser(t.Context(), l, u)
		}()
	}
	wg.Wait()
	won := slices.IndexFunc(errs, func(err error) bool { return err == nil })
	for i, err := range errs {
		if i != won && !errors.Is(err, oauth.ErrConflict) {
			t.Errorf("create %d: %v, want ErrConflict", i, err)
		}
	}
	if won < 0 || slices.ContainsFunc(errs[won+1:], func(err error) bool { return err == nil }) {
		t.Fatalf("want exactly one create to succeed: %v", errs)
	}
	l := mustGetLink(t, s, key)
	if u := mustGetUser(t, s, "idp:corp:race"); u.Sub != l.Subject {
		t.Errorf("link %+v and user %+v disagree", l, u)
	}
}

func testLinkUserLinksTheUserAsRead(t *testing.T, s LinkStore, now time.Time) {
	u := fullUser(t)
	u.Disabled = false
	mustPutUser(t, s, u)
	l := Link(t, u.Username, u.Sub, now)
	if err := s.LinkUser(t.Context(), l, oauth.UserCheck{Username: u.Username, Sub: u.Sub, TokensValidAfter: u.TokensValidAfter}); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, mustGetLink(t, s, l.Key), l, "stored link")
	assertEqual(t, mustGetUser(t, s, u.Username), u, "the linked user, unchanged")
}

func testLinkUserOnTakenLinkIsConflict(t *testing.T, s LinkStore, now time.Time) {
	u := brokeredUser("idp:corp:one", "sub-1")
	l := Link(t, u.Username, u.Sub, now)
	if err := s.CreateLinkedUser(t.Context(), l, u); err != nil {
		t.Fatal(err)
	}
	mustPutUser(t, s, &oauth.User{Username: "bob", PasswordHash: "x", Sub: "bob-sub"})
	l2 := *l
	l2.Username, l2.Subject = "bob", "bob-sub"
	if err := s.LinkUser(t.Context(), &l2, oauth.UserCheck{Username: "bob", Sub: "bob-sub"}); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("taken link: %v, want ErrConflict", err)
	}
	assertEqual(t, mustGetLink(t, s, l.Key), l, "the first link")
}

func testLinkUserToAChangedUserIsUserChanged(t *testing.T, s LinkStore, now time.Time) {
	tva := now.Add(-time.Hour)
	mustPutUser(t, s, &oauth.User{Username: "bob", PasswordHash: "x", Sub: "bob-sub", TokensValidAfter: tva})
	mustPutUser(t, s, &oauth.User{Username: "off", PasswordHash: "x", Sub: "off-sub", Disabled: true})
	for name, check := range map[string]oauth.UserCheck{
		"missing":           {Username: "nobody", Sub: "x"},
		"disabled":          {Username: "off", Sub: "off-sub"},
		"another sub":       {Username: "bob", Sub: "other", TokensValidAfter: tva},
		"tokens cut off":    {Username: "bob", Sub: "bob-sub"},
		"tokens cut off at": {Username: "bob", Sub: "bob-sub", TokensValidAfter: tva.Add(time.Millisecond)},
	} {
		l := Link(t, check.Username, check.Sub, now)
		if err := s.LinkUser(t.Context(), l, check); !errors.Is(err, oauth.ErrUserChanged) {
			t.Errorf("%s: %v, want ErrUserChanged", name, err)
		}
		if _, err := s.GetAccountLink(t.Context(), l.Key); !errors.Is(err, oauth.ErrNotFound) {
			t.Errorf("%s: the refused link was written: %v", name, err)
		}
	}
}

func testLinkSetUserClaimsReplaces(t *testing.T, s LinkStore, now time.Time) {
	u := brokeredUser("idp:corp:one", "sub-1")
	if err := s.CreateLinkedUser(t.Context(), Link(t, u.Username, u.Sub, now), u); err != nil {
		t.Fatal(err)
	}
	check := oauth.UserCheck{Username: u.Username, Sub: u.Sub}
	claims := map[string]any{"name": "Una Renamed", "locale": "de", "n": 3}
	if err := s.SetUserClaims(t.Context(), check, claims); err != nil {
		t.Fatal(err)
	}
	want := *u
	want.Claims = map[string]any{"name": "Una Renamed", "locale": "de", "n": float64(3)}
	assertEqual(t, mustGetUser(t, s, u.Username), &want, "user with new claims")
	if err := s.SetUserClaims(t.Context(), check, nil); err != nil {
		t.Fatal(err)
	}
	want.Claims = nil
	assertEqual(t, mustGetUser(t, s, u.Username), &want, "user without claims")
}

func testLinkSetUserClaimsOfAChangedUser(t *testing.T, s LinkStore, now time.Time) {
	mustPutUser(t, s, &oauth.User{Username: "bob", PasswordHash: "x", Sub: "bob-sub", Claims: map[string]any{"name": "Bob"}})
	for name, check := range map[string]oauth.UserCheck{
		"missing":     {Username: "nobody", Sub: "x"},
		"another sub": {Username: "bob", Sub: "other"},
	} {
		if err := s.SetUserClaims(t.Context(), check, map[string]any{"name": "Mallory"}); !errors.Is(err, oauth.ErrUserChanged) {
			t.Errorf("%s: %v, want ErrUserChanged", name, err)
		}
	}
	if _, err := s.GetUser(t.Context(), "nobody"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("SetUserClaims created a user: %v", err)
	}
	if got := mustGetUser(t, s, "bob"); got.Claims["name"] != "Bob" {
		t.Errorf("claims of a user that failed the check: %v", got.Claims)
	}
}

func createdLink(t *testing.T, s LinkStore, username, sub string, now time.Time) *oauth.AccountLink {
	t.Helper()
	l := Link(t, username, sub, now)
	if err := s.CreateLinkedUser(t.Context(), l, brokeredUser(username, sub)); err != nil {
		t.Fatal(err)
	}
	return l
}

func testLinkRelinkReplaces(t *testing.T, s LinkStore, now time.Time) {
	stale := createdLink(t, s, "idp:corp:one", "sub-1", now)
	u := brokeredUser("idp:corp:two", "sub-2")
	l := &oauth.AccountLink{Key: stale.Key, ProviderID: "corp", Username: u.Username, Subject: u.Sub, CreatedAt: now.Add(time.Hour)}
	if err := s.RelinkUser(t.Context(), l, stale, u); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, mustGetLink(t, s, l.Key), l, "the new link")
	assertEqual(t, mustGetUser(t, s, u.Username), u, "the new user")
}

func testLinkRelinkOfAChangedLink(t *testing.T, s LinkStore, now time.Time) {
	stored := createdLink(t, s, "idp:corp:one", "sub-1", now)
	stale := *stored
	stale.Subject = "sub-0" // what a concurrent relink replaced
	u := brokeredUser("idp:corp:two", "sub-2")
	l := &oauth.AccountLink{Key: stored.Key, ProviderID: "corp", Username: u.Username, Subject: u.Sub, CreatedAt: now}
	if err := s.RelinkUser(t.Context(), l, &stale, u); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("relink of a changed link: %v, want ErrConflict", err)
	}
	assertEqual(t, mustGetLink(t, s, stored.Key), stored, "the stored link")
	if _, err := s.GetUser(t.Context(), u.Username); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the refused relink wrote its user: %v", err)
	}
	missing := Link(t, u.Username, u.Sub, now)
	if err := s.RelinkUser(t.Context(), missing, missing, u); !errors.Is(err, oauth.ErrConflict) {
		t.Errorf("relink of no link: %v, want ErrConflict", err)
	}
}

func testLinkRelinkOnTakenUsername(t *testing.T, s LinkStore, now time.Time) {
	stale := createdLink(t, s, "idp:corp:one", "sub-1", now)
	mustPutUser(t, s, &oauth.User{Username: "idp:corp:two", Sub: "other"})
	u := brokeredUser("idp:corp:two", "sub-2")
	l := &oauth.AccountLink{Key: stale.Key, ProviderID: "corp", Username: u.Username, Subject: u.Sub, CreatedAt: now}
	if err := s.RelinkUser(t.Context(), l, stale, u); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("taken username: %v, want ErrConflict", err)
	}
	assertEqual(t, mustGetLink(t, s, stale.Key), stale, "the stale link")
	if got := mustGetUser(t, s, u.Username); got.Sub != "other" {
		t.Errorf("the user in the way was replaced: %+v", got)
	}
}
