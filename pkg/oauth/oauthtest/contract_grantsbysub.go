package oauthtest

import (
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// RunGrantsBySubjectContract runs the promises of oauth.GrantsBySubject against the
// stores newStore returns, which must implement it (both stores do).
func RunGrantsBySubjectContract(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, c := range []struct {
		name string
		test func(t *testing.T, s oauth.Store, g oauth.GrantsBySubject, now time.Time)
	}{
		{"GrantsBySubject/ListsOnlyThatSubjectsGrantsOldestFirstRevokedIncluded", testGrantsBySubjectListsOnlyThatSubjects},
		{"GrantsBySubject/UnknownSubjectIsAnEmptyList", testGrantsBySubjectUnknownIsEmpty},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			g, ok := s.(oauth.GrantsBySubject)
			if !ok {
				t.Fatalf("%T does not implement oauth.GrantsBySubject", s)
			}
			c.test(t, s, g, now)
		})
	}
}

// issueGrantFor stores a grant of sub created at createdAt through IssueCode.
func issueGrantFor(t *testing.T, s oauth.Store, now time.Time, sub string, createdAt time.Time) *oauth.Grant {
	t.Helper()
	r := PushedRequest(t, now)
	mustCreate(t, s, r)
	code := Code(t, now)
	code.Subject = sub
	grant := Grant(t, createdAt)
	grant.ID, grant.Subject = code.GrantID, sub
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatalf("IssueCode: %v", err)
	}
	return grant
}

func testGrantsBySubjectListsOnlyThatSubjects(t *testing.T, s oauth.Store, g oauth.GrantsBySubject, now time.Time) {
	newer := issueGrantFor(t, s, now, "sub-a", now)
	older := issueGrantFor(t, s, now, "sub-a", now.Add(-time.Hour))
	issueGrantFor(t, s, now, "sub-b", now)
	if err := s.RevokeGrant(t.Context(), older.ID, now); err != nil {
		t.Fatal(err)
	}
	got, err := g.ListGrantsBySubject(t.Context(), "sub-a")
	if err != nil {
		t.Fatalf("ListGrantsBySubject: %v", err)
	}
	revoked := now
	older.RevokedAt = &revoked
	assertEqual(t, got, []*oauth.Grant{older, newer}, "grants of sub-a")
}

func testGrantsBySubjectUnknownIsEmpty(t *testing.T, s oauth.Store, g oauth.GrantsBySubject, now time.Time) {
	issueGrantFor(t, s, now, "sub-a", now)
	got, err := g.ListGrantsBySubject(t.Context(), "no-such-sub")
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("ListGrantsBySubject(unknown) = %v, %v; want an empty list", got, err)
	}
}
