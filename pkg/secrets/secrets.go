// Package secrets reads the server's secrets from AWS Secrets Manager: the signing key
// set (a [keys.Source] for [keys.Signer], which loads it lazily and re-reads it every
// few minutes), the cookie key set and the DPoP nonce key (cookie.go), and rotates
// the signing key set as the secret's rotation function (see [Rotator]). Local runs and tests use keys.Static,
// keys.FileSource or keys.LoadOrGenerate instead.
//
// Errors a retry may cure (timeouts, throttling, network, server faults) wrap
// [oauth.ErrUnavailable], so a request that needs a key answers
// temporarily_unavailable rather than server_error.
package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
)

// DefaultTimeout bounds one read of a secret, retries included, so a Secrets Manager
// outage fails a request instead of hanging it until the Lambda timeout.
const DefaultTimeout = 5 * time.Second

// The staging labels of Secrets Manager versions.
const (
	StageCurrent = "AWSCURRENT"
	StagePending = "AWSPENDING"
)

// GetSecretValueAPI is the part of *secretsmanager.Client that reading needs.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Option configures a [NewSource].
type Option func(*source)

// WithTimeout sets the bound of one read (default [DefaultTimeout]).
func WithTimeout(d time.Duration) Option {
	return func(s *source) { s.timeout = d }
}

type source struct {
	client   GetSecretValueAPI
	secretID string
	timeout  time.Duration
}

// NewSource returns the key source of the secret secretID: each Load reads its
// AWSCURRENT version and parses it with [keys.ParseSet]. It does no I/O itself; give
// it to [keys.NewSigner], which loads on first use and caches.
func NewSource(client GetSecretValueAPI, secretID string, opts ...Option) keys.Source {
	s := &source{client: client, secretID: secretID, timeout: DefaultTimeout}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *source) Load(ctx context.Context) (*keys.Set, error) {
	data, err := getValue(ctx, s.client, s.secretID, "", StageCurrent, s.timeout)
	if err != nil {
		return nil, err
	}
	set, err := parseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", s.secretID, err)
	}
	if set == nil {
		return nil, fmt.Errorf("secret %s holds no signing keys yet: its rotation function creates them (has it run?)", s.secretID)
	}
	return set, nil
}

// parseKeySet parses a secret value that may not be a key set yet: a new secret holds
// a placeholder ({"keys":[]}, or any non-JSON string) until its first rotation. That
// yields a nil set. A value with keys must be a valid key set.
func parseKeySet(data []byte) (*keys.Set, error) {
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(data, &probe) != nil || len(probe.Keys) == 0 {
		return nil, nil
	}
	return keys.ParseSet(data)
}

// LoadBytes reads the AWSCURRENT value of a secret: its SecretString, or its
// SecretBinary when it has no string. An empty value is an error.
func LoadBytes(ctx context.Context, client GetSecretValueAPI, secretID string) ([]byte, error) {
	return getValue(ctx, client, secretID, "", StageCurrent, DefaultTimeout)
}

// getValue reads one version of a secret, by versionID and/or stage, within timeout.
func getValue(ctx context.Context, client GetSecretValueAPI, secretID, versionID, stage string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := client.GetSecretValue(ctx, in)
	if err != nil {
		return nil, wrapErr(fmt.Sprintf("read secret %s (%s)", secretID, describeVersion(versionID, stage)), err)
	}
	var data []byte
	switch {
	case out.SecretString != nil:
		data = []byte(*out.SecretString)
	default:
		data = out.SecretBinary
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("read secret %s (%s): empty value", secretID, describeVersion(versionID, stage))
	}
	return data, nil
}

func describeVersion(versionID, stage string) string {
	switch {
	case versionID != "" && stage != "":
		return "version " + versionID + " " + stage
	case versionID != "":
		return "version " + versionID
	default:
		return stage
	}
}

// wrapErr adds context to an SDK error, and oauth.ErrUnavailable when a retry may
// succeed.
func wrapErr(op string, err error) error {
	if transient(err) {
		return fmt.Errorf("%s: %w: %w", op, oauth.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
			return true
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return true
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// isNotFound reports whether Secrets Manager has no such secret, or no value for the
// version asked for.
func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}
