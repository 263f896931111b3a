package oauthtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// grantContract holds the promises of oauth.Grants; IssueCode, which creates grants,
// is tested with the codes.
var grantContract = []contractCase{
	{"Grant/IssueCodeStoresEveryField", testGrantIssueCodeStoresEveryField},
	{"Grant/GetUnknownIsNotFound", testGrantGetUnknownIsNotFound},
	{"Grant/RevokeMarksItRevokedAndGetStillReturnsIt", testGrantRevokeMarksItRevokedAndGetStillReturnsIt},
	{"Grant/GetReturnsAGrantPastItsExpiry", testGrantGetReturnsAGrantPastItsExpiry},
	{"Grant/RevokeAgainKeepsTheFirstTime", testGrantRevokeAgainKeepsTheFirstTime},
	{"Grant/RevokeUnknownIsNotFoundAndCreatesNothing", testGrantRevokeUnknownIsNotFoundAndCreatesNothing},
	{"Grant/OfConcurrentRevocationsEverySucceedsAndOneTimeIsKept", testGrantOfConcurrentRevocationsEverySucceedsAndOneTimeIsKept},
	{"Grant/StoreKeepsNoReferenceToCallersValues", testGrantStoreKeepsNoReferenceToCallersValues},
	{"Grant/TimesAreKeptInUTCToTheMillisecond", testGrantTimesAreKeptInUTCToTheMillisecond},
	{"Grant/RecordRevocationOfAnUnknownIDCreatesARevokedGrant", testGrantRecordRevocationOfAnUnknownIDCreatesARevokedGrant},
	{"Grant/RecordRevocationOfAGrantRevokesItAndKeepsItsFields", testGrantRecordRevocationOfAGrantRevokesItAndKeepsItsFields},
	{"Grant/RecordRevocationAgainKeepsTheFirstRecord", testGrantRecordRevocationAgainKeepsTheFirstRecord},
}

func testGrantIssueCodeStoresEveryField(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	grant := Grant(t, now)
	grant.ID = code.GrantID
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	want := Grant(t, now)
	want.ID = code.GrantID
	assertEqual(t, mustGetGrant(t, s, grant.ID), want, "stored grant")
}

func testGrantGetUnknownIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	_, err := s.GetGrant(t.Context(), Key(t))
	assertErrorIs(t, err, oauth.ErrNotFound, "GetGrant of an unknown grant")
}

// store.go: GetGrant returns the grant "revoked or not"; and, like every read,
// expired or not (callers check ExpiresAt).
func testGrantRevokeMarksItRevokedAndGetStillReturnsIt(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	revoked := now.Add(time.Minute)
	if err := s.RevokeGrant(t.Context(), grant.ID, revoked); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	want := *grant
	want.RevokedAt = &revoked
	assertEqual(t, mustGetGrant(t, s, grant.ID), &want, "revoked grant")
}

func testGrantGetReturnsAGrantPastItsExpiry(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	grant := grantOf(t, code)
	grant.ExpiresAt = now.Add(-time.Millisecond)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	want := grantOf(t, code)
	want.ExpiresAt = grant.ExpiresAt
	assertEqual(t, mustGetGrant(t, s, grant.ID), want, "grant past its expiry")
}

func testGrantRevokeAgainKeepsTheFirstTime(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	first := now.Add(time.Minute)
	if err := s.RevokeGrant(t.Context(), grant.ID, first); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	for _, at := range []time.Time{first, first.Add(time.Hour), now} {
		if err := s.RevokeGrant(t.Context(), grant.ID, at); err != nil {
			t.Fatalf("RevokeGrant again %v after the first: %v", at.Sub(first), err)
		}
	}
	want := *grant
	want.RevokedAt = &first
	assertEqual(t, mustGetGrant(t, s, grant.ID), &want, "grant revoked three more times")
}

func testGrantRevokeUnknownIsNotFoundAndCreatesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	id := Key(t)
	assertErrorIs(t, s.RevokeGrant(t.Context(), id, now), oauth.ErrNotFound, "RevokeGrant of an unknown grant")
	assertGrantAbsent(t, s, id)
}

func testGrantOfConcurrentRevocationsEverySucceedsAndOneTimeIsKept(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	times := make([]time.Time, concurrency)
	for i := range times {
		times[i] = now.Add(time.Duration(i+1) * time.Millisecond)
	}
	for i, err := range race(func(i int) error { return s.RevokeGrant(t.Context(), grant.ID, times[i]) }) {
		if err != nil {
			t.Errorf("concurrent RevokeGrant %d: %v", i, err)
		}
	}
	got := mustGetGrant(t, s, grant.ID)
	if got.RevokedAt == nil {
		t.Fatal("grant not revoked after concurrent RevokeGrant calls")
	}
	want := *grant
	want.RevokedAt = got.RevokedAt
	assertEqual(t, got, &want, "grant after concurrent revocations")
	if d := got.RevokedAt.Sub(now); d <= 0 || d > concurrency*time.Millisecond || d%time.Millisecond != 0 {
		t.Errorf("revoked at %v, not one of the times passed", got.RevokedAt)
	}
}

func testGrantStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	grant := grantOf(t, code)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	change := func(g *oauth.Grant) {
		g.Subject = "changed"
		g.Scopes[0] = "changed"
		g.Claims["address"].(map[string]any)["country"] = "changed"
		g.AuthorizationDetails[0] = '{'
		g.Resources[0] = "changed"
	}
	change(grant)
	got := mustGetGrant(t, s, code.GrantID)
	assertEqual(t, got, grantOf(t, code), "grant after changing the issued value")
	change(got)
	assertEqual(t, mustGetGrant(t, s, code.GrantID), grantOf(t, code), "grant after changing a returned value")
}

func testGrantTimesAreKeptInUTCToTheMillisecond(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	zone := time.FixedZone("UTC-5", -5*60*60)
	odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, zone)
	r := PushedRequest(t, odd)
	mustCreate(t, s, r)
	code := Code(t, odd)
	grant := grantOf(t, code)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: odd}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	revoked := odd.Add(time.Second + 999_999*time.Nanosecond)
	if err := s.RevokeGrant(t.Context(), grant.ID, revoked); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	want := grantOf(t, code)
	want.AuthTime, want.CreatedAt, want.ExpiresAt = ms(grant.AuthTime), ms(grant.CreatedAt), ms(grant.ExpiresAt)
	wantRevoked := ms(revoked)
	want.RevokedAt = &wantRevoked
	assertEqual(t, mustGetGrant(t, s, grant.ID), want, "grant with sub-millisecond, non-UTC times")
}

// refreshTokenContract holds the promises of oauth.RefreshTokens.
var refreshTokenContract = []contractCase{
	{"RefreshToken/CreateThenGetReturnsEveryField", testRefreshTokenCreateThenGetReturnsEveryField},
	{"RefreshToken/UsedTokenRoundTrips", testRefreshTokenUsedTokenRoundTrips},
	{"RefreshToken/GetUnknownIsNotFound", testRefreshTokenGetUnknownIsNotFound},
	{"RefreshToken/CreateOnTakenKeyIsConflictAndKeepsTheFirst", testRefreshTokenCreateOnTakenKeyIsConflictAndKeepsTheFirst},
	{"RefreshToken/CreateForARevokedGrantIsNotFoundAndWritesNothing", testRefreshTokenCreateForARevokedGrantIsNotFoundAndWritesNothing},
	{"RefreshToken/CreateForAnUnknownGrantIsNotFoundAndWritesNothing", testRefreshTokenCreateForAnUnknownGrantIsNotFoundAndWritesNothing},
	{"RefreshToken/StoreKeepsNoReferenceToCallersValues", testRefreshTokenStoreKeepsNoReferenceToCallersValues},
	{"RefreshToken/TimesAreKeptInUTCToTheMillisecond", testRefreshTokenTimesAreKeptInUTCToTheMillisecond},
	{"RotateRefreshToken/MarksTheOldUsedAndStoresTheNext", testRotateRefreshTokenMarksTheOldUsedAndStoresTheNext},
	{"RotateRefreshToken/ReuseIsErrUsedAndWritesNothing", testRotateRefreshTokenReuseIsErrUsedAndWritesNothing},
	{"RotateRefreshToken/WrongClientIsNotFoundAndWritesNothing", testRotateRefreshTokenWrongClientIsNotFoundAndWritesNothing},
	{"RotateRefreshToken/AtOrPastExpiryIsNotFoundAndWritesNothing", testRotateRefreshTokenAtOrPastExpiryIsNotFoundAndWritesNothing},
	{"RotateRefreshToken/RevokedGrantIsNotFoundAndWritesNothing", testRotateRefreshTokenRevokedGrantIsNotFoundAndWritesNothing},
	{"RotateRefreshToken/AtOrPastTheGrantsExpiryIsNotFoundAndWritesNothing", testRotateRefreshTokenAtOrPastTheGrantsExpiryIsNotFoundAndWritesNothing},
	{"RotateRefreshToken/NextOfAnotherGrantIsNotFoundAndWritesNothing", testRotateRefreshTokenNextOfAnotherGrantIsNotFoundAndWritesNothing},
	{"RotateRefreshToken/TakenNextKeyIsConflictAndWritesNothing", testRotateRefreshTokenTakenNextKeyIsConflictAndWritesNothing},
	{"RotateRefreshToken/UnknownKeyIsNotFound", testRotateRefreshTokenUnknownKeyIsNotFound},
	{"RotateRefreshToken/OfConcurrentRotationsExactlyOneSucceeds", testRotateRefreshTokenOfConcurrentRotationsExactlyOneSucceeds},
}

func testRefreshTokenCreateThenGetReturnsEveryField(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), refreshTokenUnder(t, now, grant.ID, rt.Key), "stored refresh token")
}

func testRefreshTokenUsedTokenRoundTrips(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	used := now.Add(time.Minute)
	rt.UsedAt = &used
	mustCreateRefreshToken(t, s, rt)
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "stored used refresh token")
}

func testRefreshTokenGetUnknownIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	_, err := s.GetRefreshToken(t.Context(), Key(t))
	assertErrorIs(t, err, oauth.ErrNotFound, "GetRefreshToken of an unknown key")
}

func testRefreshTokenCreateOnTakenKeyIsConflictAndKeepsTheFirst(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	other := refreshTokenUnder(t, now.Add(time.Second), grant.ID, rt.Key)
	other.ClientID = "attacker"
	err := s.CreateRefreshToken(t.Context(), other)
	assertErrorIs(t, err, oauth.ErrConflict, "CreateRefreshToken on a taken key")
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after the conflicting create")
}

func testRefreshTokenCreateForARevokedGrantIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	if err := s.RevokeGrant(t.Context(), grant.ID, now); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	rt := RefreshToken(t, now, grant.ID)
	assertErrorIs(t, s.CreateRefreshToken(t.Context(), rt), oauth.ErrNotFound, "CreateRefreshToken for a revoked grant")
	assertRefreshTokenAbsent(t, s, rt.Key)
}

func testRefreshTokenCreateForAnUnknownGrantIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	rt := RefreshToken(t, now, Key(t))
	assertErrorIs(t, s.CreateRefreshToken(t.Context(), rt), oauth.ErrNotFound, "CreateRefreshToken for an unknown grant")
	assertRefreshTokenAbsent(t, s, rt.Key)
	assertGrantAbsent(t, s, rt.GrantID)
}

func testRefreshTokenStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	change := func(rt *oauth.RefreshToken) {
		rt.ClientID = "changed"
		rt.Scopes[0] = "changed"
	}
	change(rt)
	got := mustGetRefreshToken(t, s, rt.Key)
	assertEqual(t, got, refreshTokenUnder(t, now, grant.ID, rt.Key), "refresh token after changing the created value")
	change(got)
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), refreshTokenUnder(t, now, grant.ID, rt.Key), "refresh token after changing a returned value")

	next := RefreshToken(t, now, grant.ID)
	if err := s.RotateRefreshToken(t.Context(), rt.Key, ClientID, now, next); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	change(next)
	assertEqual(t, mustGetRefreshToken(t, s, next.Key), refreshTokenUnder(t, now, grant.ID, next.Key), "next refresh token after changing the rotated value")
	want := refreshTokenUnder(t, now, grant.ID, rt.Key)
	want.UsedAt = &now
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), want, "old refresh token after changing the rotated value")
}

func testRefreshTokenTimesAreKeptInUTCToTheMillisecond(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	zone := time.FixedZone("UTC+5:30", 5*60*60+30*60)
	odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, zone)
	rt := RefreshToken(t, odd, grant.ID)
	used := odd.Add(time.Second)
	rt.UsedAt = &used
	mustCreateRefreshToken(t, s, rt)
	want := *rt
	want.IssuedAt, want.ExpiresAt = ms(rt.IssuedAt), ms(rt.ExpiresAt)
	wantUsed := ms(used)
	want.UsedAt = &wantUsed
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &want, "refresh token with sub-millisecond, non-UTC times")
}

func testRotateRefreshTokenMarksTheOldUsedAndStoresTheNext(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	at := now.Add(time.Hour)
	next := RefreshToken(t, at, grant.ID)
	next.Scopes = []string{"openid"} // RFC 6749 §6: a refresh may narrow the scope
	next.DPoPJKT = ""
	if err := s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, at, next); err != nil {
		t.Fatalf("RotateRefreshToken: %v", err)
	}
	want := *rt
	want.UsedAt = &at
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &want, "old refresh token after RotateRefreshToken")
	assertEqual(t, mustGetRefreshToken(t, s, next.Key), next, "next refresh token")

	// The next token is a refresh token like any other.
	later := at.Add(time.Hour)
	third := RefreshToken(t, later, grant.ID)
	if err := s.RotateRefreshToken(t.Context(), next.Key, next.ClientID, later, third); err != nil {
		t.Fatalf("RotateRefreshToken of the next token: %v", err)
	}
	wantNext := *next
	wantNext.UsedAt = &later
	assertEqual(t, mustGetRefreshToken(t, s, next.Key), &wantNext, "next refresh token after its own rotation")
	assertEqual(t, mustGetRefreshToken(t, s, third.Key), third, "third refresh token")
}

// store.go: a used token presented again is refused with ErrUsed, so the caller
// revokes the grant (RFC 9700 §4.14.2): whenever it is presented, expired or not,
// its grant revoked or not; and nothing is written.
func testRotateRefreshTokenReuseIsErrUsedAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	first := now.Add(time.Minute)
	mustRotate(t, s, rt, first, RefreshToken(t, first, grant.ID))
	want := *rt
	want.UsedAt = &first
	reuse := func(at time.Time, what string) {
		t.Helper()
		next := RefreshToken(t, at, grant.ID)
		err := s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, at, next)
		assertUsed(t, err, what)
		assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &want, "refresh token after "+what)
		assertRefreshTokenAbsent(t, s, next.Key)
	}
	reuse(first, "RotateRefreshToken reused at once")
	reuse(rt.ExpiresAt.Add(time.Hour), "RotateRefreshToken reused after expiry")
	if err := s.RevokeGrant(t.Context(), grant.ID, first.Add(time.Second)); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	reuse(first.Add(2*time.Second), "RotateRefreshToken reused after the grant was revoked")
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &want, "refresh token after its reuse")
}

func testRotateRefreshTokenWrongClientIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	assertRotateRefused(t, s, rt.Key, "other-client", now, RefreshToken(t, now, grant.ID), "RotateRefreshToken by another client")
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after a rotation by another client")

	// Nor does another client learn that a used token was used.
	mustRotate(t, s, rt, now, RefreshToken(t, now, grant.ID))
	assertRotateRefused(t, s, rt.Key, "other-client", now, RefreshToken(t, now, grant.ID), "RotateRefreshToken of a used token by another client")
}

func testRotateRefreshTokenAtOrPastExpiryIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	for _, at := range []time.Time{rt.ExpiresAt, rt.ExpiresAt.Add(time.Millisecond), rt.ExpiresAt.Add(time.Hour)} {
		assertRotateRefused(t, s, rt.Key, rt.ClientID, at, RefreshToken(t, at, grant.ID),
			fmt.Sprintf("RotateRefreshToken %v after expiry", at.Sub(rt.ExpiresAt)))
	}
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after rotations past its expiry")
	mustRotate(t, s, rt, rt.ExpiresAt.Add(-time.Millisecond), RefreshToken(t, now, grant.ID))
}

func testRotateRefreshTokenRevokedGrantIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	if err := s.RevokeGrant(t.Context(), grant.ID, now); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	assertRotateRefused(t, s, rt.Key, rt.ClientID, now, RefreshToken(t, now, grant.ID), "RotateRefreshToken of a revoked grant")
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after a rotation refused for its revoked grant")
}

// Grant.ExpiresAt: "when the grant, and any token of it, ends at the latest".
func testRotateRefreshTokenAtOrPastTheGrantsExpiryIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	grant := grantOf(t, code)
	grant.ExpiresAt = now.Add(time.Hour)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	rt := RefreshToken(t, now, grant.ID) // outlives the grant
	mustCreateRefreshToken(t, s, rt)
	for _, at := range []time.Time{grant.ExpiresAt, grant.ExpiresAt.Add(time.Millisecond)} {
		assertRotateRefused(t, s, rt.Key, rt.ClientID, at, RefreshToken(t, at, grant.ID),
			fmt.Sprintf("RotateRefreshToken %v after the grant's expiry", at.Sub(grant.ExpiresAt)))
	}
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after rotations past its grant's expiry")
	mustRotate(t, s, rt, grant.ExpiresAt.Add(-time.Millisecond), RefreshToken(t, now, grant.ID))
}

// Not in store.go: the next token continues the old one's grant. A next token
// naming another grant would otherwise escape the revocation of the old one's.
func testRotateRefreshTokenNextOfAnotherGrantIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	other := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	assertRotateRefused(t, s, rt.Key, rt.ClientID, now, RefreshToken(t, now, other.ID), "RotateRefreshToken into another grant")
	assertRotateRefused(t, s, rt.Key, rt.ClientID, now, RefreshToken(t, now, Key(t)), "RotateRefreshToken into an unknown grant")
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after rotations into other grants")
}

func testRotateRefreshTokenTakenNextKeyIsConflictAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	taken := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, taken)
	for _, key := range []string{taken.Key, rt.Key} {
		next := refreshTokenUnder(t, now, grant.ID, key)
		next.ClientID = "attacker"
		err := s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, now, next)
		assertErrorIs(t, err, oauth.ErrConflict, "RotateRefreshToken into a taken key")
	}
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), rt, "refresh token after rotations into taken keys")
	assertEqual(t, mustGetRefreshToken(t, s, taken.Key), taken, "refresh token whose key was taken again")
}

func testRotateRefreshTokenUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	assertRotateRefused(t, s, Key(t), ClientID, now, RefreshToken(t, now, grant.ID), "RotateRefreshToken of an unknown key")
}

// store.go: "Of any number of concurrent calls for one token, at most one
// succeeds"; the losers see the token used (ErrUsed) or, if a store cannot tell
// from a losing attempt, ErrNotFound. Only the winner's next token is stored.
func testRotateRefreshTokenOfConcurrentRotationsExactlyOneSucceeds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	rt := RefreshToken(t, now, grant.ID)
	mustCreateRefreshToken(t, s, rt)
	nexts := make([]*oauth.RefreshToken, concurrency)
	for i := range nexts {
		nexts[i] = RefreshToken(t, now, grant.ID)
	}
	errs := race(func(i int) error {
		return s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, now, nexts[i])
	})
	winner := assertOneWinner(t, errs, "RotateRefreshToken", oauth.ErrUsed, oauth.ErrNotFound)
	want := *rt
	want.UsedAt = &now
	for i, next := range nexts {
		switch {
		case i == winner:
			assertEqual(t, mustGetRefreshToken(t, s, next.Key), next, "next refresh token of the winning rotation")
		default:
			assertRefreshTokenAbsent(t, s, next.Key)
		}
	}
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &want, "refresh token after concurrent rotations")
}

// normalisationContract pins down what both stores do to values on the way through,
// across the kinds of records.
var normalisationContract = []contractCase{
	{"CodeAndGrant/ClaimsComeBackAsJSONValues", testCodeAndGrantClaimsComeBackAsJSONValues},
	{"Records/EmptyValuesComeBackNil", testRecordsEmptyValuesComeBackNil},
}

// Claims snapshotted into codes and grants end up in ID tokens and userinfo as
// JSON: both come back as encoding/json would decode them.
func testCodeAndGrantClaimsComeBackAsJSONValues(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	typed := func() map[string]any {
		return map[string]any{
			"int": 42, "strings": []string{"a", "b"}, "object": map[string]string{"k": "v"},
			"time": time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), "null": nil,
		}
	}
	decoded := map[string]any{
		"int": float64(42), "strings": []any{"a", "b"}, "object": map[string]any{"k": "v"},
		"time": "2030-01-02T03:04:05Z", "null": nil,
	}
	code := Code(t, now)
	code.Claims = typed()
	grant := grantOf(t, code)
	grant.Claims = typed()
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	got, err := s.ConsumeCode(t.Context(), code.Key, code.ClientID, now)
	if err != nil {
		t.Fatalf("ConsumeCode: %v", err)
	}
	assertEqual(t, got.Claims, decoded, "claims of a code")
	assertEqual(t, mustGetGrant(t, s, grant.ID).Claims, decoded, "claims of a grant")
}

// Empty slices, maps and JSON come back nil, as DynamoDB stores no empty
// attributes; authorization_details come back byte for byte (the fixtures'
// whitespace included, which the round trips above check).
func testRecordsEmptyValuesComeBackNil(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	r.Request.Scopes = []string{}
	r.Request.AuthorizationDetails = json.RawMessage{}
	r.Request.Resources = []string{}
	mustCreate(t, s, r)
	wantR := *r
	wantR.Request.Scopes, wantR.Request.AuthorizationDetails, wantR.Request.Resources = nil, nil, nil
	assertEqual(t, mustGet(t, s, r.Key), &wantR, "pushed request with empty values")

	code := Code(t, now)
	code.Scopes, code.Claims, code.AuthorizationDetails, code.Resources = []string{}, map[string]any{}, json.RawMessage{}, []string{}
	grant := grantOf(t, code)
	grant.Scopes, grant.Claims, grant.AuthorizationDetails, grant.Resources = []string{}, map[string]any{}, json.RawMessage{}, []string{}
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	wantGrant := *grant
	wantGrant.Scopes, wantGrant.Claims, wantGrant.AuthorizationDetails, wantGrant.Resources = nil, nil, nil, nil
	assertEqual(t, mustGetGrant(t, s, grant.ID), &wantGrant, "grant with empty values")
	wantCode := *code
	wantCode.Scopes, wantCode.Claims, wantCode.AuthorizationDetails, wantCode.Resources = nil, nil, nil, nil
	assertCodeUsable(t, s, &wantCode, now)

	rt := RefreshToken(t, now, grant.ID)
	rt.Scopes = []string{}
	mustCreateRefreshToken(t, s, rt)
	wantRT := *rt
	wantRT.Scopes = nil
	assertEqual(t, mustGetRefreshToken(t, s, rt.Key), &wantRT, "refresh token with empty values")
}

// refreshTokenUnder is RefreshToken's fixture under key.
func refreshTokenUnder(tb testing.TB, now time.Time, grantID, key string) *oauth.RefreshToken {
	tb.Helper()
	rt := RefreshToken(tb, now, grantID)
	rt.Key = key
	return rt
}

// ms is t as the stores keep it: UTC, to the millisecond.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// issuedGrant issues a code for a fresh pushed request and returns a copy of the
// grant created with it.
func issuedGrant(tb testing.TB, s oauth.Store, now time.Time) *oauth.Grant {
	tb.Helper()
	r := PushedRequest(tb, now)
	mustCreate(tb, s, r)
	return mustIssue(tb, s, r, Code(tb, now), now)
}

func mustGetGrant(tb testing.TB, s oauth.Store, id string) *oauth.Grant {
	tb.Helper()
	return mustRead(tb, "GetGrant", s.GetGrant, id)
}

// assertGrantAbsent checks that no grant is stored under id.
func assertGrantAbsent(tb testing.TB, s oauth.Store, id string) {
	tb.Helper()
	assertAbsent(tb, "GetGrant", "a grant", s.GetGrant, id)
}

func mustCreateRefreshToken(tb testing.TB, s oauth.Store, rt *oauth.RefreshToken) {
	tb.Helper()
	mustWrite(tb, "CreateRefreshToken", s.CreateRefreshToken, rt)
}

func mustGetRefreshToken(tb testing.TB, s oauth.Store, key string) *oauth.RefreshToken {
	tb.Helper()
	return mustRead(tb, "GetRefreshToken", s.GetRefreshToken, key)
}

// assertRefreshTokenAbsent checks that no refresh token is stored under key.
func assertRefreshTokenAbsent(tb testing.TB, s oauth.Store, key string) {
	tb.Helper()
	assertAbsent(tb, "GetRefreshToken", "a token", s.GetRefreshToken, key)
}

// mustRotate rotates rt into next at now as rt's client.
func mustRotate(tb testing.TB, s oauth.Store, rt *oauth.RefreshToken, now time.Time, next *oauth.RefreshToken) {
	tb.Helper()
	if err := s.RotateRefreshToken(tb.Context(), rt.Key, rt.ClientID, now, next); err != nil {
		tb.Fatalf("RotateRefreshToken: %v", err)
	}
}

// assertRotateRefused checks that RotateRefreshToken fails with oauth.ErrNotFound,
// not oauth.ErrUsed, and stores no next token.
func assertRotateRefused(tb testing.TB, s oauth.Store, key, clientID string, now time.Time, next *oauth.RefreshToken, what string) {
	tb.Helper()
	err := s.RotateRefreshToken(tb.Context(), key, clientID, now, next)
	if !errors.Is(err, oauth.ErrNotFound) || errors.Is(err, oauth.ErrUsed) {
		tb.Fatalf("%s: got %v, want oauth.ErrNotFound", what, err)
	}
	assertRefreshTokenAbsent(tb, s, next.Key)
}

// store.go: RecordRevocation creates "a revoked grant of clientID that ends at
// expiresAt" where there is none; nothing else of a grant is set (no subject: it is
// no user's, and ListGrantsBySubject never sees it).
func testGrantRecordRevocationOfAnUnknownIDCreatesARevokedGrant(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	id, expires := Key(t), now.Add(5*time.Minute)
	if err := s.RecordRevocation(t.Context(), id, "cc-client", expires, now); err != nil {
		t.Fatalf("RecordRevocation: %v", err)
	}
	want := &oauth.Grant{ID: id, ClientID: "cc-client", CreatedAt: now, ExpiresAt: expires, RevokedAt: &now}
	assertEqual(t, mustGetGrant(t, s, id), want, "recorded revocation")
}

// store.go: on a grant that exists, RecordRevocation is RevokeGrant.
func testGrantRecordRevocationOfAGrantRevokesItAndKeepsItsFields(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	grant := issuedGrant(t, s, now)
	revoked := now.Add(time.Minute)
	if err := s.RecordRevocation(t.Context(), grant.ID, "another-client", now.Add(time.Hour), revoked); err != nil {
		t.Fatalf("RecordRevocation: %v", err)
	}
	want := *grant
	want.RevokedAt = &revoked
	assertEqual(t, mustGetGrant(t, s, grant.ID), &want, "grant revoked by RecordRevocation")
}

// store.go: "Revoking a revoked grant keeps the first time"; the record's client and
// end are the first call's too.
func testGrantRecordRevocationAgainKeepsTheFirstRecord(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	id, expires := Key(t), now.Add(5*time.Minute)
	if err := s.RecordRevocation(t.Context(), id, "cc-client", expires, now); err != nil {
		t.Fatalf("RecordRevocation: %v", err)
	}
	for _, at := range []time.Time{now.Add(time.Second), now.Add(-time.Second)} {
		if err := s.RecordRevocation(t.Context(), id, "other-client", expires.Add(time.Hour), at); err != nil {
			t.Fatalf("RecordRevocation again: %v", err)
		}
	}
	want := &oauth.Grant{ID: id, ClientID: "cc-client", CreatedAt: now, ExpiresAt: expires, RevokedAt: &now}
	assertEqual(t, mustGetGrant(t, s, id), want, "revocation recorded three times")
}
