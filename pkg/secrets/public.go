package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
)

// PublishAPI is what [PublishPublicKeys] calls.
type PublishAPI interface {
	GetSecretValueAPI
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// PublishPublicKeys makes the public keys secret publicID hold the public JWK Set of
// set as its AWSCURRENT value, and reports whether it wrote. It writes only when the
// stored document differs (the SDK names the new version), so a retry, a stack update
// or a second run writes nothing new. The first key set
// (Rotator.EnsureKeySet, on the stack's Create and Update), a revocation (pargate
// keys revoke) and, through the rotation's own write, every finishSecret call it, so
// discovery follows every change of the signing keys.
func PublishPublicKeys(ctx context.Context, client PublishAPI, publicID string, set *keys.Set) (bool, error) {
	doc := set.PublicJSON()
	stored, err := getValue(ctx, client, publicID, "", StageCurrent, DefaultTimeout)
	if err == nil && bytes.Equal(stored, doc) {
		return false, nil
	}
	if err != nil && !isNotFound(err) {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	_, err = client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:     aws.String(publicID),
		SecretString: aws.String(string(doc)),
	})
	if err != nil {
		return false, wrapErr("publish the public key set to "+publicID, err)
	}
	return true, nil
}

// PublicKeys is the discovery function's key set: the public JWK Set the rotation
// function publishes to a secret of its own ([WithPublicKeysSecret]), read with a
// timeout and cached for [keys.DefaultRefresh], like the signer's. It serves the JWKS
// and the algorithms (httpapi.KeySet) without access to the private keys.
type PublicKeys struct {
	client   GetSecretValueAPI
	secretID string
	refresh  time.Duration
	now      func() time.Time

	mu     sync.Mutex
	doc    []byte
	algs   []string
	loaded time.Time
}

// NewPublicKeys reads the public JWK Set from the secret secretID.
func NewPublicKeys(client GetSecretValueAPI, secretID string) *PublicKeys {
	return &PublicKeys{client: client, secretID: secretID, refresh: keys.DefaultRefresh, now: time.Now}
}

// PublicJWKS returns the published JWK Set document (RFC 7517 §5) as it is stored.
func (p *PublicKeys) PublicJWKS(ctx context.Context) ([]byte, error) {
	doc, _, err := p.load(ctx)
	return doc, err
}

// LoadAlgorithms returns the algorithms of the published keys, in their order (the
// order of keys.Set.Algorithms).
func (p *PublicKeys) LoadAlgorithms(ctx context.Context) ([]string, error) {
	_, algs, err := p.load(ctx)
	return algs, err
}

// load returns the cached document, reading it on first use and once the refresh
// interval has passed; a failed refresh keeps the cached one.
func (p *PublicKeys) load(ctx context.Context) ([]byte, []string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.doc != nil && p.now().Sub(p.loaded) < p.refresh {
		return p.doc, p.algs, nil
	}
	doc, algs, err := p.read(ctx)
	if err != nil {
		if p.doc != nil {
			return p.doc, p.algs, nil
		}
		return nil, nil, err
	}
	p.doc, p.algs, p.loaded = doc, algs, p.now()
	return doc, algs, nil
}

func (p *PublicKeys) read(ctx context.Context) ([]byte, []string, error) {
	data, err := getValue(ctx, p.client, p.secretID, "", StageCurrent, DefaultTimeout)
	if err != nil {
		return nil, nil, err
	}
	var set struct {
		Keys []struct {
			Alg string `json:"alg"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("public key set %s: %w", p.secretID, err)
	}
	if len(set.Keys) == 0 {
		return nil, nil, fmt.Errorf("public key set %s: no keys published yet", p.secretID)
	}
	var algs []string
	for _, k := range set.Keys {
		if k.D != "" {
			// Never serve a private key, whatever the secret holds.
			return nil, nil, fmt.Errorf("public key set %s holds a private key", p.secretID)
		}
		if !slices.Contains(algs, k.Alg) {
			algs = append(algs, k.Alg)
		}
	}
	return data, algs, nil
}
