package admin

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
)

// keysRevoke removes a compromised signing key from the key set at once (the
// README's incident procedure). The new set is written as AWSCURRENT
// twice, so the version Secrets Manager labels AWSPREVIOUS does not hold the
// compromised private key either. A rotation in progress is refused: finish it
// first (keys rotate), then revoke.
func (e *env) keysRevoke(ctx context.Context, kid, envAlg string) error {
	id := e.settings.KeysSecret
	desc, err := e.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("describe secret %s: %w", id, err)
	}
	for version, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, secrets.StagePending) && !slices.Contains(stages, secrets.StageCurrent) {
			return fmt.Errorf("secret %s has an unfinished rotation (version %s): run keys rotate to finish it, then revoke", id, version)
		}
	}
	current, err := secrets.LoadKeySet(ctx, e.secrets, id)
	if err != nil {
		return err
	}
	if current == nil {
		return fmt.Errorf("secret %s holds no signing keys", id)
	}
	public := publicKeysSecret(e.settings.PublicKeysSecret, desc)
	if public != "" && !slices.Contains(current.KeyIDs(), kid) {
		// Revoked already, by a run whose publication failed: publish the set now.
		wrote, err := secrets.PublishPublicKeys(ctx, e.secrets, public, current)
		if err != nil {
			return err
		}
		if wrote {
			e.note("Signing key %s was already revoked; the public key set in %s no longer publishes it.", kid, public)
			return e.print(map[string]any{"revoked_kid": kid, "active_kid": current.Active().KeyID, "kids": current.KeyIDs()})
		}
	}
	alg := envAlg
	if alg == "" {
		ks := current.Keys()
		alg = ks[min(1, len(ks)-1)].Algorithm
	}
	next, err := keys.Revoke(current, kid, alg)
	if err != nil {
		return err
	}
	data, err := next.MarshalJSON()
	if err != nil {
		return err
	}
	// Each write is staged like a rotation's finish (AWSPENDING, then AWSCURRENT moved
	// onto it and AWSPENDING taken off), which every Secrets Manager implementation
	// honours; twice, so AWSPREVIOUS ends on a clean version too.
	for range 2 {
		if err := e.putCurrent(ctx, id, string(data)); err != nil {
			return fmt.Errorf("put key set without %s: %w", kid, err)
		}
	}
	// Discovery serves the public key set: without this, relying parties would go on
	// verifying tokens signed with the revoked key.
	if public != "" {
		if _, err := secrets.PublishPublicKeys(ctx, e.secrets, public, next); err != nil {
			return fmt.Errorf("key %s is revoked from %s, but the public key set in %s still publishes it (run keys revoke again): %w", kid, id, public, err)
		}
	}
	e.note("Revoked signing key %s: %s signs now. Running instances drop it within their key refresh interval; "+
		"redeploy (or restart) the functions to drop it now.", kid, next.Active().KeyID)
	return e.print(map[string]any{"revoked_kid": kid, "active_kid": next.Active().KeyID, "kids": next.KeyIDs()})
}

// putCurrent writes value as a new version and makes it AWSCURRENT.
func (e *env) putCurrent(ctx context.Context, id, value string) error {
	desc, err := e.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return err
	}
	token := newVersionID()
	if _, err := e.secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(id),
		ClientRequestToken: aws.String(token),
		SecretString:       aws.String(value),
		VersionStages:      []string{secrets.StagePending},
	}); err != nil {
		return err
	}
	move := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(id),
		VersionStage:    aws.String(secrets.StageCurrent),
		MoveToVersionId: aws.String(token),
	}
	for version, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, secrets.StageCurrent) {
			move.RemoveFromVersionId = aws.String(version)
		}
	}
	if _, err := e.secrets.UpdateSecretVersionStage(ctx, move); err != nil {
		return err
	}
	_, err = e.secrets.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(id),
		VersionStage:        aws.String(secrets.StagePending),
		RemoveFromVersionId: aws.String(token),
	})
	return err
}

// publicKeysSecret is the secret of the public key set to keep in step with the key
// secret described by desc: --public-keys-secret ($PUBLIC_KEYS_SECRET_ID), else the
// key secret's TagPublicKeysSecret tag; empty when there is none (a local setup).
func publicKeysSecret(explicit string, desc *secretsmanager.DescribeSecretOutput) string {
	if explicit != "" {
		return explicit
	}
	for _, tag := range desc.Tags {
		if aws.ToString(tag.Key) == TagPublicKeysSecret {
			return aws.ToString(tag.Value)
		}
	}
	return ""
}
