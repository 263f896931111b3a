package keys

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func writeSet(tb testing.TB, path string, s *Set) {
	tb.Helper()
	data, err := s.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func load(tb testing.TB, src Source) *Set {
	tb.Helper()
	s, err := src.Load(context.Background())
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

func TestFileSource_ReadsEveryLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	a, b := mustGenerate(t, ES256), mustGenerate(t, ES256)
	writeSet(t, path, mustSet(t, a))
	src := FileSource(path)
	if kid := load(t, src).Active().KeyID; kid != a.KeyID {
		t.Fatalf("active = %q, want %q", kid, a.KeyID)
	}
	writeSet(t, path, mustSet(t, b, a))
	if kid := load(t, src).Active().KeyID; kid != b.KeyID {
		t.Errorf("active after rewrite = %q, want %q", kid, b.KeyID)
	}
}

func TestFileSource_Errors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte(`{"keys":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.json"), broken} {
		if _, err := FileSource(path).Load(context.Background()); err == nil {
			t.Errorf("Load(%s) succeeded, want error", path)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FileSource(broken).Load(ctx); err == nil {
		t.Error("Load with a cancelled context succeeded")
	}
}

func TestLoadOrGenerate_EmptyPathGeneratesInMemory(t *testing.T) {
	src, err := LoadOrGenerate("", "")
	if err != nil {
		t.Fatal(err)
	}
	s := load(t, src)
	if alg := s.Active().Algorithm; alg != DefaultAlgorithm {
		t.Errorf("alg = %s, want %s", alg, DefaultAlgorithm)
	}
	if again := load(t, src); again.Active().KeyID != s.Active().KeyID {
		t.Error("in-memory source changed its key between loads")
	}
}

func TestLoadOrGenerate_CreatesMissingFileOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	src, err := LoadOrGenerate(path, ES256)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("key file not created: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %v, want 0600 (it holds private keys)", mode)
	}
	first := load(t, src)
	if alg := first.Active().Algorithm; alg != ES256 {
		t.Errorf("alg = %s, want ES256", alg)
	}

	// A restart reads the same key, so tokens issued before it still verify.
	src, err = LoadOrGenerate(path, ES256)
	if err != nil {
		t.Fatal(err)
	}
	if kid := load(t, src).Active().KeyID; kid != first.Active().KeyID {
		t.Errorf("restart got key %q, want the file's %q", kid, first.Active().KeyID)
	}
}

func TestLoadOrGenerate_ReportsBrokenFileAtStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, []byte("not a key set"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrGenerate(path, ES256); err == nil {
		t.Fatal("LoadOrGenerate succeeded on a broken file")
	}
	if data, _ := os.ReadFile(path); string(data) != "not a key set" {
		t.Error("LoadOrGenerate overwrote an existing file")
	}
}

func TestLoadOrGenerate_RejectsUnsupportedAlgorithm(t *testing.T) {
	if _, err := LoadOrGenerate("", "HS256"); err == nil {
		t.Fatal("LoadOrGenerate with HS256 succeeded")
	}
}

func TestStatic_NilSetIsAnError(t *testing.T) {
	if _, err := Static(nil).Load(context.Background()); err == nil {
		t.Fatal("Static(nil).Load succeeded")
	}
}

// The source LoadOrGenerate returns for an existing file answers its first Load with
// the set read at start, and every later Load from the file as it is then: replacing
// the file still rotates the keys of a running server.
func TestLoadOrGenerate_FirstLoadIsTheStartReadLaterLoadsReadTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	a, err := generateSet(ES256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := generateSet(ES256)
	if err != nil {
		t.Fatal(err)
	}
	writeSet(t, path, a)
	src, err := LoadOrGenerate(path, ES256)
	if err != nil {
		t.Fatal(err)
	}
	if kid := load(t, src).Active().KeyID; kid != a.Active().KeyID {
		t.Errorf("first load: key %q, want the file's %q", kid, a.Active().KeyID)
	}
	writeSet(t, path, b)
	if kid := load(t, src).Active().KeyID; kid != b.Active().KeyID {
		t.Errorf("after the file was replaced: key %q, want the new file's %q", kid, b.Active().KeyID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src, err = LoadOrGenerate(path, ES256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Load(ctx); err == nil {
		t.Error("a cancelled context loaded the keys")
	}
}
