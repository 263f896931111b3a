package secrets

import (
	"context"
	"fmt"

	"github.com/pargate/pargate/pkg/keys"
)

// LoadKeySet reads the AWSCURRENT key set of the secret secretID, or nil when the
// secret holds none yet: no value at all, or the placeholder it was created with
// before its first rotation. A value with keys must be a valid key set. Unlike the
// [NewSource] used for signing, it lets an operator's tool tell "not rotated yet"
// from a failure.
func LoadKeySet(ctx context.Context, client GetSecretValueAPI, secretID string) (*keys.Set, error) {
	data, err := getValue(ctx, client, secretID, "", StageCurrent, DefaultTimeout)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	set, err := parseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", secretID, err)
	}
	return set, nil
}
