package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// localState is the folder (LOCAL_STATE_DIR; `make run` uses .local/, which git
// ignores) where a local run keeps what the next start can reuse instead of redoing:
// the generated signing key, so a restart neither costs a key generation nor
// invalidates the tokens a developer holds, and the argon2id hashes of the seed's
// passwords, so a start does not spend a hash per seeded user before it serves.
// Without it every start generates a key and hashes every password, as a test wants.
type localState struct{ dir string }

// keysFile is where the generated key of alg (config's KeyAlgorithm: KEY_ALG, or the
// profile's default) is kept: one file per algorithm, so that a start with another
// KEY_ALG, or under fapi2 (ES256), does not sign with the old one.
func (l localState) keysFile(alg string) (string, error) {
	if alg == "" {
		alg = keys.DefaultAlgorithm
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return "", fmt.Errorf("LOCAL_STATE_DIR: %w", err)
	}
	return filepath.Join(l.dir, "keys-"+alg+".json"), nil
}

// passwordHashes returns a seed.Hasher that reuses the hashes of earlier starts,
// keyed by the SHA-256 of the password, and writes new ones back. A cached hash is
// what oauth.HashPassword returned for that password (its PHC string carries its own
// salt and parameters), so a login verifies against it as against a fresh one.
func (l localState) passwordHashes() (seed.Hasher, func() error, error) {
	path := filepath.Join(l.dir, "password-hashes.json")
	cache := map[string]string{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, &cache); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w (delete it to start afresh)", path, err)
		}
	}
	changed := false
	hash := func(password string) (string, error) {
		sum := sha256.Sum256([]byte(password))
		key := hex.EncodeToString(sum[:])
		if h, ok := cache[key]; ok {
			return h, nil
		}
		h, err := oauth.HashPassword(password)
		if err != nil {
			return "", err
		}
		cache[key], changed = h, true
		return h, nil
	}
	save := func() error {
		if !changed {
			return nil
		}
		data, err := json.MarshalIndent(cache, "", "  ")
		if err != nil {
			return err
		}
		if err := os.MkdirAll(l.dir, 0o700); err != nil {
			return fmt.Errorf("LOCAL_STATE_DIR: %w", err)
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		return os.Rename(tmp, path)
	}
	return hash, save, nil
}
