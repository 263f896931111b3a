package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
)

// How keys rotate answers an operator who wants new signing keys now.
//
// When the secret has a rotation function (a deployed stack: template.yaml's
// RotationSchedule), it asks Secrets Manager to rotate immediately (RotateSecret,
// RotateImmediately) and waits until the new version is AWSCURRENT. The function
// does the work, as on schedule: one writer of the secret, with the deployment's
// KEY_ALG and IAM role, and Secrets Manager refuses a second rotation while one is
// in progress.
//
// When the secret has no rotation function (a local moto_server, a stack whose
// function is not deployed yet) or with --in-process, it runs the same four steps
// here, with secrets.Rotator: createSecret, setSecret, testSecret, finishSecret. It
// then plays the part Secrets Manager plays for the function: it names the new
// version and presents it to the Rotator as staged AWSPENDING on a secret that is
// being rotated (see pendingView). A rotation left unfinished (a version staged
// AWSPENDING but not AWSCURRENT) is resumed rather than started anew, as Secrets
// Manager would. Either way the result is what keys.Rotate makes: the successor
// published by the previous rotation becomes active, a new successor is published,
// and the outgoing key stays published, so no token in circulation stops verifying.

// rotateOptions are the keys rotate flags.
type rotateOptions struct {
	// InProcess runs the steps here even when the secret has a rotation function.
	InProcess bool
	// Alg is the --alg flag; EnvAlg is $KEY_ALG, a default for in-process rotation only.
	Alg, EnvAlg string
	// Wait bounds the wait for the rotation function; 0 means do not wait.
	Wait time.Duration
	// Poll is the interval of checks while waiting; 0 means two seconds.
	Poll time.Duration
	// Now is the clock of the rotation (CLI.Now); nil means time.Now.
	Now func() time.Time
	// PublicKeysSecret is --public-keys-secret: an in-process rotation publishes the
	// public key set there (else to the keys secret's TagPublicKeysSecret tag's).
	PublicKeysSecret string
}

// Who rotated, in rotationView.RotatedBy.
const (
	RotatedInProcess  = "in-process"
	RotatedByFunction = "rotation-function"
)

// rotationView is what keys rotate prints: public material only.
type rotationView struct {
	Secret    string `json:"secret"`
	VersionID string `json:"version_id"`
	RotatedBy string `json:"rotated_by"`
	// Finished is false only when --wait 0 returned before the function finished.
	Finished     bool            `json:"finished"`
	PreviousKIDs []string        `json:"previous_kids"`
	ActiveKID    string          `json:"active_kid,omitempty"`
	KIDs         []string        `json:"kids,omitempty"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
}

func (e *env) keysRotate(ctx context.Context, o rotateOptions) error {
	log := slog.New(slog.NewTextHandler(e.cli.Stderr, nil))
	o.Now = e.cli.Now
	o.PublicKeysSecret = e.settings.PublicKeysSecret
	v, err := rotateKeys(ctx, e.secrets, e.settings.KeysSecret, o, log)
	if err != nil {
		return err
	}
	if v.Finished {
		e.note("Rotated the signing keys of %s (%s): %s signs now.", v.Secret, v.RotatedBy, v.ActiveKID)
	} else {
		e.note("Started the rotation of %s (version %s); see keys show, or the rotation function's logs.", v.Secret, v.VersionID)
	}
	return e.print(v)
}

func rotateKeys(ctx context.Context, api SecretsAPI, secretID string, o rotateOptions, log *slog.Logger) (*rotationView, error) {
	desc, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return nil, fmt.Errorf("describe secret %s: %w", secretID, err)
	}
	before, err := secrets.LoadKeySet(ctx, api, secretID)
	if err != nil {
		return nil, err
	}
	v := &rotationView{Secret: aws.ToString(desc.Name), PreviousKIDs: []string{}}
	if before != nil {
		v.PreviousKIDs = before.KeyIDs()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The rotation steps refuse a successor published less than the JWKS cache time
	// ago (keys.MinPublished); say so now, before a rotation function is started only
	// to fail, or a rotation is staged.
	if err := keys.CheckPromotable(before, o.Now()); err != nil {
		return nil, fmt.Errorf("secret %s not rotated: %w", v.Secret, err)
	}

	function := aws.ToString(desc.RotationLambdaARN)
	if !o.InProcess && aws.ToBool(desc.RotationEnabled) && function != "" {
		if o.Alg != "" {
			return nil, fmt.Errorf("--alg: secret %s is rotated by %s, which generates keys of its own KEY_ALG; drop --alg, or add --in-process", v.Secret, function)
		}
		v.RotatedBy = RotatedByFunction
		v.VersionID, err = rotateByFunction(ctx, api, secretID, o)
		if err != nil {
			return nil, err
		}
		if o.Wait == 0 {
			return v, nil
		}
	} else {
		v.RotatedBy = RotatedInProcess
		v.VersionID, err = rotateInProcess(ctx, api, secretID, desc, before, o, log)
		if err != nil {
			return nil, err
		}
	}
	v.Finished = true

	after, err := secrets.LoadKeySet(ctx, api, secretID)
	if err != nil {
		return nil, err
	}
	if after == nil {
		return nil, fmt.Errorf("secret %s holds no key set after its rotation", v.Secret)
	}
	v.ActiveKID, v.KIDs, v.JWKS = after.Active().KeyID, after.KeyIDs(), after.PublicJSON()
	return v, nil
}

// rotateByFunction has Secrets Manager run the secret's rotation function now and,
// unless o.Wait is 0, waits until the new version is AWSCURRENT.
func rotateByFunction(ctx context.Context, api SecretsAPI, secretID string, o rotateOptions) (string, error) {
	token := newVersionID()
	out, err := api.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		RotateImmediately:  aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("rotate secret %s: %w", secretID, err)
	}
	version := aws.ToString(out.VersionId)
	if version == "" {
		version = token
	}
	if o.Wait == 0 {
		return version, nil
	}
	poll := o.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	deadline := time.Now().Add(o.Wait)
	for {
		desc, err := api.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
		if err != nil {
			return "", fmt.Errorf("describe secret %s: %w", secretID, err)
		}
		if slices.Contains(desc.VersionIdsToStages[version], secrets.StageCurrent) {
			return version, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the rotation function started on secret %s (version %s) has not finished after %v: "+
				"see its logs; Secrets Manager retries it, and keys show prints the current keys", secretID, version, o.Wait)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for the rotation of %s: %w", secretID, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// rotateInProcess runs the four rotation steps here with secrets.Rotator.
func rotateInProcess(ctx context.Context, api SecretsAPI, secretID string, desc *secretsmanager.DescribeSecretOutput,
	before *keys.Set, o rotateOptions, log *slog.Logger) (string, error) {
	token := ""
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, secrets.StagePending) && !slices.Contains(stages, secrets.StageCurrent) {
			token = id
		}
	}
	if token != "" {
		log.InfoContext(ctx, "resuming the unfinished rotation", "version", token)
	} else {
		token = newVersionID()
	}
	alg := o.Alg
	if alg == "" {
		alg = o.EnvAlg
	}
	if alg == "" && before != nil {
		// The newest key: the successor when there is one, else the only key. The
		// deployment's algorithm, without the operator having to repeat it.
		ks := before.Keys()
		alg = ks[min(1, len(ks)-1)].Algorithm
	}
	opts := []secrets.RotatorOption{secrets.WithClock(o.Now)}
	if public := publicKeysSecret(o.PublicKeysSecret, desc); public != "" {
		// As the rotation function does: discovery follows the new set.
		opts = append(opts, secrets.WithPublicKeysSecret(public))
	}
	r, err := secrets.NewRotator(pendingView{RotationAPI: api, token: token}, alg, log, opts...)
	if err != nil {
		return "", usagef("--alg: %v", err)
	}
	for _, step := range []string{secrets.StepCreate, secrets.StepSet, secrets.StepTest, secrets.StepFinish} {
		if err := r.Handle(ctx, secrets.RotationEvent{SecretID: secretID, ClientRequestToken: token, Step: step}); err != nil {
			return "", fmt.Errorf("rotate in process: %w", err)
		}
	}
	return token, nil
}

// pendingView shows the Rotator the secret as Secrets Manager shows it to a
// rotation function during RotateSecret: rotation enabled, and the new version
// (token) staged AWSPENDING. Secrets Manager stages that version before it invokes
// the function; in process, the CLI stands in for it. Everything else passes
// through, so the steps read and write the real secret.
type pendingView struct {
	secrets.RotationAPI
	token string
}

func (p pendingView) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := p.RotationAPI.DescribeSecret(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	view := *out
	view.RotationEnabled = aws.Bool(true)
	view.VersionIdsToStages = maps.Clone(out.VersionIdsToStages)
	if view.VersionIdsToStages == nil {
		view.VersionIdsToStages = map[string][]string{}
	}
	if _, ok := view.VersionIdsToStages[p.token]; !ok {
		view.VersionIdsToStages[p.token] = []string{secrets.StagePending}
	}
	return &view, nil
}

// newVersionID returns a ClientRequestToken for a new secret version: 32 hex
// characters (Secrets Manager wants 32 to 64).
func newVersionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *env) keysShow(ctx context.Context) error {
	id := e.settings.KeysSecret
	// A missing secret and a secret without keys would both read as "no keys".
	if _, err := e.secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)}); err != nil {
		return fmt.Errorf("describe secret %s: %w", id, err)
	}
	set, err := secrets.LoadKeySet(ctx, e.secrets, id)
	if err != nil {
		return err
	}
	if set == nil {
		return errors.New("secret " + id + " holds no signing keys yet: run keys rotate")
	}
	return e.print(json.RawMessage(set.PublicJSON()))
}
