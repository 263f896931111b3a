package keys

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// Each key's publication time is recorded in the key set, kept
// across rotations and through the stored JSON, and never published in the JWKS.
func TestRotate_RecordsWhenEachKeyWasPublished(t *testing.T) {
	first := mustRotateAt(t, nil, ES256, t0)
	for _, kid := range first.KeyIDs() {
		if at, ok := first.Published(kid); !ok || !at.Equal(t0) {
			t.Errorf("first set: key %s published %v (%v), want %v", kid, at, ok, t0)
		}
	}
	t1 := t0.Add(24 * time.Hour)
	second := mustRotateAt(t, first, ES256, t1)
	ids := second.KeyIDs()
	want := map[string]time.Time{ids[0]: t0, ids[1]: t1, ids[2]: t0}
	for kid, w := range want {
		if at, ok := second.Published(kid); !ok || !at.Equal(w) {
			t.Errorf("second set: key %s published %v (%v), want %v", kid, at, ok, w)
		}
	}

	data, err := second.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseSet(data)
	if err != nil {
		t.Fatalf("ParseSet of a marshalled set: %v", err)
	}
	for kid, w := range want {
		if at, ok := parsed.Published(kid); !ok || !at.Equal(w) {
			t.Errorf("parsed set: key %s published %v (%v), want %v", kid, at, ok, w)
		}
	}
	if strings.Contains(string(second.PublicJSON()), "published") {
		t.Errorf("the public JWKS carries the publication times: %s", second.PublicJSON())
	}
	// Readers of the plain JWK Set format (older pargate versions) still read it.
	var plain struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &plain); err != nil || len(plain.Keys) != 3 {
		t.Errorf("stored set is not a JWK Set of 3 keys: %v", err)
	}
}

// A rotation refuses to promote a successor published less than
// the JWKS cache time ago, with an error that says when it may; at that time it
// promotes it.
func TestRotate_RefusesToPromoteASuccessorPublishedLessThanTheJWKSCacheTime(t *testing.T) {
	first := mustRotateAt(t, nil, ES256, t0)
	successor := first.KeyIDs()[1]
	for _, age := range []time.Duration{0, time.Minute, MinPublished - time.Second, -time.Hour} {
		_, err := Rotate(first, ES256, t0.Add(age))
		if !errors.Is(err, ErrSuccessorTooNew) {
			t.Fatalf("Rotate %v after the successor was published: err = %v, want ErrSuccessorTooNew", age, err)
		}
		if msg := err.Error(); !strings.Contains(msg, successor) || !strings.Contains(msg, t0.Add(MinPublished).Format(time.RFC3339)) {
			t.Errorf("error %q does not name the key and when it may sign", msg)
		}
	}
	next := mustRotateAt(t, first, ES256, t0.Add(MinPublished))
	if next.Active().KeyID != successor {
		t.Errorf("active key = %s, want the successor %s", next.Active().KeyID, successor)
	}
	// A set of one key promotes nothing: it gets a successor at once.
	one := mustSet(t, first.Active())
	if _, err := Rotate(one, ES256, t0); err != nil {
		t.Errorf("rotation of a one-key set refused: %v", err)
	}
}

// A set written before publication times were recorded has none;
// its keys count as published long ago (they were in service when it was written),
// so its successor is promoted as before, and the set written has times from then on.
func TestRotate_KeysWithoutAPublicationTimeCountAsPublishedLongAgo(t *testing.T) {
	a, b := mustGenerate(t, ES256), mustGenerate(t, ES256)
	old, err := ParseSet(marshalKeys(t, a, b))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := old.Published(b.KeyID); ok {
		t.Fatalf("a set without times has a publication time for %s", b.KeyID)
	}
	next := mustRotateAt(t, old, ES256, t0)
	if next.Active().KeyID != b.KeyID {
		t.Fatalf("active key = %s, want the old successor %s", next.Active().KeyID, b.KeyID)
	}
	if _, ok := next.Published(b.KeyID); ok {
		t.Errorf("the old successor got a publication time it never had")
	}
	if at, ok := next.Published(next.KeyIDs()[1]); !ok || !at.Equal(t0) {
		t.Errorf("new successor published %v (%v), want %v", at, ok, t0)
	}
}

// The test step's CheckSuccessor also refuses a pending set whose
// active key was published less than the JWKS cache time ago.
func TestCheckSuccessor_RefusesAKeyPublishedTooRecently(t *testing.T) {
	first := mustRotateAt(t, nil, ES256, t0)
	ks := first.Keys()
	promoted := mustSet(t, ks[1], mustGenerate(t, ES256), ks[0])
	if err := CheckSuccessor(first, promoted, t0.Add(time.Minute)); !errors.Is(err, ErrSuccessorTooNew) {
		t.Errorf("CheckSuccessor a minute after publication: %v, want ErrSuccessorTooNew", err)
	}
	if err := CheckSuccessor(first, promoted, t0.Add(MinPublished)); err != nil {
		t.Errorf("CheckSuccessor after MinPublished: %v", err)
	}
	// Keeping the active key (a one-key set's rotation) promotes nothing.
	if err := CheckSuccessor(first, mustSet(t, ks[0], ks[1]), t0); err != nil {
		t.Errorf("CheckSuccessor keeping the active key: %v", err)
	}
}

// A stored time for a kid that is not in the set (a key removed by hand) is dropped,
// not an error: the signer must keep loading the set.
func TestParseSet_DropsPublicationTimesOfAbsentKeys(t *testing.T) {
	a := mustGenerate(t, ES256)
	data := marshalKeys(t, a)
	data = append(data[:len(data)-1], []byte(`,"published":{"gone":"2026-01-01T00:00:00Z"}}`)...)
	s, err := ParseSet(data)
	if err != nil {
		t.Fatalf("ParseSet: %v", err)
	}
	if _, ok := s.Published("gone"); ok {
		t.Error("time of an absent kid kept")
	}
}

// Revoking keeps the publication times of the keys kept and records the fresh
// successor as published now, so the next rotation does not promote it at once.
func TestRevoke_KeepsPublicationTimes(t *testing.T) {
	first := mustRotateAt(t, nil, ES256, t0)
	set := mustRotateAt(t, first, ES256, t0.Add(24*time.Hour)) // [B, C, A]
	ids := set.KeyIDs()
	before := time.Now()
	next, err := Revoke(set, ids[0], ES256) // B compromised: C signs, D fresh
	if err != nil {
		t.Fatal(err)
	}
	if at, ok := next.Published(ids[1]); !ok || !at.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("kept key %s published %v (%v), want its time", ids[1], at, ok)
	}
	fresh := next.KeyIDs()[1]
	if at, ok := next.Published(fresh); !ok || at.Before(before.Add(-time.Second)) {
		t.Errorf("fresh successor published %v (%v), want now", at, ok)
	}
	if _, err := Rotate(next, ES256, time.Now()); !errors.Is(err, ErrSuccessorTooNew) {
		t.Errorf("rotation right after a revoke: %v, want ErrSuccessorTooNew", err)
	}
}
