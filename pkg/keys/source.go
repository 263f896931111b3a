package keys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Source is where a key set comes from: a Secrets Manager secret in Lambda, a file or
// memory locally. Load is called on first use and then once per refresh interval, so
// it may be slow and networked; it must honour ctx.
type Source interface {
	Load(ctx context.Context) (*Set, error)
}

// SourceFunc adapts a function to [Source].
type SourceFunc func(ctx context.Context) (*Set, error)

// Load calls f.
func (f SourceFunc) Load(ctx context.Context) (*Set, error) { return f(ctx) }

// Static is a source that always returns set.
func Static(set *Set) Source {
	return SourceFunc(func(context.Context) (*Set, error) {
		if set == nil {
			return nil, errors.New("static key source: no key set")
		}
		return set, nil
	})
}

// FileSource reads the key set from a JWK Set file on every Load (a [Signer] calls it
// at most once per refresh interval), so replacing the file rotates the keys of a
// running local server.
func FileSource(path string) Source {
	return SourceFunc(func(ctx context.Context) (*Set, error) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read key set %s: %w", path, err)
		}
		return readFile(path)
	})
}

func readFile(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key set: %w", err)
	}
	s, err := ParseSet(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// LoadOrGenerate is the key source of a local run. With an empty path it generates
// one key of alg in memory (tokens then stop verifying when the process restarts).
// Otherwise it reads the JWK Set file at path, creating it (mode 0600) with one new
// key of alg if it does not exist, and returns a [FileSource] for it. The file is read
// once here so that a broken file is reported at start-up. An empty alg means
// [DefaultAlgorithm].
func LoadOrGenerate(path, alg string) (Source, error) {
	if alg == "" {
		alg = DefaultAlgorithm
	}
	if path == "" {
		set, err := generateSet(alg)
		if err != nil {
			return nil, err
		}
		return Static(set), nil
	}
	_, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		err = writeNewFile(path, alg)
	}
	if err != nil {
		return nil, err
	}
	return FileSource(path), nil
}

func generateSet(alg string) (*Set, error) {
	k, err := Generate(alg)
	if err != nil {
		return nil, err
	}
	return NewSet(k)
}

func writeNewFile(path, alg string) error {
	set, err := generateSet(alg)
	if err != nil {
		return err
	}
	data, err := set.MarshalJSON()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key set file: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write key set file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key set file: %w", err)
	}
	return nil
}
