package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// The secrets of upstream identity providers (issue 13; docs/design.md decision
// 36): one Secrets Manager secret per provider, named ProviderSecretName(prefix, id)
// under the stack's prefix (template.yaml IDP_SECRET_PREFIX,
// "pargate/<stack>/idp/"), so that IAM grants the authorize function
// secretsmanager:GetSecretValue on "<prefix>*" and nothing else of the kind. Its
// value is a JSON object holding the provider's client_secret or, for
// private_key_jwt, its private_key (the private JWK itself, an object). The table
// item names the secret (oauth.IdentityProvider.SecretID) and never holds either.

// TagIdentityProvider tags a provider's secret with the provider's id.
const TagIdentityProvider = "pargate:identity-provider"

// maxProviderSecret bounds a provider secret's value: a client secret or one JWK
// (an RSA private key of 4096 bits is about 3.3 KB).
const maxProviderSecret = 16 << 10

// ProviderSecretName is the name of the secret of provider id under prefix.
func ProviderSecretName(prefix, id string) string { return prefix + id }

// providerSecret is a provider secret's value.
type providerSecret struct {
	ClientSecret string          `json:"client_secret,omitempty"`
	PrivateKey   json.RawMessage `json:"private_key,omitempty"`
}

// ProviderSecretValue is the secret value of p: its client secret, or its private
// key for private_key_jwt. Exactly one of them must be set.
func ProviderSecretValue(p *oauth.IdentityProvider) (string, error) {
	var v providerSecret
	switch {
	case p.ClientSecret != "" && p.PrivateKey != "":
		return "", fmt.Errorf("identity provider %s: client_secret and private_key are exclusive", p.ID)
	case p.PrivateKey != "":
		key := []byte(strings.TrimSpace(p.PrivateKey))
		var obj map[string]any
		if err := json.Unmarshal(key, &obj); err != nil {
			return "", fmt.Errorf("identity provider %s: private_key is not a JWK (a JSON object)", p.ID)
		}
		if _, ok := obj["d"]; !ok {
			return "", fmt.Errorf("identity provider %s: private_key is not a private JWK (it has no \"d\")", p.ID)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, key); err != nil {
			return "", fmt.Errorf("identity provider %s: private_key: %w", p.ID, err)
		}
		v.PrivateKey = compact.Bytes()
	case p.ClientSecret != "":
		v.ClientSecret = p.ClientSecret
	default:
		return "", fmt.Errorf("identity provider %s: no client_secret or private_key", p.ID)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// ReadProviderSecret reads the secret named name (AWSCURRENT, within DefaultTimeout)
// into p's ClientSecret or PrivateKey, whichever the value holds. Failures a retry
// may cure wrap oauth.ErrUnavailable; the error never carries the value.
func ReadProviderSecret(ctx context.Context, client GetSecretValueAPI, name string, p *oauth.IdentityProvider) error {
	data, err := LoadBytes(ctx, client, name)
	if err != nil {
		return err
	}
	if len(data) > maxProviderSecret {
		return fmt.Errorf("secret %s of identity provider %s: larger than %d bytes", name, p.ID, maxProviderSecret)
	}
	var v providerSecret
	if err := json.Unmarshal(data, &v); err != nil || (v.ClientSecret == "") == (len(v.PrivateKey) == 0) {
		return fmt.Errorf("secret %s of identity provider %s: want a JSON object with client_secret or private_key", name, p.ID)
	}
	p.ClientSecret, p.PrivateKey = v.ClientSecret, string(v.PrivateKey)
	return nil
}

// ProviderSecretsAPI is what writing providers' secrets needs of Secrets Manager.
type ProviderSecretsAPI interface {
	GetSecretValueAPI
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ ProviderSecretsAPI = (*secretsmanager.Client)(nil)

// ProviderSecretOptions say how a new provider secret is kept.
type ProviderSecretOptions struct {
	// KmsKeyID encrypts it (the stack's KmsKey, an ARN); empty is the AWS managed key.
	KmsKeyID string
	// ReplicaRegions get a read-only replica each (the stack's ReplicaRegions, not
	// the witness), encrypted with the same key id there (a multi-Region key).
	ReplicaRegions []string
}

// WriteProviderSecret creates the secret name with value (as o says; tagged
// TagIdentityProvider=id), or, if it exists, puts value as its new AWSCURRENT
// version, which Secrets Manager copies to the replicas it has.
func WriteProviderSecret(ctx context.Context, client ProviderSecretsAPI, name, id, value string, o ProviderSecretOptions) error {
	in := &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		Description:  aws.String("pargate: client credential at upstream identity provider " + id),
		SecretString: aws.String(value),
		Tags:         []types.Tag{{Key: aws.String(TagIdentityProvider), Value: aws.String(id)}},
	}
	if o.KmsKeyID != "" {
		in.KmsKeyId = aws.String(o.KmsKeyID)
	}
	for _, region := range o.ReplicaRegions {
		r := types.ReplicaRegionType{Region: aws.String(region)}
		if _, keyID, ok := strings.Cut(o.KmsKeyID, ":key/"); ok {
			r.KmsKeyId = aws.String(keyID)
		}
		in.AddReplicaRegions = append(in.AddReplicaRegions, r)
	}
	_, err := client.CreateSecret(ctx, in)
	var exists *types.ResourceExistsException
	if errors.As(err, &exists) {
		_, err = client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	}
	if err != nil {
		return wrapErr("write secret "+name, err)
	}
	return nil
}

// DeleteProviderSecret deletes the secret name at once (without a recovery window,
// so that the provider's id can be added again); none is not an error.
func DeleteProviderSecret(ctx context.Context, client ProviderSecretsAPI, name string) error {
	_, err := client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil && !isNotFound(err) {
		return wrapErr("delete secret "+name, err)
	}
	return nil
}

// ProviderWriter is the oauth.ProviderRegistry of a deployment on AWS (the seed
// import): each provider's secret goes to Secrets Manager first, then its item,
// without the secret and naming it, to Items (the table store).
type ProviderWriter struct {
	Secrets ProviderSecretsAPI
	Items   oauth.ProviderRegistry
	// Prefix is the stack's provider secret prefix (IDP_SECRET_PREFIX).
	Prefix string
	// Options are how new secrets are kept (key, replicas).
	Options ProviderSecretOptions
}

var _ oauth.ProviderRegistry = (*ProviderWriter)(nil)

// PutIdentityProvider writes p's secret, then its item.
func (w *ProviderWriter) PutIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error {
	if w.Prefix == "" {
		return errors.New("identity providers: no secret prefix (IDP_SECRET_PREFIX)")
	}
	value, err := ProviderSecretValue(p)
	if err != nil {
		return err
	}
	name := ProviderSecretName(w.Prefix, p.ID)
	if err := WriteProviderSecret(ctx, w.Secrets, name, p.ID, value, w.Options); err != nil {
		return fmt.Errorf("identity provider %s: %w", p.ID, err)
	}
	item := *p
	item.ClientSecret, item.PrivateKey, item.SecretID = "", "", name
	return w.Items.PutIdentityProvider(ctx, &item)
}
