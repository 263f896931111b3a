package keys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
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
// once here so that a broken file is reported at start-up, and that reading is what
// the source's first Load returns. An empty alg means
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
	set, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err = writeNewFile(path, alg); err == nil {
			return FileSource(path), nil
		}
	}
	if err != nil {
		return nil, err
	}
	return primedFileSource(path, set), nil
}

// primedFileSource is FileSource(path) whose first Load returns set, the file as
// LoadOrGenerate has just read it, rather than reading and parsing it again: an RSA
// key's parse and checks are a visible part of a local start (issue 15). Every later
// Load reads the file, so replacing it still rotates the keys.
func primedFileSource(path string, set *Set) Source {
	var first atomic.Pointer[Set]
	first.Store(set)
	file := FileSource(path)
	return SourceFunc(func(ctx context.Context) (*Set, error) {
		if ctx.Err() == nil {
			if s := first.Swap(nil); s != nil {
				return s, nil
			}
		}
		return file.Load(ctx)
	})
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
