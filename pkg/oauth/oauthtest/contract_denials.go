package oauthtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// denialContract holds the promises of oauth.Denials: a denial consumes the pushed
// request under IssueCode's condition, so one request has one outcome (RFC 9126 §4).
var denialContract = []contractCase{
	{"DenyPushedRequest/ConsumesTheRequest", testDenyConsumesTheRequest},
	{"DenyPushedRequest/ThenIssueCodeIsNotFoundAndWritesNothing", testDenyThenIssueCodeIsNotFound},
	{"DenyPushedRequest/AfterIssueCodeIsNotFound", testDenyAfterIssueCodeIsNotFound},
	{"DenyPushedRequest/UnknownWrongClientOrPastTheDeadlineIsNotFound", testDenyRefusedIsNotFound},
	{"DenyPushedRequest/OfConcurrentDenialsAndIssuesExactlyOneSucceeds", testDenyRaceAgainstIssueCode},
}

func testDenyConsumesTheRequest(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	at := now.Add(2 * time.Second)
	if err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: at}); err != nil {
		t.Fatalf("DenyPushedRequest: %v", err)
	}
	want := *r
	want.ConsumedAt = &at
	assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after DenyPushedRequest")
	err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: at})
	assertErrorIs(t, err, oauth.ErrNotFound, "second DenyPushedRequest")
}

func testDenyThenIssueCodeIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	if err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}); err != nil {
		t.Fatalf("DenyPushedRequest: %v", err)
	}
	code := Code(t, now)
	err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grantOf(t, code))
	assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode after a denial")
	assertCodeAbsent(t, s, code, now)
	assertGrantAbsent(t, s, code.GrantID)
}

func testDenyAfterIssueCodeIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	mustIssue(t, s, r, code, now)
	err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now.Add(time.Second)})
	assertErrorIs(t, err, oauth.ErrNotFound, "DenyPushedRequest after IssueCode")
	want := *r
	want.ConsumedAt = &now
	assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after a denial of an approved request")
	assertCodeUsable(t, s, code, now)
}

func testDenyRefusedIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: Key(t), ClientID: ClientID, Now: now})
	assertErrorIs(t, err, oauth.ErrNotFound, "DenyPushedRequest of an unknown request")
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	err = s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: "other-client", Now: now})
	assertErrorIs(t, err, oauth.ErrNotFound, "DenyPushedRequest by another client")
	for _, at := range []time.Time{r.Deadline, r.Deadline.Add(time.Hour)} {
		err := s.DenyPushedRequest(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: at})
		assertErrorIs(t, err, oauth.ErrNotFound, fmt.Sprintf("DenyPushedRequest %v after the deadline", at.Sub(r.Deadline)))
	}
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after refused denials")
}

// Half the racers deny, half approve: exactly one of all of them wins.
func testDenyRaceAgainstIssueCode(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	codes := make([]*oauth.AuthorizationCode, concurrency)
	for i := range codes {
		codes[i] = Code(t, now)
	}
	consume := oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}
	errs := race(func(i int) error {
		if i%2 == 0 {
			return s.DenyPushedRequest(t.Context(), consume)
		}
		return s.IssueCode(t.Context(), consume, codes[i], grantOf(t, codes[i]))
	})
	winner := assertOneWinner(t, errs, "DenyPushedRequest/IssueCode", oauth.ErrNotFound)
	for i, code := range codes {
		if i == winner && i%2 == 1 {
			assertCodeUsable(t, s, code, now)
		} else {
			assertCodeAbsent(t, s, code, now)
			assertGrantAbsent(t, s, code.GrantID)
		}
	}
}
