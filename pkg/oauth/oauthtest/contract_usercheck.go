package oauthtest

import (
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// userCheckContract holds the promises of IssueCode's user check (oauth.UserCheck):
// the approval's condition that replaces its re-read of the user.
var userCheckContract = []contractCase{
	{"IssueCode/UserCheckPassesForTheUserAsRead", testIssueCodeUserCheckPassesForTheUserAsRead},
	{"IssueCode/UserCheckRefusesAChangedUserAndWritesNothing", testIssueCodeUserCheckRefusesAChangedUserAndWritesNothing},
	{"IssueCode/UserCheckOnADeadRequestIsNotFound", testIssueCodeUserCheckOnADeadRequestIsNotFound},
}

// checkedUser stores the User fixture with a Sub and, when tva is set, a
// TokensValidAfter, and returns the check of the user as read back.
func checkedUser(t *testing.T, reg oauth.Registry, s oauth.Store, tva time.Time) *oauth.UserCheck {
	t.Helper()
	u := User(t)
	u.Sub = "sub-" + u.Username
	u.TokensValidAfter = tva
	if err := reg.PutUser(t.Context(), u); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	got, err := s.GetUser(t.Context(), u.Username)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return &oauth.UserCheck{Username: got.Username, Sub: got.Sub, TokensValidAfter: got.TokensValidAfter}
}

func testIssueCodeUserCheckPassesForTheUserAsRead(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	for _, tva := range []time.Time{{}, now.Add(-time.Hour)} {
		uc := checkedUser(t, reg, s, tva)
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now, User: uc}, code, grantOf(t, code)); err != nil {
			t.Fatalf("IssueCode with the user as read (tokens_valid_after %v): %v", tva, err)
		}
		assertCodeUsable(t, s, code, now)
	}
}

func testIssueCodeUserCheckRefusesAChangedUserAndWritesNothing(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	for _, tc := range []struct {
		name   string
		change func(u *oauth.User, uc *oauth.UserCheck)
	}{
		{"unknown user", func(_ *oauth.User, uc *oauth.UserCheck) { uc.Username = "nobody" }},
		{"disabled user", func(u *oauth.User, _ *oauth.UserCheck) { u.Disabled = true }},
		{"re-created user (another sub)", func(u *oauth.User, _ *oauth.UserCheck) { u.Sub = "another-sub" }},
		{"user stored without a sub, checked with one", func(u *oauth.User, _ *oauth.UserCheck) { u.Sub = "" }},
		{"tokens_valid_after moved", func(u *oauth.User, _ *oauth.UserCheck) { u.TokensValidAfter = now.Add(-time.Minute) }},
		{"tokens_valid_after set since", func(u *oauth.User, uc *oauth.UserCheck) {
			u.TokensValidAfter, uc.TokensValidAfter = now, time.Time{}
		}},
	} {
		uc := checkedUser(t, reg, s, now.Add(-time.Hour))
		u, err := s.GetUser(t.Context(), uc.Username)
		if err != nil {
			t.Fatal(err)
		}
		tc.change(u, uc)
		if err := reg.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		code := Code(t, now)
		err = s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now, User: uc}, code, grantOf(t, code))
		assertErrorIs(t, err, oauth.ErrUserChanged, "IssueCode for a "+tc.name)
		assertCodeAbsent(t, s, code, now)
		assertGrantAbsent(t, s, code.GrantID)
		assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode for a "+tc.name)
	}
}

func testIssueCodeUserCheckOnADeadRequestIsNotFound(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	uc := checkedUser(t, reg, s, time.Time{})
	r := PushedRequest(t, now)
	consumed := now
	r.ConsumedAt = &consumed
	mustCreate(t, s, r)
	code := Code(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now, User: uc}, code, grantOf(t, code))
	assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode with a user check for a consumed request")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
}
