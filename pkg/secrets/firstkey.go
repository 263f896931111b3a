package secrets

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
)

// EnsureKeySet makes sure the secret's AWSCURRENT value is a key set with keys, and
// returns it. When the secret holds none yet (no value, or the `{"keys":[]}`
// placeholder it is created with) it writes the first set - an active key and its
// published successor, as [keys.Rotate] makes from nothing - as the AWSCURRENT
// version token, after checking that it signs and verifies as the testSecret step
// does. A set that is already there is left alone, so deploying again (or a retry
// with the same token) changes nothing; a current value that does not parse is an
// error, as for a rotation. With [WithPublicKeysSecret] it then publishes the set's
// public JWK Set ([PublishPublicKeys]), the new set's or the one already there, so a
// new stack's discovery serves the first key and an existing stack's first update to
// a version with the public keys secret fills it.
//
// It is what the stack's first-key custom resource runs, synchronously, so that the
// deployment fails when the first key cannot be made (rotation itself is
// asynchronous).
func (r *Rotator) EnsureKeySet(ctx context.Context, secretID, token string) (*keys.Set, error) {
	if secretID == "" || token == "" {
		return nil, fmt.Errorf("first key set: secret id and version token are required")
	}
	log := r.log.With("secret", secretID, "version", token, "step", "firstKeySet")
	current, err := r.current(ctx, log, secretID)
	if err != nil {
		return nil, err
	}
	if current != nil {
		log.InfoContext(ctx, "secret already holds a key set", "active_kid", current.Active().KeyID)
		// A stack updated to a version with the public keys secret finds it empty:
		// the custom resource's Update publishes the set in place.
		if err := r.publishSet(ctx, log, current); err != nil {
			return nil, err
		}
		return current, nil
	}
	first, err := keys.Rotate(nil, r.alg, r.now())
	if err != nil {
		return nil, err
	}
	jwt, err := keys.NewSigner(keys.Static(first)).Sign(ctx, "JWT", map[string]any{
		"iss": "pargate-key-rotation",
		"jti": token,
		"iat": r.now().Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("sign with first key set: %w", err)
	}
	if _, err := keys.VerifyJWKS(first.PublicJSON(), jwt); err != nil {
		return nil, fmt.Errorf("first key set: %w", err)
	}
	data, err := first.MarshalJSON()
	if err != nil {
		return nil, err
	}
	_, err = r.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		SecretString:       aws.String(string(data)),
		VersionStages:      []string{StageCurrent},
	})
	if err != nil {
		return nil, wrapErr("put first key set", err)
	}
	// Read it back: what the functions will load is what counts.
	set, err := r.current(ctx, log, secretID)
	if err != nil {
		return nil, err
	}
	if set == nil || set.Active().KeyID != first.Active().KeyID {
		return nil, fmt.Errorf("first key set: the secret's current value is not the set just written")
	}
	log.InfoContext(ctx, "created first key set", "kids", set.KeyIDs(), "active_kid", set.Active().KeyID)
	if err := r.publishSet(ctx, log, set); err != nil {
		return nil, err
	}
	return set, nil
}

// publishSet publishes set's public JWK Set to the public keys secret, if the rotator
// has one ([WithPublicKeysSecret]).
func (r *Rotator) publishSet(ctx context.Context, log *slog.Logger, set *keys.Set) error {
	if r.public == "" {
		return nil
	}
	wrote, err := PublishPublicKeys(ctx, r.client, r.public, set)
	if err != nil {
		return err
	}
	if wrote {
		log.InfoContext(ctx, "published the public key set", "public_secret", r.public, "kids", set.KeyIDs())
	}
	return nil
}
