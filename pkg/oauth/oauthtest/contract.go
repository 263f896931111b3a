package oauthtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// concurrency is how many goroutines race for one pushed request or one code.
const concurrency = 50

// RunStoreContract runs every promise of the interfaces in pkg/oauth/store.go against
// the store newStore returns. newStore is called once per subtest, from parallel
// subtests, and must return an empty store; the Store and the Registry are usually the
// same value.
//
// Beyond store.go, the suite pins down what the in-memory store must share with
// DynamoDB so tests on it mean something: times come back in UTC to the millisecond,
// claims come back as encoding/json would decode them, empty slices come back nil,
// and IssueCode with an already used code key fails with oauth.ErrConflict.
func RunStoreContract(t *testing.T, newStore func(t *testing.T) (oauth.Store, oauth.Registry)) {
	t.Helper()
	// Millisecond UTC times make every expected value exact; the one test about
	// normalisation uses others.
	now := time.Now().UTC().Truncate(time.Millisecond)
	run := func(name string, test func(t *testing.T, s oauth.Store, reg oauth.Registry)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, reg := newStore(t)
			test(t, s, reg)
		})
	}

	run("PushedRequest/CreateThenGetReturnsEveryField", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		assertEqual(t, mustGet(t, s, r.Key), r, "stored pushed request")
	})

	run("PushedRequest/ConsumedRecordRoundTrips", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		consumed := now.Add(5 * time.Second)
		r.ConsumedAt = &consumed
		mustCreate(t, s, r)
		assertEqual(t, mustGet(t, s, r.Key), r, "stored consumed pushed request")
	})

	run("PushedRequest/CreateOnTakenKeyIsConflictAndKeepsTheFirst", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		other := PushedRequest(t, now.Add(time.Second))
		other.Key = r.Key
		other.ClientID = "attacker"
		assertErrorIs(t, s.CreatePushedRequest(t.Context(), other), oauth.ErrConflict, "CreatePushedRequest on a taken key")
		assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after the conflicting create")
	})

	run("PushedRequest/GetUnknownKeyIsNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		_, err := s.GetPushedRequest(t.Context(), Key(t))
		assertErrorIs(t, err, oauth.ErrNotFound, "GetPushedRequest of an unknown key")
	})

	// store.go: a store may keep and return records past their deadlines; callers
	// check expiry. A store must not pretend such a record is gone on reads, or callers
	// could not tell "expired" from "unknown".
	run("PushedRequest/GetReturnsRecordPastItsDeadline", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now.Add(-11*time.Minute))
		r.Deadline = now.Add(-time.Minute)
		mustCreate(t, s, r)
		assertEqual(t, mustGet(t, s, r.Key), r, "pushed request past its deadline")
	})

	run("PushedRequest/StoreKeepsNoReferenceToCallersValues", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		want := PushedRequest(t, now)
		want.Key = r.Key
		mustCreate(t, s, r)
		r.ClientID = "changed"
		r.Request.Scopes[0] = "changed"
		*r.Request.MaxAge = 1
		got := mustGet(t, s, r.Key)
		assertEqual(t, got, want, "pushed request after changing the created value")
		got.Request.Scopes[0] = "changed"
		*got.Request.MaxAge = 1
		assertEqual(t, mustGet(t, s, r.Key), want, "pushed request after changing a returned value")
	})

	run("PushedRequest/TimesAreKeptInUTCToTheMillisecond", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		zone := time.FixedZone("UTC+2", 2*60*60)
		odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, zone)
		r := PushedRequest(t, odd)
		consumed := odd.Add(time.Second)
		r.ConsumedAt = &consumed
		mustCreate(t, s, r)
		want := *r
		ms := func(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
		want.CreatedAt, want.RedeemBy, want.Deadline = ms(r.CreatedAt), ms(r.RedeemBy), ms(r.Deadline)
		wantConsumed := ms(consumed)
		want.ConsumedAt = &wantConsumed
		assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request with sub-millisecond, non-UTC times")
	})

	run("IssueCode/ConsumesTheRequestAndStoresTheCode", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		issuedAt := now.Add(3 * time.Second)
		if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: issuedAt}, code); err != nil {
			t.Fatalf("IssueCode: %v", err)
		}
		want := *r
		want.ConsumedAt = &issuedAt
		assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after IssueCode")
		assertCodeUsable(t, s, code, now.Add(4*time.Second))
	})

	run("IssueCode/UnknownRequestIsNotFoundAndStoresNoCode", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		code := Code(t, now)
		err := s.IssueCode(t.Context(), oauth.Consume{Key: Key(t), ClientID: ClientID, Now: now}, code)
		assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode for an unknown request")
		assertCodeAbsent(t, s, code, now)
	})

	run("IssueCode/WrongClientIsNotFoundAndWritesNothing", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		code.ClientID = "other-client"
		err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: "other-client", Now: now}, code)
		assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode by another client")
		assertCodeAbsent(t, s, code, now)
		assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode by another client")
		mustIssue(t, s, r, Code(t, now), now)
	})

	run("IssueCode/SecondIssueIsNotFoundAndStoresNoCode", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		first := Code(t, now)
		mustIssue(t, s, r, first, now)
		second := Code(t, now)
		err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now.Add(time.Second)}, second)
		assertErrorIs(t, err, oauth.ErrNotFound, "second IssueCode for one request")
		assertCodeAbsent(t, s, second, now)
		want := *r
		want.ConsumedAt = &now
		assertEqual(t, mustGet(t, s, r.Key), &want, "pushed request after a second IssueCode")
		assertCodeUsable(t, s, first, now)
	})

	run("IssueCode/RequestStoredAsConsumedIsNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		consumed := now
		r.ConsumedAt = &consumed
		mustCreate(t, s, r)
		code := Code(t, now)
		err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code)
		assertErrorIs(t, err, oauth.ErrNotFound, "IssueCode for a request stored as consumed")
		assertCodeAbsent(t, s, code, now)
	})

	run("IssueCode/AtOrPastTheDeadlineIsNotFoundAndWritesNothing", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		for _, at := range []time.Time{r.Deadline, r.Deadline.Add(time.Millisecond), r.Deadline.Add(time.Hour)} {
			code := Code(t, now)
			err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: at}, code)
			assertErrorIs(t, err, oauth.ErrNotFound, fmt.Sprintf("IssueCode %v after the deadline", at.Sub(r.Deadline)))
			assertCodeAbsent(t, s, code, now)
		}
		assertEqual(t, mustGet(t, s, r.Key), r, "pushed request after IssueCode past its deadline")
		mustIssue(t, s, r, Code(t, now), r.Deadline.Add(-time.Millisecond))
	})

	// RedeemBy (expires_in) bounds the first use of the request_uri at /authorize and
	// is checked there; login and consent may take until the Deadline (DESIGN.md 2).
	run("IssueCode/AfterRedeemByButBeforeTheDeadlineSucceeds", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		mustIssue(t, s, r, Code(t, now), r.RedeemBy.Add(time.Minute))
	})

	run("IssueCode/TakenCodeKeyIsConflictAndWritesNothing", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		first := PushedRequest(t, now)
		mustCreate(t, s, first)
		code := Code(t, now)
		mustIssue(t, s, first, code, now)
		second := PushedRequest(t, now)
		mustCreate(t, s, second)
		again := Code(t, now)
		again.Key = code.Key
		again.Subject = "someone-else"
		err := s.IssueCode(t.Context(), oauth.Consume{Key: second.Key, ClientID: second.ClientID, Now: now}, again)
		assertErrorIs(t, err, oauth.ErrConflict, "IssueCode with a taken code key")
		assertEqual(t, mustGet(t, s, second.Key), second, "pushed request after IssueCode with a taken code key")
		assertCodeUsable(t, s, code, now)
	})

	run("IssueCode/StoreKeepsNoReferenceToTheCode", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		want := Code(t, now)
		want.Key = code.Key
		mustIssue(t, s, r, code, now)
		code.Scopes[0] = "changed"
		code.Claims["address"].(map[string]any)["country"] = "changed"
		code.Subject = "changed"
		assertCodeUsable(t, s, want, now)
	})

	// store.go: "Of any number of concurrent calls for one request, at most one
	// succeeds"; DESIGN.md decision 4 asks for exactly one of fifty.
	run("IssueCode/OfConcurrentIssuesExactlyOneSucceeds", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		codes := make([]*oauth.AuthorizationCode, concurrency)
		for i := range codes {
			codes[i] = Code(t, now)
		}
		errs := race(func(i int) error {
			return s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, codes[i])
		})
		winner := assertOneWinner(t, errs, oauth.ErrNotFound, "IssueCode")
		for i, code := range codes {
			if i == winner {
				assertCodeUsable(t, s, code, now)
			} else {
				assertCodeAbsent(t, s, code, now)
			}
		}
	})

	run("ConsumeCode/ReturnsTheCodeOnceThenNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		mustIssue(t, s, r, code, now)
		assertCodeUsable(t, s, code, now.Add(time.Second))
		_, err := s.ConsumeCode(t.Context(), code.Key, code.ClientID, now.Add(time.Second))
		assertErrorIs(t, err, oauth.ErrNotFound, "ConsumeCode replayed")
	})

	run("ConsumeCode/WrongClientIsNotFoundAndChangesNothing", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		mustIssue(t, s, r, code, now)
		_, err := s.ConsumeCode(t.Context(), code.Key, "other-client", now)
		assertErrorIs(t, err, oauth.ErrNotFound, "ConsumeCode by another client")
		assertCodeUsable(t, s, code, now)
	})

	run("ConsumeCode/AtOrPastExpiryIsNotFoundAndChangesNothing", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		r := PushedRequest(t, now)
		mustCreate(t, s, r)
		code := Code(t, now)
		mustIssue(t, s, r, code, now)
		for _, at := range []time.Time{code.ExpiresAt, code.ExpiresAt.Add(time.Millisecond), code.ExpiresAt.Add(time.Hour)} {
			_, err := s.ConsumeCode(t.Context(), code.Key, code.ClientID, at)
			assertErrorIs(t, err, oauth.ErrNotFound, fmt.Sprintf("ConsumeCode %v after expiry", at.Sub(code.ExpiresAt)))
		}
		assertCodeUsable(t, s, code, code.ExpiresAt.Add(-time.Millisecond))
	})

	run("ConsumeCode/UnknownKeyIsNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		_, err := s.ConsumeCode(t.Context(), Key(t), ClientID, now)
		assertErrorIs(t, err, oauth.ErrNotFound, "ConsumeCode of an unknown key")
	})

	run("ConsumeCode/OfConcurrentConsumesExactlyOneSucceeds", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
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
		winner := assertOneWinner(t, errs, oauth.ErrNotFound, "ConsumeCode")
		want := *code
		want.ConsumedAt = &now
		assertEqual(t, got[winner], &want, "code returned to the winning ConsumeCode")
	})

	run("UseOnce/FirstUseSucceedsThenConflictUntilExpiry", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
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
	})

	// store.go: an expired record is replaced, and the replacement counts.
	run("UseOnce/AtOrAfterExpiryTheKeyIsRecordedAgain", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
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
	})

	run("UseOnce/OfConcurrentUsesExactlyOneSucceeds", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		key := Key(t)
		errs := race(func(int) error { return s.UseOnce(t.Context(), key, now.Add(time.Minute), now) })
		assertOneWinner(t, errs, oauth.ErrConflict, "UseOnce")
	})

	// Each kind of record has its own key space: a client ID, a username, the hash
	// keys of a pushed request and a code and a one-time identifier may be the same
	// string.
	run("KeysOfDifferentKindsDoNotCollide", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
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
		mustIssue(t, s, r, code, now)
		if err := s.UseOnce(t.Context(), key, now.Add(time.Minute), now); err != nil {
			t.Fatalf("UseOnce of a key shared with other records: %v", err)
		}

		want := *r
		want.ConsumedAt = &now
		assertEqual(t, mustGet(t, s, key), &want, "pushed request sharing its key")
		assertEqual(t, mustGetClient(t, s, key), client, "client sharing its key")
		assertEqual(t, mustGetUser(t, s, key), user, "user sharing its key")
		assertCodeUsable(t, s, code, now)
	})

	run("Client/PutThenGetReturnsEveryField", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		c := fullClient(t)
		mustPutClient(t, reg, c)
		assertEqual(t, mustGetClient(t, s, c.ID), c, "stored client")
	})

	run("Client/PutReplacesTheWholeRecord", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		mustPutClient(t, reg, fullClient(t))
		replacement := &oauth.Client{
			ID:                      ClientID,
			RedirectURIs:            []string{"https://other.example.org/cb"},
			TokenEndpointAuthMethod: oauth.AuthNone,
		}
		mustPutClient(t, reg, replacement)
		assertEqual(t, mustGetClient(t, s, ClientID), replacement, "client after replacement")
	})

	run("Client/GetUnknownIsNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		_, err := s.GetClient(t.Context(), "no-such-client")
		assertErrorIs(t, err, oauth.ErrNotFound, "GetClient of an unknown client")
	})

	run("Client/StoreKeepsNoReferenceToCallersValues", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		c := fullClient(t)
		mustPutClient(t, reg, c)
		change := func(c *oauth.Client) {
			c.RedirectURIs[0] = "https://attacker.example/cb"
			c.PushedRedirectURIPrefixes[0] = "https://attacker.example/"
			c.GrantTypes[0] = "implicit"
			c.ResponseTypes[0] = "token"
			c.SecretHash[0] ^= 0xff
			c.JWKS[0] = '['
		}
		change(c)
		got := mustGetClient(t, s, ClientID)
		assertEqual(t, got, fullClient(t), "client after changing the stored value")
		change(got)
		assertEqual(t, mustGetClient(t, s, ClientID), fullClient(t), "client after changing a returned value")
	})

	run("User/PutThenGetReturnsEveryField", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		u := fullUser(t)
		mustPutUser(t, reg, u)
		assertEqual(t, mustGetUser(t, s, u.Username), u, "stored user")
	})

	run("User/PutReplacesTheWholeRecord", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		u := fullUser(t)
		mustPutUser(t, reg, u)
		replacement := &oauth.User{Username: u.Username, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$b3RoZXI$b3RoZXI"}
		mustPutUser(t, reg, replacement)
		assertEqual(t, mustGetUser(t, s, u.Username), replacement, "user after replacement")
	})

	run("User/GetUnknownIsNotFound", func(t *testing.T, s oauth.Store, _ oauth.Registry) {
		_, err := s.GetUser(t.Context(), "no-such-user")
		assertErrorIs(t, err, oauth.ErrNotFound, "GetUser of an unknown user")
	})

	// Claims end up in ID tokens as JSON, and DynamoDB keeps numbers, lists and maps
	// without their Go types: every store returns what encoding/json would decode.
	run("User/ClaimsComeBackAsJSONValues", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
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
	})

	run("User/StoreKeepsNoReferenceToCallersValues", func(t *testing.T, s oauth.Store, reg oauth.Registry) {
		u := User(t)
		mustPutUser(t, reg, u)
		u.Claims["address"].(map[string]any)["country"] = "changed"
		u.Claims["groups"].([]any)[0] = "changed"
		got := mustGetUser(t, s, u.Username)
		assertEqual(t, got, User(t), "user after changing the stored value")
		got.Claims["address"].(map[string]any)["country"] = "changed"
		got.Claims["email"] = "changed"
		assertEqual(t, mustGetUser(t, s, u.Username), User(t), "user after changing a returned value")
	})
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
// failed with loserErr, and returns the winner's index.
func assertOneWinner(tb testing.TB, errs []error, loserErr error, what string) int {
	tb.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			tb.Fatalf("%d concurrent %s calls: calls %d and %d both succeeded", len(errs), what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loserErr):
			tb.Errorf("concurrent %s call %d: got %v, want %v", what, i, err, loserErr)
		}
	}
	if winner < 0 {
		tb.Fatalf("%d concurrent %s calls: none succeeded", len(errs), what)
	}
	return winner
}

func mustCreate(tb testing.TB, s oauth.Store, r *oauth.PushedRequest) {
	tb.Helper()
	if err := s.CreatePushedRequest(tb.Context(), r); err != nil {
		tb.Fatalf("CreatePushedRequest: %v", err)
	}
}

func mustGet(tb testing.TB, s oauth.Store, key string) *oauth.PushedRequest {
	tb.Helper()
	r, err := s.GetPushedRequest(tb.Context(), key)
	if err != nil {
		tb.Fatalf("GetPushedRequest: %v", err)
	}
	return r
}

func mustIssue(tb testing.TB, s oauth.Store, r *oauth.PushedRequest, code *oauth.AuthorizationCode, now time.Time) {
	tb.Helper()
	if err := s.IssueCode(tb.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code); err != nil {
		tb.Fatalf("IssueCode: %v", err)
	}
}

func mustPutClient(tb testing.TB, reg oauth.Registry, c *oauth.Client) {
	tb.Helper()
	if err := reg.PutClient(tb.Context(), c); err != nil {
		tb.Fatalf("PutClient: %v", err)
	}
}

func mustGetClient(tb testing.TB, s oauth.Store, id string) *oauth.Client {
	tb.Helper()
	c, err := s.GetClient(tb.Context(), id)
	if err != nil {
		tb.Fatalf("GetClient: %v", err)
	}
	return c
}

func mustPutUser(tb testing.TB, reg oauth.Registry, u *oauth.User) {
	tb.Helper()
	if err := reg.PutUser(tb.Context(), u); err != nil {
		tb.Fatalf("PutUser: %v", err)
	}
}

func mustGetUser(tb testing.TB, s oauth.Store, username string) *oauth.User {
	tb.Helper()
	u, err := s.GetUser(tb.Context(), username)
	if err != nil {
		tb.Fatalf("GetUser: %v", err)
	}
	return u
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

// assertCodeAbsent checks that no usable code is stored under code's key.
func assertCodeAbsent(tb testing.TB, s oauth.Store, code *oauth.AuthorizationCode, now time.Time) {
	tb.Helper()
	if got, err := s.ConsumeCode(tb.Context(), code.Key, code.ClientID, now); !errors.Is(err, oauth.ErrNotFound) {
		tb.Fatalf("ConsumeCode of a code that must not have been stored: got (%+v, %v), want oauth.ErrNotFound", got, err)
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
