package oauth

import "time"

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
	// Session is the single sign-on session policy (session.go); zero fields take
	// DefaultSessionPolicy's values.
	Session SessionPolicy
	// Login is the brute-force protection of the login form (login.go); zero fields
	// take DefaultLoginPolicy's values.
	Login LoginPolicy
	// ClientRateLimit limits each client's requests at /par, /token, /revoke and
	// /introspect (CLIENT_RATE_LIMIT; a client's rate_limit overrides it); the zero
	// value limits nothing (docs/design.md decision 23).
	ClientRateLimit RateLimit
	// RateCounterTimeout bounds the rate counter's store call; zero means
	// DefaultRateCounterTimeout.
	RateCounterTimeout time.Duration
	// DisableLocalLogin switches the password form off (LOCAL_LOGIN=false): users
	// sign in only through an upstream identity provider (issue 13).
	DisableLocalLogin bool
}

// Service implements the protocol: push, authorize and exchange.
type Service struct {
	cfg        Config
	store      Store
	signer     Signer
	clientKeys ClientKeys
	clients    *clientCache
	nonces     *dpopNonces
	// providers and links are brokered login's (WithFederation; federation.go).
	providers IdentityProviders
	links     AccountLinks
	// logouts delivers back-channel logout tokens (backchannel.go); nil sends none.
	logouts LogoutSender
	// inProcess: the store is InProcess, so no call of it is given a deadline.
	inProcess bool
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
	_, s.inProcess = store.(InProcess)
	return s
}

// StoreInProcess reports whether the service's store is InProcess: its calls cannot
// hang, so neither the service nor the edge bounds them with a deadline.
func (s *Service) StoreInProcess() bool { return s.inProcess }

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Now is the service's clock (injectable through Config.Now for tests).
func (s *Service) Now() time.Time { return s.cfg.Now().UTC() }

func (s *Service) now() time.Time { return s.Now() }
