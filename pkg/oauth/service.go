package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"
)

// Config holds the policy of the authorization server.
type Config struct {
	// Issuer is the issuer identifier (RFC 8414 §2), e.g. https://auth.example.com.
	Issuer string
	// PushedRequestLifetime is the default request_uri expires_in (RFC 9126 §2.2).
	PushedRequestLifetime time.Duration
	// TransactionLifetime bounds the whole authorization transaction: login and
	// consent may take this long after the request_uri was first used.
	TransactionLifetime time.Duration
	// CodeLifetime bounds the authorization code (RFC 6749 §4.1.2; FAPI 2.0: ≤ 60 s).
	CodeLifetime        time.Duration
	AccessTokenLifetime time.Duration
	IDTokenLifetime     time.Duration
	// RefreshTokenLifetime bounds each refresh token; GrantLifetime bounds the whole
	// family of tokens from one authorization.
	RefreshTokenLifetime time.Duration
	GrantLifetime        time.Duration
	// AuthorizationDetailsTypes are the RAR types accepted (RFC 9396 §10.1); none
	// means authorization_details is refused.
	AuthorizationDetailsTypes map[string]DetailsType
	// AccessTokenAudience is the `aud` of access tokens (RFC 9068 §3).
	AccessTokenAudience string
	// RequirePAR makes pushed requests the only way to /authorize (RFC 9126 §5).
	RequirePAR bool
	// RequireSignedRequestObject makes request objects mandatory for every client
	// (RFC 9101 §10.5 require_signed_request_object).
	RequireSignedRequestObject bool
	// FAPI2 applies the FAPI 2.0 Security Profile (docs/design.md decision 9).
	FAPI2 bool
	// TokenEndpoint and PAREndpoint are the endpoint URLs, accepted as client
	// assertion audiences (RFC 9126 §2).
	TokenEndpoint string
	PAREndpoint   string
	// ClientCacheTTL is how long a read client is reused; 0 reads it on every request.
	ClientCacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service implements the protocol: push, authorize and exchange.
type Service struct {
	cfg        Config
	store      Store
	signer     Signer
	clientKeys ClientKeys
	clients    *clientCache
	nonces     *dpopNonces
}

// Option configures a Service.
type Option func(*Service)

// WithClientKeys sets how clients' public keys are found (default RegisteredKeys).
func WithClientKeys(k ClientKeys) Option { return func(s *Service) { s.clientKeys = k } }

// NewService returns a service over store, signing tokens with signer.
func NewService(cfg Config, store Store, signer Signer, opts ...Option) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AccessTokenAudience == "" {
		cfg.AccessTokenAudience = cfg.Issuer
	}
	s := &Service{cfg: cfg, store: store, signer: signer, clientKeys: RegisteredKeys{},
		clients: &clientCache{ttl: cfg.ClientCacheTTL, m: map[string]cachedClient{}}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Now is the service's clock (injectable through Config.Now for tests).
func (s *Service) Now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) now() time.Time { return s.Now() }

// randomValue returns 32 bytes (256 bits) from crypto/rand, base64url-encoded: more
// than RFC 6749 §10.10's 2^-160 guessing bound asks of codes and references.
func randomValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashKey is the storage key of a secret reference (request_uri reference, code): a
// leaked table hands out no usable value (docs/design.md decision 1).
func HashKey(value string) string {
	sum := sha256.Sum256([]byte(value))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PushResult is the body of a successful pushed authorization response (RFC 9126 §2.2).
type PushResult struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// Push validates and stores a pushed authorization request for an authenticated client
// (RFC 9126 §2.1).
func (s *Service) Push(ctx context.Context, client *Client, params url.Values, dpop DPoP) (*PushResult, error) {
	if err := checkParams(params); err != nil {
		return nil, err
	}
	// RFC 9126 §2.1: "The request_uri authorization request parameter is one
	// exception, and it MUST NOT be provided."
	if _, ok := params["request_uri"]; ok {
		return nil, InvalidRequest("request_uri must not be sent to the pushed authorization request endpoint")
	}
	if raw := params.Get("request"); raw != "" {
		var err error
		if params, err = s.requestObjectParams(ctx, client, raw); err != nil {
			return nil, err
		}
	} else if s.cfg.RequireSignedRequestObject || client.RequireSignedRequestObject {
		// RFC 9126 §2.3: such a server "MUST refuse any other request with HTTP status
		// code 400 and error code invalid_request".
		return nil, InvalidRequest("this client must push a signed request object (the request parameter)")
	}
	// RFC 9126 §2.1 step 3: "Validate the pushed request as it would an authorization
	// request sent to the authorization endpoint." All errors are JSON here, so the
	// redirect flag is dropped by the edge.
	req, err := s.validateRequest(client, params, true)
	if err != nil {
		return nil, err
	}
	// RFC 9449 §10.1: a DPoP proof sent with the push binds the code like dpop_jkt;
	// "If both mechanisms are used at the same time, the authorization server MUST
	// reject the request if the JWK Thumbprint in dpop_jkt does not match".
	jkt, err := s.verifyDPoP(ctx, client.ID, dpop)
	if err != nil {
		return nil, err
	}
	if jkt != "" {
		if req.DPoPJKT != "" && req.DPoPJKT != jkt {
			return nil, InvalidRequest("dpop_jkt does not match the key of the DPoP proof")
		}
		req.DPoPJKT = jkt
	}
	lifetime := s.cfg.PushedRequestLifetime
	if client.PushedRequestLifetime > 0 {
		lifetime = time.Duration(client.PushedRequestLifetime) * time.Second
	}
	uri, err := s.storeRequest(ctx, client, req, true, lifetime)
	if err != nil {
		return nil, err
	}
	return &PushResult{RequestURI: uri, ExpiresIn: int(lifetime / time.Second)}, nil
}

// storeRequest saves req as a pending authorization request and returns its request_uri.
func (s *Service) storeRequest(ctx context.Context, client *Client, req *AuthorizationRequest, pushed bool, lifetime time.Duration) (string, error) {
	// RFC 9126 §2.2: the request_uri "MUST contain some part generated using a
	// cryptographically strong pseudorandom algorithm".
	ref, err := randomValue()
	if err != nil {
		return "", ServerError(err)
	}
	now := s.now()
	deadline := now.Add(max(s.cfg.TransactionLifetime, lifetime))
	rec := &PushedRequest{
		Key:       HashKey(ref),
		ClientID:  client.ID, // RFC 9126 §2.2: "MUST be bound to the client".
		Pushed:    pushed,
		Request:   *req,
		CreatedAt: now,
		RedeemBy:  now.Add(lifetime),
		Deadline:  deadline,
	}
	if err := s.store.CreatePushedRequest(ctx, rec); err != nil {
		return "", AsError(fmt.Errorf("store pushed request: %w", err))
	}
	return RequestURIPrefix + ref, nil
}
