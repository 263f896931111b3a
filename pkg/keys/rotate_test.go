package keys

import (
	"slices"
	"testing"
	"time"
)

// t0 is the injected clock of the rotation tests; rotations a day apart are always
// allowed.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func mustRotate(tb testing.TB, current *Set, alg string) *Set {
	tb.Helper()
	return mustRotateAt(tb, current, alg, t0)
}

func mustRotateAt(tb testing.TB, current *Set, alg string, now time.Time) *Set {
	tb.Helper()
	next, err := Rotate(current, alg, now)
	if err != nil {
		tb.Fatalf("Rotate: %v", err)
	}
	if err := CheckSuccessor(current, next, now); err != nil {
		tb.Fatalf("Rotate made an unsafe successor: %v", err)
	}
	return next
}

func TestRotate_FirstSetHasActiveAndSuccessor(t *testing.T) {
	s := mustRotate(t, nil, PS256)
	if got := s.Keys(); len(got) != 2 || got[0].Algorithm != PS256 || got[1].Algorithm != PS256 {
		t.Fatalf("first rotation made %v, want two PS256 keys", s.KeyIDs())
	}
}

func TestRotate_SingleKeyKeepsSigningUntilSuccessorIsPublished(t *testing.T) {
	a := mustGenerate(t, RS256)
	s := mustRotate(t, mustSet(t, a), ES256)
	got := s.Keys()
	if len(got) != 2 || got[0].KeyID != a.KeyID {
		t.Fatalf("rotation of [A] = %v, want [A, new]", s.KeyIDs())
	}
	if got[1].Algorithm != ES256 {
		t.Errorf("successor alg = %s, want the configured ES256", got[1].Algorithm)
	}
}

func TestRotate_PromotesPublishedSuccessorAndKeepsPrevious(t *testing.T) {
	a, b, z := mustGenerate(t, ES256), mustGenerate(t, ES256), mustGenerate(t, ES256)
	s := mustRotate(t, mustSet(t, a, b, z), ES256)
	got := s.KeyIDs()
	if len(got) != 3 || got[0] != b.KeyID || got[2] != a.KeyID {
		t.Fatalf("rotation of [A B Z] = %v, want [B new A]", got)
	}
	if slices.Contains(got, z.KeyID) {
		t.Errorf("retired key Z still published after two rotations")
	}
	if got[1] == a.KeyID || got[1] == b.KeyID || got[1] == z.KeyID {
		t.Errorf("successor %q is not a new key", got[1])
	}
}

// Every key signs only after one rotation period in the JWKS, and stays in the JWKS
// for one rotation period after it stopped signing.
func TestRotate_KeysArePublishedBeforeAndAfterTheySign(t *testing.T) {
	prev := mustRotate(t, nil, ES256)
	for i := range 5 {
		next := mustRotateAt(t, prev, ES256, t0.Add(time.Duration(i+1)*24*time.Hour))
		if active := next.Active().KeyID; !prev.has(active) {
			t.Errorf("rotation %d: active key %q was not in the previous JWKS", i, active)
		}
		if old := prev.Active().KeyID; !next.has(old) {
			t.Errorf("rotation %d: previous active key %q dropped", i, old)
		}
		if n := len(next.Keys()); n > 3 {
			t.Errorf("rotation %d: %d keys, want at most current, successor, previous", i, n)
		}
		prev = next
	}
}

func TestRotate_RejectsUnsupportedAlgorithm(t *testing.T) {
	if _, err := Rotate(nil, "HS256", t0); err == nil {
		t.Fatal("Rotate with HS256 succeeded")
	}
}

func TestCheckSuccessor_RejectsUnsafeSets(t *testing.T) {
	a, b, c := mustGenerate(t, ES256), mustGenerate(t, ES256), mustGenerate(t, ES256)
	current := mustSet(t, a, b)
	tests := map[string]*Set{
		"activates an unpublished key": mustSet(t, c, a, b),
		"drops the current active key": mustSet(t, b, c),
	}
	for name, next := range tests {
		if err := CheckSuccessor(current, next, t0); err == nil {
			t.Errorf("%s: CheckSuccessor passed, want error", name)
		}
	}
	if err := CheckSuccessor(current, mustSet(t, b, c, a), t0); err != nil {
		t.Errorf("safe successor rejected: %v", err)
	}
	if err := CheckSuccessor(nil, mustSet(t, c), t0); err != nil {
		t.Errorf("first set rejected: %v", err)
	}
}
