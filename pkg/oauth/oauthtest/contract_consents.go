package oauthtest

import (
	"slices"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// consentContract holds the promises of oauth.Consents: remembered consents
// (docs/design.md decision 32) stored under their hashed (user, client) key,
// replaced by each approval, returned past their expiry (the caller decides), and
// forgotten on revocation.
var consentContract = []contractCase{
	{"Consent/RememberThenGetReturnsEveryField", testConsentRememberThenGet},
	{"Consent/GetUnknownKeyIsNotFound", testConsentGetUnknownIsNotFound},
	{"Consent/RememberReplacesTheEarlierConsent", testConsentRememberReplaces},
	{"Consent/EmptyListsComeBackNil", testConsentEmptyListsNil},
	{"Consent/TimesAreKeptInUTCToTheMillisecond", testConsentTimesUTCMillis},
	{"Consent/StoreKeepsNoReferenceToCallersValues", testConsentNoReference},
	{"Consent/GetReturnsAConsentPastItsExpiry", testConsentGetPastExpiry},
	{"Consent/ForgetDeletesAndForgettingNoneIsNotAnError", testConsentForget},
	{"Consent/KeysDoNotCollideWithOtherKinds", testConsentKeysDoNotCollide},
}

// Consent returns a consent of user 248289761001 for ClientID given at now for 30
// days, every field set.
func Consent(tb testing.TB, now time.Time) *oauth.Consent {
	tb.Helper()
	return &oauth.Consent{
		Key:       oauth.ConsentKey("248289761001", ClientID),
		Subject:   "248289761001",
		ClientID:  ClientID,
		Scopes:    []string{"email", "openid", "profile"},
		Resources: []string{"https://rs.example.com/"},
		GrantedAt: now,
		ExpiresAt: now.Add(30 * 24 * time.Hour),
	}
}

func mustRememberConsent(tb testing.TB, s oauth.Store, c *oauth.Consent) {
	tb.Helper()
	if err := s.RememberConsent(tb.Context(), c); err != nil {
		tb.Fatalf("RememberConsent: %v", err)
	}
}

func mustGetConsent(tb testing.TB, s oauth.Store, key string) *oauth.Consent {
	tb.Helper()
	c, err := s.GetConsent(tb.Context(), key)
	if err != nil {
		tb.Fatalf("GetConsent: %v", err)
	}
	return c
}

func testConsentRememberThenGet(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	c := Consent(t, now)
	mustRememberConsent(t, s, c)
	assertEqual(t, mustGetConsent(t, s, c.Key), c, "remembered consent")
}

func testConsentGetUnknownIsNotFound(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	_, err := s.GetConsent(t.Context(), oauth.ConsentKey("nobody", ClientID))
	assertNotFound(t, err, "GetConsent of an unknown key")
}

func testConsentRememberReplaces(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	first := Consent(t, now)
	mustRememberConsent(t, s, first)
	second := Consent(t, now.Add(time.Hour))
	second.Scopes = []string{"offline_access", "openid"}
	second.Resources = nil
	mustRememberConsent(t, s, second)
	assertEqual(t, mustGetConsent(t, s, first.Key), second, "consent after a second approval")
}

func testConsentEmptyListsNil(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	c := Consent(t, now)
	c.Scopes, c.Resources = []string{}, []string{}
	mustRememberConsent(t, s, c)
	want := *c
	want.Scopes, want.Resources = nil, nil
	assertEqual(t, mustGetConsent(t, s, c.Key), &want, "consent with empty lists")
}

func testConsentTimesUTCMillis(t *testing.T, s oauth.Store, _ oauth.Registry, _ time.Time) {
	odd := time.Date(2031, 5, 6, 7, 8, 9, 123_456_789, time.FixedZone("UTC+2", 2*60*60))
	c := Consent(t, odd)
	mustRememberConsent(t, s, c)
	want := *c
	want.GrantedAt, want.ExpiresAt = ms(c.GrantedAt), ms(c.ExpiresAt)
	assertEqual(t, mustGetConsent(t, s, c.Key), &want, "consent with sub-millisecond, non-UTC times")
}

func testConsentNoReference(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	c := Consent(t, now)
	want := *c
	want.Scopes, want.Resources = slices.Clone(c.Scopes), slices.Clone(c.Resources)
	mustRememberConsent(t, s, c)
	c.Scopes[0], c.Resources[0] = "changed", "changed"
	got := mustGetConsent(t, s, c.Key)
	assertEqual(t, got, &want, "consent after the caller changed its values")
	got.Scopes[0], got.Resources[0] = "changed", "changed"
	assertEqual(t, mustGetConsent(t, s, c.Key), &want, "consent after the reader changed its copy")
}

func testConsentGetPastExpiry(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	c := Consent(t, now.Add(-time.Hour))
	c.ExpiresAt = now.Add(-time.Minute)
	mustRememberConsent(t, s, c)
	assertEqual(t, mustGetConsent(t, s, c.Key), c, "consent a minute past its expiry")
}

func testConsentForget(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	c := Consent(t, now)
	mustRememberConsent(t, s, c)
	other := Consent(t, now)
	other.ClientID = "another-client"
	other.Key = oauth.ConsentKey(other.Subject, other.ClientID)
	mustRememberConsent(t, s, other)
	if err := s.ForgetConsent(t.Context(), c.Key); err != nil {
		t.Fatalf("ForgetConsent: %v", err)
	}
	_, err := s.GetConsent(t.Context(), c.Key)
	assertNotFound(t, err, "GetConsent after ForgetConsent")
	assertEqual(t, mustGetConsent(t, s, other.Key), other, "the user's consent for another client")
	if err := s.ForgetConsent(t.Context(), c.Key); err != nil {
		t.Fatalf("ForgetConsent of a forgotten consent: %v", err)
	}
}

func testConsentKeysDoNotCollide(t *testing.T, s oauth.Store, _ oauth.Registry, now time.Time) {
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	c := Consent(t, now)
	c.Key = r.Key
	mustRememberConsent(t, s, c)
	sess := Session(t, now)
	sess.Key = r.Key
	mustCreateSession(t, s, sess)
	assertEqual(t, mustGetConsent(t, s, r.Key), c, "consent sharing its key with a pushed request and a session")
	assertEqual(t, mustGet(t, s, r.Key), r, "pushed request sharing its key with a consent")
	assertEqual(t, mustGetSession(t, s, r.Key), sess, "session sharing its key with a consent")
}
