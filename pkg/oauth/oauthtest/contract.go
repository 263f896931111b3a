package oauthtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// concurrency is how many goroutines race for one pushed request, code or refresh
// token.
const concurrency = 50

// RunStoreContract runs every promise of the interfaces in pkg/oauth/store.go against
// the store newStore returns. newStore is called once per subtest, from parallel
// subtests, and must return an empty store; the Store and the Registry are usually the
// same value.
//
// Beyond store.go, the suite pins down what the in-memory store must share with
// DynamoDB so tests on it mean something: times come back in UTC to the millisecond,
// claims come back as encoding/json would decode them, authorization_details come
// back byte for byte, empty slices come back nil, IssueCode with an already used code
// key or grant ID fails with oauth.ErrConflict and with a grant other than the code's
// fails, and RotateRefreshToken refuses (oauth.ErrNotFound) a next token of another
// grant than the old one's and a grant past its ExpiresAt.
func RunStoreContract(t *testing.T, newStore func(t *testing.T) (oauth.Store, oauth.Registry)) {
	t.Helper()
	// Millisecond UTC times make every expected value exact; the one test about
	// normalisation uses others.
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, c := range slices.Concat(storeContract, grantContract, refreshTokenContract, normalisationContract, denialContract, loginContract, rateContract, userCheckContract, sessionContract, consentContract) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, reg := newStore(t)
			c.test(t, s, reg, now)
		})
	}
}

// contractCase is one subtest of the suite: its name, which CONFORMANCE.md and
// go test -run use, and the test.
type contractCase struct {
	name string
	test contractTest
}

// contractTest is one test of the contract suite, on a fresh store; now is the
// suite's millisecond UTC time.
type contractTest func(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time)

// storeContract holds the promises of the pushed requests, codes, clients and
// users; grantContract, refreshTokenContract and normalisationContract
// (contract_grants.go) the rest.
var storeContract = []contractCase{
	{"PushedRequest/CreateThenGetReturnsEveryField", testPushedRequestCreateThenGetReturnsEveryField},
	{"PushedRequest/ConsumedRecordRoundTrips", testPushedRequestConsumedRecordRoundTrips},
	{"PushedRequest/CreateOnTakenKeyIsConflictAndKeepsTheFirst", testPushedRequestCreateOnTakenKeyIsConflictAndKeepsTheFirst},
	{"PushedRequest/GetUnknownKeyIsNotFound", testPushedRequestGetUnknownKeyIsNotFound},
	{"PushedRequest/GetReturnsRecordPastItsDeadline", testPushedRequestGetReturnsRecordPastItsDeadline},
	{"PushedRequest/StoreKeepsNoReferenceToCallersValues", testPushedRequestStoreKeepsNoReferenceToCallersValues},
	{"PushedRequest/TimesAreKeptInUTCToTheMillisecond", testPushedRequestTimesAreKeptInUTCToTheMillisecond},
	{"IssueCode/ConsumesTheRequestAndStoresTheCodeAndTheGrant", testIssueCodeConsumesTheRequestAndStoresTheCodeAndTheGrant},
	{"IssueCode/UnknownRequestIsNotFoundAndStoresNoCodeOrGrant", testIssueCodeUnknownRequestIsNotFoundAndStoresNoCodeOrGrant},
	{"IssueCode/WrongClientIsNotFoundAndWritesNothing", testIssueCodeWrongClientIsNotFoundAndWritesNothing},
	{"IssueCode/SecondIssueIsNotFoundAndStoresNoCodeOrGrant", testIssueCodeSecondIssueIsNotFoundAndStoresNoCodeOrGrant},
	{"IssueCode/RequestStoredAsConsumedIsNotFound", testIssueCodeRequestStoredAsConsumedIsNotFound},
	{"IssueCode/AtOrPastTheDeadlineIsNotFoundAndWritesNothing", testIssueCodeAtOrPastTheDeadlineIsNotFoundAndWritesNothing},
	{"IssueCode/AfterRedeemByButBeforeTheDeadlineSucceeds", testIssueCodeAfterRedeemByButBeforeTheDeadlineSucceeds},
	{"IssueCode/TakenCodeKeyIsConflictAndWritesNothing", testIssueCodeTakenCodeKeyIsConflictAndWritesNothing},
	{"IssueCode/TakenGrantIDIsConflictAndWritesNothing", testIssueCodeTakenGrantIDIsConflictAndWritesNothing},
	{"IssueCode/GrantOtherThanTheCodesFailsAndWritesNothing", testIssueCodeGrantOtherThanTheCodesFailsAndWritesNothing},
	{"IssueCode/StoreKeepsNoReferenceToTheCode", testIssueCodeStoreKeepsNoReferenceToTheCode},
	{"IssueCode/OfConcurrentIssuesExactlyOneSucceeds", testIssueCodeOfConcurrentIssuesExactlyOneSucceeds},
	{"ConsumeCode/ReplayIsErrUsedWithTheStoredCodeAndChangesNothing", testConsumeCodeReplayIsErrUsedWithTheStoredCodeAndChangesNothing},
	{"ConsumeCode/WrongClientIsNotFoundAndChangesNothing", testConsumeCodeWrongClientIsNotFoundAndChangesNothing},
	{"ConsumeCode/ReplayByAnotherClientIsNotFound", testConsumeCodeReplayByAnotherClientIsNotFound},
	{"ConsumeCode/AtOrPastExpiryIsNotFoundAndChangesNothing", testConsumeCodeAtOrPastExpiryIsNotFoundAndChangesNothing},
	{"ConsumeCode/UnknownKeyIsNotFound", testConsumeCodeUnknownKeyIsNotFound},
	{"ConsumeCode/OfConcurrentConsumesExactlyOneSucceeds", testConsumeCodeOfConcurrentConsumesExactlyOneSucceeds},
	{"UseOnce/FirstUseSucceedsThenConflictUntilExpiry", testUseOnceFirstUseSucceedsThenConflictUntilExpiry},
	{"UseOnce/AtOrAfterExpiryTheKeyIsRecordedAgain", testUseOnceAtOrAfterExpiryTheKeyIsRecordedAgain},
	{"UseOnce/OfConcurrentUsesExactlyOneSucceeds", testUseOnceOfConcurrentUsesExactlyOneSucceeds},
	{"KeysOfDifferentKindsDoNotCollide", testKeysOfDifferentKindsDoNotCollide},
	{"Client/PutThenGetReturnsEveryField", testClientPutThenGetReturnsEveryField},
	{"Client/PutReplacesTheWholeRecord", testClientPutReplacesTheWholeRecord},
	{"Client/GetUnknownIsNotFound", testClientGetUnknownIsNotFound},
	{"Client/EmptyIdentityProvidersStaysApartFromAbsent", testClientEmptyIdentityProvidersStaysApartFromAbsent},
	{"Client/StoreKeepsNoReferenceToCallersValues", testClientStoreKeepsNoReferenceToCallersValues},
	{"User/PutThenGetReturnsEveryField", testUserPutThenGetReturnsEveryField},
	{"User/PutReplacesTheWholeRecord", testUserPutReplacesTheWholeRecord},
	{"User/GetUnknownIsNotFound", testUserGetUnknownIsNotFound},
	{"User/ClaimsComeBackAsJSONValues", testUserClaimsComeBackAsJSONValues},
	{"User/StoreKeepsNoReferenceToCallersValues", testUserStoreKeepsNoReferenceToCallersValues},
}

func testPushedRequestCreateThenGetReturnsEveryField(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	assertEqual(t, mustGet(t, s, r.Key), r, "stored pushed request")
}

func testPushedRequestConsumedRecordRoundTrips(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	consumed := now.Add(5 * time.Second)
	r.ConsumedAt = &consumed
	mustCreate(t, s, r)
	assertEqual(t, mustGet(t, s, r.Key), r, "stored consumed pushed request")
}

func testPushedRequestCreateOnTakenKeyIsConflictAndKeepsTheFirst(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	other := PushedRequest(t, now.Add(time.Second))
	other.Key = r.Key
	other.ClientID = "attacker"
	assertErrorIs(t, s.CreatePushedRequest(t.Context(), other), oauth.ErrConflict, "CreatePushedRequest on a taken key")
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after the conflicting create")
}

func testPushedRequestGetUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	_, err := s.GetPushedRequest(t.Context(), Key(t))
	assertErrorIs(t, err, oauth.ErrNotFound, "GetPushedRequest of an unknown key")
}

// store.go: a store may keep and return records past their deadlines; callers
// check expiry. A store must not pretend such a record is gone on reads, or callers
// could not tell "expired" from "unknown".
func testPushedRequestGetReturnsRecordPastItsDeadline(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now.Add(-11*time.Minute))
	r.Deadline = now.Add(-time.Minute)
	mustCreate(t, s, r)
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request past its deadline")
}

func testPushedRequestStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	want := PushedRequest(t, now)
	want.Key = r.Key
	mustCreate(t, s, r)
	r.ClientID = "changed"
	r.Request.Scopes[0] = "changed"
	*r.Request.MaxAge = 1
	r.Request.AuthorizationDetails[0] = '{'
	r.Request.Resources[0] = "changed"
	got := mustGet(t, s, r.Key)
	assertEqual(t, got, want, "pushed request after changing the created value")
	got.Request.Scopes[0] = "changed"
	*got.Request.MaxAge = 1
	got.Request.AuthorizationDetails[0] = '{'
	got.Request.Resources[0] = "changed"
	assertEqual(t, mustGet(t, s, r.Key), want, "pushed request after changing a returned value")
}

func testPushedRequestTimesAreKeptInUTCToTheMillisecond(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	zone := time.FixedZone("UTC+2", 2*60*60)
	odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, zone)
	r := PushedRequest(t, odd)
	consumed := odd.Add(time.Second)
	r.ConsumedAt = &consumed
	mustCreate(t, s, r)
	want := *r
	want.CreatedAt, want.RedeemBy, want.Deadline = ms(r.CreatedAt), ms(r.RedeemBy), ms(r.Deadline)
	wantConsumed := ms(consumed)
	want.ConsumedAt = &wantConsumed
	assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request with sub-millisecond, non-UTC times")
}

func testIssueCodeConsumesTheRequestAndStoresTheCodeAndTheGrant(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	grant := grantOf(t, code)
	issuedAt := now.Add(3 * time.Second)
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: issuedAt}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	want := *r
	want.ConsumedAt = &issuedAt
	assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after IssueCode")
	assertEqual(t, mustGetGrant(t, s, code.GrantID), grantOf(t, code), "grant created by IssueCode")
	assertCodeUsable(t, s, code, now.Add(4*time.Second))
}

func testIssueCodeUnknownRequestIsNotFoundAndStoresNoCodeOrGrant(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	code := Code(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: Key(t), ClientID: ClientID, Now: now}, code, grantOf(t, code))
	assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode for an unknown request")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
}

func testIssueCodeWrongClientIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	code.ClientID = "other-client"
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: "other-client", Now: now}, code, grantOf(t, code))
	assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode by another client")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode by another client")
	mustIssue(t, s, r, Code(t, now), now)
}

func testIssueCodeSecondIssueIsNotFoundAndStoresNoCodeOrGrant(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	first := Code(t, now)
	mustIssue(t, s, r, first, now)
	second := Code(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now.Add(time.Second)}, second, grantOf(t, second))
	assertErrorIs(t, err, oauth.ErrNotFound, "second IssueCode for one request")
	assertCodeAbsent(t, s, second, now)
	assertGrantAbsent(t, s, second.GrantID)
	assertEqual(t, mustGetGrant(t, s, first.GrantID), grantOf(t, first), "first grant after a second IssueCode")
	want := *r
	want.ConsumedAt = &now
	assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after a second IssueCode")
	assertCodeUsable(t, s, first, now)
}

func testIssueCodeRequestStoredAsConsumedIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	consumed := now
	r.ConsumedAt = &consumed
	mustCreate(t, s, r)
	code := Code(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grantOf(t, code))
	assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode for a request stored as consumed")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
}

func testIssueCodeAtOrPastTheDeadlineIsNotFoundAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	for _, at := range []time.Time{r.Deadline, r.Deadline.Add(time.Millisecond), r.Deadline.Add(time.Hour)} {
		code := Code(t, now)
		err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: at}, code, grantOf(t, code))
		assertErrorIs(t, err, oauth.ErrNotFound, fmt.Sprintf("IssueCode %v after the deadline", at.Sub(r.Deadline)))
		assertCodeAbsent(t, s, code, now)
		assertGrantAbsent(t, s, code.GrantID)
	}
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode past its deadline")
	mustIssue(t, s, r, Code(t, now), r.Deadline.Add(-time.Millisecond))
}

// RedeemBy (expires_in) bounds the first use of the request_uri at /authorize and
// is checked there; login and consent may take until the Deadline (docs/design.md decision 2).
func testIssueCodeAfterRedeemByButBeforeTheDeadlineSucceeds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	mustIssue(t, s, r, Code(t, now), r.RedeemBy.Add(time.Minute))
}

func testIssueCodeTakenCodeKeyIsConflictAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	first := PushedRequest(t, now)
	mustCreate(t, s, first)
	code := Code(t, now)
	mustIssue(t, s, first, code, now)
	second := PushedRequest(t, now)
	mustCreate(t, s, second)
	again := Code(t, now)
	again.Key = code.Key
	again.Subject = "someone-else"
	err := s.IssueCode(t.Context(), oauth.Consume{Key: second.Key, ClientID: second.ClientID, Now: now}, again, grantOf(t, again))
	assertErrorIs(t, err, oauth.ErrConflict, "IssueCode with a taken code key")
	assertEqual(t, mustGet(t, s, second.Key), second, "pushed request after IssueCode with a taken code key")
	assertGrantAbsent(t, s, again.GrantID)
	assertCodeUsable(t, s, code, now)
}

func testIssueCodeTakenGrantIDIsConflictAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	first := PushedRequest(t, now)
	mustCreate(t, s, first)
	code := Code(t, now)
	grant := mustIssue(t, s, first, code, now)
	second := PushedRequest(t, now)
	mustCreate(t, s, second)
	again := Code(t, now)
	again.GrantID = code.GrantID
	other := grantOf(t, again)
	other.Subject = "someone-else"
	err := s.IssueCode(t.Context(), oauth.Consume{Key: second.Key, ClientID: second.ClientID, Now: now}, again, other)
	assertErrorIs(t, err, oauth.ErrConflict, "IssueCode with a taken grant ID")
	assertEqual(t, mustGet(t, s, second.Key), second, "pushed request after IssueCode with a taken grant ID")
	assertCodeAbsent(t, s, again, now)
	assertEqual(t, mustGetGrant(t, s, grant.ID), grant, "grant after IssueCode with its ID taken again")
}

// Not in store.go: a grant that is not the code's would leave the code naming a
// grant that does not exist. Both stores refuse it before writing anything.
func testIssueCodeGrantOtherThanTheCodesFailsAndWritesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	for _, grant := range []*oauth.Grant{Grant(t, now), nil} {
		if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err == nil {
			t.Fatalf("IssueCode with grant %s for a code of grant %s succeeded", show(grant), code.GrantID)
		}
		if grant != nil {
			assertGrantAbsent(t, s, grant.ID)
		}
	}
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode with another grant")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
}

func testIssueCodeStoreKeepsNoReferenceToTheCode(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	want := Code(t, now)
	want.Key, want.GrantID = code.Key, code.GrantID
	mustIssue(t, s, r, code, now)
	code.Scopes[0] = "changed"
	code.Claims["address"].(map[string]any)["country"] = "changed"
	code.AuthorizationDetails[0] = '{'
	code.Resources[0] = "changed"
	code.Subject = "changed"
	assertCodeUsable(t, s, want, now)
}

// store.go: "Of any number of concurrent calls for one request, at most one
// succeeds"; docs/design.md decision 4 asks for exactly one of fifty.
func testIssueCodeOfConcurrentIssuesExactlyOneSucceeds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	codes := make([]*oauth.AuthorizationCode, concurrency)
	for i := range codes {
		codes[i] = Code(t, now)
	}
	errs := race(func(i int) error {
		return s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, codes[i], grantOf(t, codes[i]))
	})
	winner := assertOneWinner(t, errs, "IssueCode", oauth.ErrNotFound)
	for i, code := range codes {
		if i == winner {
			assertEqual(t, mustGetGrant(t, s, code.GrantID), grantOf(t, code), "grant of the winning IssueCode")
			assertCodeUsable(t, s, code, now)
		} else {
			assertGrantAbsent(t, s, code.GrantID)
			assertCodeAbsent(t, s, code, now)
		}
	}
}

// store.go: a used code presented again by its client comes back with ErrUsed, so
// the caller can revoke what was issued from it (RFC 6749 §4.1.2), whenever it is
// presented, expired or not; and the replay changes nothing.
func testConsumeCodeReplayIsErrUsedWithTheStoredCodeAndChangesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	first := now.Add(time.Second)
	assertCodeUsable(t, s, code, first)
	want := *code
	want.ConsumedAt = &first
	for _, at := range []time.Time{first, first.Add(time.Second), code.ExpiresAt, code.ExpiresAt.Add(time.Hour)} {
		got, err := s.ConsumeCode(t.Context(), code.Key, code.ClientID, at)
		what := fmt.Sprintf("ConsumeCode replayed %v after the first use", at.Sub(first))
		assertUsed(t, err, what)
		assertEqual(t, got, &want, "code returned to "+what)
	}
}

func testConsumeCodeWrongClientIsNotFoundAndChangesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	assertConsumeNotFound(t, s, code.Key, "other-client", now, "ConsumeCode by another client")
	assertCodeUsable(t, s, code, now)
}

// The code is bound to its client: another client presenting a used code learns
// nothing, and gets no code to revoke from.
func testConsumeCodeReplayByAnotherClientIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	assertCodeUsable(t, s, code, now)
	assertConsumeNotFound(t, s, code.Key, "other-client", now.Add(time.Second), "ConsumeCode of a used code by another client")
	got, err := s.ConsumeCode(t.Context(), code.Key, code.ClientID, now.Add(2*time.Second))
	assertUsed(t, err, "ConsumeCode replayed by its client")
	want := *code
	want.ConsumedAt = &now
	assertEqual(t, got, &want, "code returned to the replay by its client")
}

func testConsumeCodeAtOrPastExpiryIsNotFoundAndChangesNothing(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	for _, at := range []time.Time{code.ExpiresAt, code.ExpiresAt.Add(time.Millisecond), code.ExpiresAt.Add(time.Hour)} {
		assertConsumeNotFound(t, s, code.Key, code.ClientID, at, fmt.Sprintf("ConsumeCode %v after expiry", at.Sub(code.ExpiresAt)))
	}
	assertCodeUsable(t, s, code, code.ExpiresAt.Add(-time.Millisecond))
}

func testConsumeCodeUnknownKeyIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	assertConsumeNotFound(t, s, Key(t), ClientID, now, "ConsumeCode of an unknown key")
}

// The losers of the race see the winner's use: ErrUsed and the code as the winner
// left it.
func testConsumeCodeOfConcurrentConsumesExactlyOneSucceeds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	got := make([]*oauth.AuthorizationCode, concurrency)
	errs := race(func(i int) error {
		var err error
		got[i], err = s.ConsumeCode(t.Context(), code.Key, code.ClientID, now)
		return err
	})
	winner := assertOneWinner(t, errs, "ConsumeCode", oauth.ErrUsed)
	want := *code
	want.ConsumedAt = &now
	for i := range got {
		assertEqual(t, got[i], &want, fmt.Sprintf("code returned to concurrent ConsumeCode %d (the winner is %d)", i, winner))
	}
}

func testUseOnceFirstUseSucceedsThenConflictUntilExpiry(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	expires := now.Add(time.Minute)
	if err := s.UseOnce(t.Context(), key, expires, now); err != nil {
		t.Fatalf("first UseOnce: %v", err)
	}
	for _, at := range []time.Time{now, expires.Add(-time.Millisecond)} {
		err := s.UseOnce(t.Context(), key, at.Add(time.Minute), at)
		assertErrorIs(t, err, oauth.ErrConflict, fmt.Sprintf("UseOnce again %v before expiry", expires.Sub(at)))
	}
	if err := s.UseOnce(t.Context(), Key(t), expires, now); err != nil {
		t.Errorf("UseOnce of another key: %v", err)
	}
}

// store.go: an expired record is replaced, and the replacement counts.
func testUseOnceAtOrAfterExpiryTheKeyIsRecordedAgain(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	expires := now.Add(time.Minute)
	if err := s.UseOnce(t.Context(), key, expires, now); err != nil {
		t.Fatalf("first UseOnce: %v", err)
	}
	again := expires.Add(time.Minute)
	if err := s.UseOnce(t.Context(), key, again, expires); err != nil {
		t.Fatalf("UseOnce at the first record's expiry: %v", err)
	}
	err := s.UseOnce(t.Context(), key, again.Add(time.Minute), again.Add(-time.Millisecond))
	assertErrorIs(t, err, oauth.ErrConflict, "UseOnce before the replacement's expiry")
}

func testUseOnceOfConcurrentUsesExactlyOneSucceeds(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	key := Key(t)
	errs := race(func(int) error { return s.UseOnce(t.Context(), key, now.Add(time.Minute), now) })
	assertOneWinner(t, errs, "UseOnce", oauth.ErrConflict)
}

// Each kind of record has its own key space: a client ID, a username, the hash
// keys of a pushed request, a code and a refresh token, a grant ID and a one-time
// identifier may be the same string.
func testKeysOfDifferentKindsDoNotCollide(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	key := Key(t)
	r := PushedRequest(t, now)
	r.Key = key
	mustCreate(t, s, r)
	client := Client(t)
	client.ID = key
	mustPutClient(t, reg, client)
	user := User(t)
	user.Username = key
	mustPutUser(t, reg, user)
	code := Code(t, now)
	code.Key = key
	code.GrantID = key
	grant := mustIssue(t, s, r, code, now)
	rt := RefreshToken(t, now, key)
	rt.Key = key
	mustCreateRefreshToken(t, s, rt)
	if err := s.UseOnce(t.Context(), key, now.Add(time.Minute), now); err != nil {
		t.Fatalf("UseOnce of a key shared with other records: %v", err)
	}

	want := *r
	want.ConsumedAt = &now
	assertEqual(t, mustGet(t, s, key), &want, "pushed request sharing its key")
	assertEqual(t, mustGetClient(t, s, key), client, "client sharing its key")
	assertEqual(t, mustGetUser(t, s, key), user, "user sharing its key")
	assertEqual(t, mustGetGrant(t, s, key), grant, "grant sharing its key")
	assertEqual(t, mustGetRefreshToken(t, s, key), rt, "refresh token sharing its key")
	assertCodeUsable(t, s, code, now)
}

func testClientPutThenGetReturnsEveryField(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	c := fullClient(t)
	mustPutClient(t, reg, c)
	assertEqual(t, mustGetClient(t, s, c.ID), c, "stored client")
}

func testClientPutReplacesTheWholeRecord(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	mustPutClient(t, reg, fullClient(t))
	replacement := &oauth.Client{
		ID:                      ClientID,
		RedirectURIs:            []string{"https://other.example.org/cb"},
		TokenEndpointAuthMethod: oauth.AuthNone,
	}
	mustPutClient(t, reg, replacement)
	assertEqual(t, mustGetClient(t, s, ClientID), replacement, "client after replacement")
}

func testClientGetUnknownIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	_, err := s.GetClient(t.Context(), "no-such-client")
	assertErrorIs(t, err, oauth.ErrNotFound, "GetClient of an unknown client")
}

func testClientStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	c := fullClient(t)
	mustPutClient(t, reg, c)
	change := func(c *oauth.Client) {
		c.RedirectURIs[0] = "https://attacker.example/cb"
		c.PushedRedirectURIPrefixes[0] = "https://attacker.example/"
		c.GrantTypes[0] = "implicit"
		c.ResponseTypes[0] = "token"
		c.SecretHash[0] ^= 0xff
		c.JWKS[0] = '['
		c.AuthorizationDetailsTypes[0] = "everything"
		c.Resources[0] = "https://attacker.example/"
		c.AllowedOrigins[0] = "https://attacker.example"
		c.PostLogoutRedirectURIs[0] = "https://attacker.example/"
		c.IdentityProviders[0] = "attacker"
	}
	change(c)
	got := mustGetClient(t, s, ClientID)
	assertEqual(t, got, fullClient(t), "client after changing the stored value")
	change(got)
	assertEqual(t, mustGetClient(t, s, ClientID), fullClient(t), "client after changing a returned value")
}

func testUserPutThenGetReturnsEveryField(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	u := fullUser(t)
	mustPutUser(t, reg, u)
	assertEqual(t, mustGetUser(t, s, u.Username), u, "stored user")
}

func testUserPutReplacesTheWholeRecord(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	u := fullUser(t)
	mustPutUser(t, reg, u)
	replacement := &oauth.User{Username: u.Username, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$b3RoZXI$b3RoZXI"}
	mustPutUser(t, reg, replacement)
	assertEqual(t, mustGetUser(t, s, u.Username), replacement, "user after replacement")
}

func testUserGetUnknownIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	_, err := s.GetUser(t.Context(), "no-such-user")
	assertErrorIs(t, err, oauth.ErrNotFound, "GetUser of an unknown user")
}

// Claims end up in ID tokens as JSON, and DynamoDB keeps numbers, lists and maps
// without their Go types: every store returns what encoding/json would decode.
func testUserClaimsComeBackAsJSONValues(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	u := &oauth.User{Username: "typed", PasswordHash: "x", Claims: map[string]any{
		"int":        42,
		"strings":    []string{"a", "b"},
		"object":     map[string]string{"k": "v"},
		"empty":      "",
		"null":       nil,
		"empty_list": []any{},
		"empty_obj":  map[string]any{},
	}}
	mustPutUser(t, reg, u)
	want := &oauth.User{Username: "typed", PasswordHash: "x", Claims: map[string]any{
		"int":        float64(42),
		"strings":    []any{"a", "b"},
		"object":     map[string]any{"k": "v"},
		"empty":      "",
		"null":       nil,
		"empty_list": []any{},
		"empty_obj":  map[string]any{},
	}}
	assertEqual(t, mustGetUser(t, s, u.Username), want, "user with Go-typed claims")
}

func testUserStoreKeepsNoReferenceToCallersValues(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	u := User(t)
	mustPutUser(t, reg, u)
	u.Claims["address"].(map[string]any)["country"] = "changed"
	u.Claims["groups"].([]any)[0] = "changed"
	got := mustGetUser(t, s, u.Username)
	assertEqual(t, got, User(t), "user after changing the stored value")
	got.Claims["address"].(map[string]any)["country"] = "changed"
	got.Claims["email"] = "changed"
	assertEqual(t, mustGetUser(t, s, u.Username), User(t), "user after changing a returned value")
}

// race runs f(0) … f(concurrency-1) in goroutines released at the same instant and
// returns their errors.
func race(f func(i int) error) []error {
	errs := make([]error, concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// assertOneWinner checks that exactly one call succeeded and that every other one
// failed with one of loserErrs, and returns the winner's index.
func assertOneWinner(tb testing.TB, errs []error, what string, loserErrs ...error) int {
	tb.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			tb.Fatalf("%d concurrent %s calls: calls %d and %d both succeeded", len(errs), what, winner, i)
		case err == nil:
			winner = i
		case !slices.ContainsFunc(loserErrs, func(target error) bool { return errors.Is(err, target) }):
			tb.Errorf("concurrent %s call %d: got %v, want one of %v", what, i, err, loserErrs)
		}
	}
	if winner < 0 {
		tb.Fatalf("%d concurrent %s calls: none succeeded", len(errs), what)
	}
	return winner
}

func mustCreate(tb testing.TB, s oauth.Store, r *oauth.PushedRequest) {
	tb.Helper()
	mustWrite(tb, "CreatePushedRequest", s.CreatePushedRequest, r)
}

func mustGet(tb testing.TB, s oauth.Store, key string) *oauth.PushedRequest {
	tb.Helper()
	return mustRead(tb, "GetPushedRequest", s.GetPushedRequest, key)
}

// mustIssue issues code for r with the grant grantOf(code), and returns a fresh copy
// of that grant.
func mustIssue(tb testing.TB, s oauth.Store, r *oauth.PushedRequest, code *oauth.AuthorizationCode, now time.Time) *oauth.Grant {
	tb.Helper()
	if err := s.IssueCode(tb.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grantOf(tb, code)); err != nil {
		tb.Fatalf("IssueCode: %v", err)
	}
	return grantOf(tb, code)
}

// grantOf returns the grant for code: Grant's fixture at code.IssuedAt, under
// code.GrantID, with the code's client, subject, scopes, auth time, claims and
// authorization details. Each call returns a fresh copy.
func grantOf(tb testing.TB, code *oauth.AuthorizationCode) *oauth.Grant {
	tb.Helper()
	g := Grant(tb, code.IssuedAt)
	g.ID = code.GrantID
	g.ClientID = code.ClientID
	g.Subject = code.Subject
	g.Scopes = slices.Clone(code.Scopes)
	g.AuthTime = code.AuthTime
	b, err := json.Marshal(code.Claims)
	if err != nil {
		tb.Fatal(err)
	}
	g.Claims = nil
	if err := json.Unmarshal(b, &g.Claims); err != nil {
		tb.Fatal(err)
	}
	g.AuthorizationDetails = slices.Clone(code.AuthorizationDetails)
	g.Resources = slices.Clone(code.Resources)
	return g
}

// testClientEmptyIdentityProvidersStaysApartFromAbsent: identity_providers absent
// (nil) offers every enabled provider and [] none (issue 13), so, unlike the other
// lists, an empty one comes back empty, not nil.
func testClientEmptyIdentityProvidersStaysApartFromAbsent(t *testing.T, s oauth.Store, reg oauth.Registry, now time.Time) {
	c := Client(t)
	c.IdentityProviders = []string{}
	mustPutClient(t, reg, c)
	if got := mustGetClient(t, s, c.ID).IdentityProviders; got == nil || len(got) != 0 {
		t.Errorf("identity_providers [] came back as %#v", got)
	}
	c.IdentityProviders = nil
	mustPutClient(t, reg, c)
	if got := mustGetClient(t, s, c.ID).IdentityProviders; got != nil {
		t.Errorf("identity_providers absent came back as %#v", got)
	}
}

func mustPutClient(tb testing.TB, reg oauth.Registry, c *oauth.Client) {
	tb.Helper()
	mustWrite(tb, "PutClient", reg.PutClient, c)
}

func mustGetClient(tb testing.TB, s oauth.Store, id string) *oauth.Client {
	tb.Helper()
	return mustRead(tb, "GetClient", s.GetClient, id)
}

func mustPutUser(tb testing.TB, reg oauth.Registry, u *oauth.User) {
	tb.Helper()
	mustWrite(tb, "PutUser", reg.PutUser, u)
}

func mustGetUser(tb testing.TB, s oauth.Store, username string) *oauth.User {
	tb.Helper()
	return mustRead(tb, "GetUser", s.GetUser, username)
}

// mustWrite stores v with write, named op in the failure.
func mustWrite[T any](tb testing.TB, op string, write func(context.Context, T) error, v T) {
	tb.Helper()
	if err := write(tb.Context(), v); err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
}

// mustRead reads the record under key with read, named op in the failure.
func mustRead[T any](tb testing.TB, op string, read func(context.Context, string) (T, error), key string) T {
	tb.Helper()
	v, err := read(tb.Context(), key)
	if err != nil {
		tb.Fatalf("%s: %v", op, err)
	}
	return v
}

// assertAbsent checks that read finds no record under key (oauth.ErrNotFound); what
// names the record in the failure.
func assertAbsent[T any](tb testing.TB, op, what string, read func(context.Context, string) (T, error), key string) {
	tb.Helper()
	if v, err := read(tb.Context(), key); !errors.Is(err, oauth.ErrNotFound) {
		tb.Fatalf("%s of %s that must not have been stored: got (%s, %v), want oauth.ErrNotFound", op, what, show(v), err)
	}
}

// assertCodeUsable consumes the code as its client at now and checks that the store
// returns it intact, marked as consumed at now.
func assertCodeUsable(tb testing.TB, s oauth.Store, code *oauth.AuthorizationCode, now time.Time) {
	tb.Helper()
	got, err := s.ConsumeCode(tb.Context(), code.Key, code.ClientID, now)
	if err != nil {
		tb.Fatalf("ConsumeCode of a code that should be usable: %v", err)
	}
	want := *code
	want.ConsumedAt = &now
	assertEqual(tb, got, &want, "consumed code")
}

// assertCodeAbsent checks that no code is stored under code's key.
func assertCodeAbsent(tb testing.TB, s oauth.Store, code *oauth.AuthorizationCode, now time.Time) {
	tb.Helper()
	assertConsumeNotFound(tb, s, code.Key, code.ClientID, now, "ConsumeCode of a code that must not have been stored")
}

// assertConsumeNotFound checks that ConsumeCode fails with oauth.ErrNotFound, not
// oauth.ErrUsed, and returns no code.
func assertConsumeNotFound(tb testing.TB, s oauth.Store, key, clientID string, now time.Time, what string) {
	tb.Helper()
	got, err := s.ConsumeCode(tb.Context(), key, clientID, now)
	if !errors.Is(err, oauth.ErrNotFound) || errors.Is(err, oauth.ErrUsed) || got != nil {
		tb.Fatalf("%s: got (%s, %v), want (nil, oauth.ErrNotFound)", what, show(got), err)
	}
}

// assertUsed checks that err wraps oauth.ErrUsed and not oauth.ErrNotFound.
func assertUsed(tb testing.TB, err error, what string) {
	tb.Helper()
	if !errors.Is(err, oauth.ErrUsed) || errors.Is(err, oauth.ErrNotFound) {
		tb.Fatalf("%s: got error %v, want oauth.ErrUsed", what, err)
	}
}

func assertErrorIs(tb testing.TB, err, target error, what string) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// assertEqual compares with reflect.DeepEqual, which also tells nil from empty and
// float64 from int, and shows both values as JSON when they differ.
func assertEqual(tb testing.TB, got, want any, what string) {
	tb.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	tb.Fatalf("%s differs\n got: %s\nwant: %s\n(as Go values: got %#v, want %#v)", what, g, w, got, want)
}

// show is v as JSON, for failure messages: raw JSON fields read as JSON, not bytes.
func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}
