package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/secrets/secretstest"
)

// functionSM is Secrets Manager with a rotation function configured, which moto
// cannot run (it would need Docker for the Lambda): RotateSecret stages the new
// version, and the "function" makes it current after a few DescribeSecret polls.
type functionSM struct {
	mu          sync.Mutex
	value       string              // AWSCURRENT
	next        string              // the value the function will write
	stages      map[string][]string // version → stages
	finishAfter int                 // polls until the function finishes; < 0: never
	rotations   []*secretsmanager.RotateSecretInput
}

func newFunctionSM(tb testing.TB, finishAfter int) (*functionSM, *keys.Set, *keys.Set) {
	tb.Helper()
	// Rotations two days and one day ago: the successor the CLI sees is old enough.
	now := time.Now()
	current, cur := secretstest.Rotated(tb, nil, keys.RS256, now.Add(-48*time.Hour))
	next, nxt := secretstest.Rotated(tb, current, keys.RS256, now.Add(-24*time.Hour))
	return &functionSM{
		value: cur, next: nxt, finishAfter: finishAfter,
		stages: map[string][]string{"v1": {secrets.StageCurrent}},
	}, current, next
}

func (f *functionSM) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.rotations) > 0 && f.finishAfter >= 0 {
		if f.finishAfter == 0 {
			token := aws.ToString(f.rotations[len(f.rotations)-1].ClientRequestToken)
			if !slices.Contains(f.stages[token], secrets.StageCurrent) {
				f.value = f.next
				f.stages = map[string][]string{"v1": {"AWSPREVIOUS"}, token: {secrets.StageCurrent}}
			}
		}
		f.finishAfter--
	}
	return &secretsmanager.DescribeSecretOutput{
		Name:               in.SecretId,
		RotationEnabled:    aws.Bool(true),
		RotationLambdaARN:  aws.String("arn:aws:lambda:eu-west-1:123456789012:function:pargate-KeyRotationFunction"),
		VersionIdsToStages: f.stages,
	}, nil
}

func (f *functionSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.VersionId != nil || aws.ToString(in.VersionStage) != secrets.StageCurrent {
		return nil, &types.ResourceNotFoundException{Message: aws.String("only AWSCURRENT here")}
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(f.value)}, nil
}

func (f *functionSM) RotateSecret(_ context.Context, in *secretsmanager.RotateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotations = append(f.rotations, in)
	f.stages[aws.ToString(in.ClientRequestToken)] = []string{secrets.StagePending}
	return &secretsmanager.RotateSecretOutput{VersionId: in.ClientRequestToken}, nil
}

var errNotTheCLIs = errors.New("with a rotation function, only the function writes the secret")

func (f *functionSM) PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return nil, errNotTheCLIs
}

func (f *functionSM) UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	return nil, errNotTheCLIs
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestKeysRotate_WithARotationFunctionAsksSecretsManagerAndWaits(t *testing.T) {
	sm, current, next := newFunctionSM(t, 3)
	v, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{Wait: time.Minute, Poll: time.Millisecond}, discard)
	if err != nil {
		t.Fatalf("rotateKeys: %v", err)
	}
	if len(sm.rotations) != 1 {
		t.Fatalf("RotateSecret called %d times", len(sm.rotations))
	}
	in := sm.rotations[0]
	if !aws.ToBool(in.RotateImmediately) || in.RotationLambdaARN != nil || in.RotationRules != nil {
		t.Errorf("RotateSecret input: immediately %v, lambda %v, rules %v; want an immediate rotation of the configured schedule",
			aws.ToBool(in.RotateImmediately), in.RotationLambdaARN, in.RotationRules)
	}
	if n := len(aws.ToString(in.ClientRequestToken)); n < 32 || n > 64 {
		t.Errorf("ClientRequestToken of %d characters, Secrets Manager wants 32 to 64", n)
	}
	if v.RotatedBy != RotatedByFunction || !v.Finished || v.VersionID != aws.ToString(in.ClientRequestToken) {
		t.Errorf("result %+v", v)
	}
	if !slices.Equal(v.PreviousKIDs, current.KeyIDs()) || !slices.Equal(v.KIDs, next.KeyIDs()) || v.ActiveKID != next.Active().KeyID {
		t.Errorf("kids: previous %v, now %v (active %s); want %v then %v", v.PreviousKIDs, v.KIDs, v.ActiveKID, current.KeyIDs(), next.KeyIDs())
	}
	if string(v.JWKS) != string(next.PublicJSON()) {
		t.Errorf("jwks is not the new set's public JWKS:\n%s", v.JWKS)
	}
}

func TestKeysRotate_WithARotationFunctionRefusesAlg(t *testing.T) {
	sm, _, _ := newFunctionSM(t, 0)
	_, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{Alg: keys.ES256, Wait: time.Minute}, discard)
	if err == nil || !strings.Contains(err.Error(), "--in-process") {
		t.Errorf("--alg with a rotation function: %v, want an error that points to --in-process", err)
	}
	if len(sm.rotations) != 0 {
		t.Error("RotateSecret was called")
	}
	// $KEY_ALG is only a default for in-process rotation, not a contradiction.
	if _, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{EnvAlg: keys.ES256, Wait: time.Minute, Poll: time.Millisecond}, discard); err != nil {
		t.Errorf("KEY_ALG set with a rotation function: %v", err)
	}
}

func TestKeysRotate_WithARotationFunctionWaitZeroReturnsAtOnce(t *testing.T) {
	sm, _, _ := newFunctionSM(t, -1)
	v, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{Wait: 0}, discard)
	if err != nil {
		t.Fatal(err)
	}
	if v.Finished || v.VersionID == "" || v.JWKS != nil {
		t.Errorf("--wait 0: %+v, want unfinished with the version and no JWKS", v)
	}
}

func TestKeysRotate_WithARotationFunctionThatDoesNotFinishTimesOut(t *testing.T) {
	sm, _, _ := newFunctionSM(t, -1)
	_, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{Wait: 20 * time.Millisecond, Poll: time.Millisecond}, discard)
	if err == nil || !strings.Contains(err.Error(), "has not finished") {
		t.Errorf("rotateKeys = %v, want a timeout that says the rotation has not finished", err)
	}
}

func TestPendingView_ShowsTheNewVersionStagedOnARotatingSecret(t *testing.T) {
	sm, _, _ := newFunctionSM(t, -1)
	p := pendingView{RotationAPI: sm, token: "t1"}
	out, err := p.DescribeSecret(t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("keys")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.RotationEnabled) || !slices.Equal(out.VersionIdsToStages["t1"], []string{secrets.StagePending}) {
		t.Errorf("view: enabled %v, stages %v", aws.ToBool(out.RotationEnabled), out.VersionIdsToStages)
	}
	if _, ok := sm.stages["t1"]; ok {
		t.Error("the view changed the underlying stages")
	}
}

// With a rotation function, keys rotate refuses a successor
// published less than keys.MinPublished ago before it starts the function (which
// would refuse it too).
func TestKeysRotate_WithARotationFunctionRefusesATooRecentSuccessorFirst(t *testing.T) {
	now := time.Now()
	_, cur := secretstest.Rotated(t, nil, keys.RS256, now.Add(-time.Minute))
	sm := &functionSM{value: cur, finishAfter: 0, stages: map[string][]string{"v1": {secrets.StageCurrent}}}
	_, err := rotateKeys(t.Context(), sm, "keys", rotateOptions{Wait: time.Minute, Poll: time.Millisecond, Now: func() time.Time { return now }}, discard)
	if !errors.Is(err, keys.ErrSuccessorTooNew) {
		t.Fatalf("rotateKeys = %v, want keys.ErrSuccessorTooNew", err)
	}
	if len(sm.rotations) != 0 {
		t.Error("RotateSecret was called")
	}
}
