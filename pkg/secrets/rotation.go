package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
)

// The steps Secrets Manager invokes a rotation function with, in order.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// RotationEvent is what Secrets Manager sends the rotation function.
type RotationEvent struct {
	// SecretID is the ARN of the secret.
	SecretID string `json:"SecretId"`
	// ClientRequestToken is the version ID of the new version being rotated in.
	ClientRequestToken string `json:"ClientRequestToken"`
	Step               string `json:"Step"`
}

// RotationAPI is the part of *secretsmanager.Client that rotation needs; the
// function's IAM policy grants exactly these actions.
type RotationAPI interface {
	GetSecretValueAPI
	DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// Rotator is the rotation function of the signing key secret. Each rotation writes the
// set [keys.Rotate] makes from the current one: the successor published by the last
// rotation becomes active, a new successor is published, and the outgoing key stays
// for verification. So no key signs before it has been in the JWKS for a whole
// rotation period (the keys package documentation explains why), and never before it
// has been published for [keys.MinPublished], the JWKS cache time: createSecret and
// testSecret refuse a successor published more recently (keys.ErrSuccessorTooNew),
// leaving the secret as it was, and a rotation started later succeeds.
//
// It follows the contract of Secrets Manager rotation functions: every step first
// checks that rotation is enabled and that the token is the version staged AWSPENDING,
// and every step can be repeated, since Secrets Manager retries failed invocations.
type Rotator struct {
	client RotationAPI
	alg    string
	log    *slog.Logger
	now    func() time.Time
	// public is the secret the public JWK Set is published to (WithPublicKeysSecret).
	public string
}

// WithPublicKeysSecret makes the rotation publish the public JWK Set of each key set
// it makes current to the secret secretID (template.yaml PublicKeysSecret), which the
// discovery function reads instead of the private keys ([NewPublicKeys]). finishSecret
// writes it before it moves AWSCURRENT: a retried finishSecret finds the version
// current and does nothing, so writing after would lose a failed write. The pending set
// keeps every key the current one signs with, so publishing it first unpublishes no
// key in use.
func WithPublicKeysSecret(secretID string) RotatorOption {
	return func(r *Rotator) { r.public = secretID }
}

// RotatorOption configures a [Rotator].
type RotatorOption func(*Rotator)

// WithClock sets the clock a Rotator records publication times with and checks a
// successor's age against (default time.Now); tests inject one so that rotations a
// moment apart are rotations days apart.
func WithClock(now func() time.Time) RotatorOption {
	return func(r *Rotator) { r.now = now }
}

// NewRotator returns the rotation function generating keys of alg (empty means
// [keys.DefaultAlgorithm]). A nil log means slog.Default().
func NewRotator(client RotationAPI, alg string, log *slog.Logger, opts ...RotatorOption) (*Rotator, error) {
	if alg == "" {
		alg = keys.DefaultAlgorithm
	}
	if !keys.Supported(alg) {
		return nil, fmt.Errorf("key algorithm %q is not supported (want one of %v)", alg, keys.Algorithms())
	}
	if log == nil {
		log = slog.Default()
	}
	r := &Rotator{client: client, alg: alg, log: log, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Algorithm is the algorithm of the keys the rotation generates.
func (r *Rotator) Algorithm() string { return r.alg }

// Handle runs one rotation step.
func (r *Rotator) Handle(ctx context.Context, ev RotationEvent) error {
	if ev.SecretID == "" || ev.ClientRequestToken == "" {
		return fmt.Errorf("rotation event without SecretId or ClientRequestToken: %+v", ev)
	}
	log := r.log.With("secret", ev.SecretID, "version", ev.ClientRequestToken, "step", ev.Step)
	desc, err := r.client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return wrapErr("describe secret "+ev.SecretID, err)
	}
	if !aws.ToBool(desc.RotationEnabled) {
		return fmt.Errorf("secret %s is not enabled for rotation", ev.SecretID)
	}
	stages, ok := desc.VersionIdsToStages[ev.ClientRequestToken]
	if !ok {
		return fmt.Errorf("secret %s has no version %s to rotate to", ev.SecretID, ev.ClientRequestToken)
	}
	if slices.Contains(stages, StageCurrent) {
		log.InfoContext(ctx, "version is already AWSCURRENT; nothing to do")
		return nil
	}
	if !slices.Contains(stages, StagePending) {
		return fmt.Errorf("version %s of secret %s is not staged AWSPENDING", ev.ClientRequestToken, ev.SecretID)
	}

	switch ev.Step {
	case StepCreate:
		err = r.create(ctx, log, ev.SecretID, ev.ClientRequestToken)
	case StepSet:
		// The keys live only in the secret: no other system to update.
		log.InfoContext(ctx, "nothing to set")
	case StepTest:
		err = r.test(ctx, log, ev.SecretID, ev.ClientRequestToken)
	case StepFinish:
		err = r.finish(ctx, log, ev.SecretID, ev.ClientRequestToken, desc.VersionIdsToStages)
	default:
		err = fmt.Errorf("unknown rotation step %q", ev.Step)
	}
	if err != nil {
		return fmt.Errorf("%s of secret %s: %w", ev.Step, ev.SecretID, err)
	}
	return nil
}

// create puts the next key set as the AWSPENDING version, unless a previous attempt
// already did.
func (r *Rotator) create(ctx context.Context, log *slog.Logger, secretID, token string) error {
	_, err := getValue(ctx, r.client, secretID, token, StagePending, DefaultTimeout)
	if err == nil {
		log.InfoContext(ctx, "pending key set already exists")
		return nil
	}
	if !isNotFound(err) {
		return err
	}
	current, err := r.current(ctx, log, secretID)
	if err != nil {
		return err
	}
	next, err := keys.Rotate(current, r.alg, r.now())
	if err != nil {
		return err
	}
	data, err := next.MarshalJSON()
	if err != nil {
		return err
	}
	_, err = r.client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		SecretString:       aws.String(string(data)),
		VersionStages:      []string{StagePending},
	})
	if err != nil {
		return wrapErr("put pending key set", err)
	}
	log.InfoContext(ctx, "created pending key set", "kids", next.KeyIDs(), "active_kid", next.Active().KeyID)
	return nil
}

// current returns the AWSCURRENT key set, or nil when the secret does not hold one
// yet (no value, or the placeholder it was created with). A current value that has
// keys but does not parse is an error: rotating past it would unpublish keys that
// tokens in circulation were signed with.
func (r *Rotator) current(ctx context.Context, log *slog.Logger, secretID string) (*keys.Set, error) {
	data, err := getValue(ctx, r.client, secretID, "", StageCurrent, DefaultTimeout)
	if isNotFound(err) {
		log.InfoContext(ctx, "secret has no current value; starting a new key set")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	set, err := parseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("current value is not a valid key set; fix or replace it before rotating: %w", err)
	}
	if set == nil {
		log.InfoContext(ctx, "current value holds no keys; starting a new key set")
	}
	return set, nil
}

// test checks the pending set: it parses, a token signed with its active key verifies
// against its published JWKS, and it may follow the current set now
// (keys.CheckSuccessor: its active key published in the current set, for at least
// keys.MinPublished unless it is the current active key).
func (r *Rotator) test(ctx context.Context, log *slog.Logger, secretID, token string) error {
	pending, err := r.pending(ctx, secretID, token)
	if err != nil {
		return err
	}
	current, err := r.current(ctx, log, secretID)
	if err != nil {
		return err
	}
	if err := keys.CheckSuccessor(current, pending, r.now()); err != nil {
		return fmt.Errorf("pending key set may not follow the current one: %w", err)
	}
	jwt, err := keys.NewSigner(keys.Static(pending)).Sign(ctx, "JWT", map[string]any{
		"iss": "pargate-key-rotation",
		"jti": token,
		"iat": r.now().Unix(),
	})
	if err != nil {
		return fmt.Errorf("sign with pending key set: %w", err)
	}
	if _, err := keys.VerifyJWKS(pending.PublicJSON(), jwt); err != nil {
		return fmt.Errorf("pending key set: %w", err)
	}
	log.InfoContext(ctx, "pending key set signs and verifies", "active_kid", pending.Active().KeyID)
	return nil
}

// finish moves AWSCURRENT to the new version (Secrets Manager then labels the old one
// AWSPREVIOUS) and takes AWSPENDING off it: RotateSecret accepts either that or
// AWSPENDING left on the AWSCURRENT version, and no label at all leaves no doubt that
// no rotation is in progress.
func (r *Rotator) finish(ctx context.Context, log *slog.Logger, secretID, token string, versions map[string][]string) error {
	if r.public != "" {
		if err := r.publish(ctx, log, secretID, token); err != nil {
			return err
		}
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:        aws.String(secretID),
		VersionStage:    aws.String(StageCurrent),
		MoveToVersionId: aws.String(token),
	}
	var previous string
	for id, stages := range versions {
		if slices.Contains(stages, StageCurrent) {
			previous = id
			in.RemoveFromVersionId = aws.String(id)
		}
	}
	if _, err := r.client.UpdateSecretVersionStage(ctx, in); err != nil {
		return wrapErr("move AWSCURRENT", err)
	}
	_, err := r.client.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId:            aws.String(secretID),
		VersionStage:        aws.String(StagePending),
		RemoveFromVersionId: aws.String(token),
	})
	if err != nil {
		return wrapErr("remove AWSPENDING", err)
	}
	log.InfoContext(ctx, "new key set is current", "previous_version", previous)
	return nil
}

// publish writes the public JWK Set of the pending version to the public keys secret
// ([PublishPublicKeys]: a repeated finishSecret finds it there and writes nothing).
func (r *Rotator) publish(ctx context.Context, log *slog.Logger, secretID, token string) error {
	pending, err := r.pending(ctx, secretID, token)
	if err != nil {
		return err
	}
	return r.publishSet(ctx, log, pending)
}

// pending reads and parses the key set of the version being rotated in (AWSPENDING).
func (r *Rotator) pending(ctx context.Context, secretID, token string) (*keys.Set, error) {
	data, err := getValue(ctx, r.client, secretID, token, StagePending, DefaultTimeout)
	if err != nil {
		return nil, err
	}
	pending, err := keys.ParseSet(data)
	if err != nil {
		return nil, fmt.Errorf("pending value: %w", err)
	}
	return pending, nil
}
