// Package config reads the server's configuration from environment variables, the
// Lambda way: once, in main, with every problem reported in one error.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Config is the configuration shared by every function and the local server.
type Config struct {
	// Config is the core's configuration as read from the environment, for
	// oauth.NewService; the caller adds what is not configured (the clock and the
	// endpoint URLs). FAPI2 follows Profile.
	oauth.Config
	// TableName is the DynamoDB table; KeysSecretID and CookieSecretID name the
	// Secrets Manager secrets holding the signing JWK set and the cookie key.
	TableName      string
	KeysSecretID   string
	CookieSecretID string
	// SingleItemWrites makes the DynamoDB store write without transactions
	// (DYNAMODB_SINGLE_ITEM_WRITES=true), as a global table with multi-Region strong
	// consistency requires; template.yaml sets it when ReplicaRegions is set
	// (dynamo.SingleItemWrites, docs/multi-region.md).
	SingleItemWrites bool

	// DPoPNonce makes the server demand DPoP nonces (RFC 9449 §8).
	DPoPNonce bool
	Profile   string
	LogLevel  slog.Level
	// Metrics turns on the CloudWatch EMF metrics lines (pkg/metrics): METRICS=true
	// or false; unset, on in Lambda (AWS_LAMBDA_FUNCTION_NAME is set) and off
	// elsewhere, so that a local console stays readable.
	Metrics bool
	// ServiceName is the metrics' Service dimension (SERVICE_NAME; template.yaml
	// sets the stack name), default "pargate".
	ServiceName string

	// KeyAlgorithm is the algorithm of the signing keys this deployment generates
	// (KEY_ALG: the local server's generated key, the rotation function's keys): RS256
	// by default (OIDC Core §15.1), ES256 under fapi2 (keys.go).
	KeyAlgorithm string
	// KeyAlgorithms, when not nil, are the only algorithms the server's key set may
	// hold (under fapi2: PS256, ES256, EdDSA); the signer refuses a set with any other
	// key, naming its kid.
	KeyAlgorithms []string

	// JWKSURIAllowLoopback lets jwks_uri fetches connect to loopback key servers
	// (JWKS_URI_ALLOW_LOOPBACK=true), for local runs only: refused in Lambda (jwks.go).
	JWKSURIAllowLoopback bool
	// BackchannelLogoutAllowLoopback lets back-channel logout POSTs connect to
	// loopback relying parties (BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK=true), for local
	// runs only: refused in Lambda (jwks.go).
	BackchannelLogoutAllowLoopback bool

	// MTLSBaseURL is the https origin that serves the endpoints with mutual TLS
	// (MTLS_BASE_URL, or MTLS_DOMAIN_NAME for https://<name>, which is what
	// template.yaml sets; RFC 8705 §5 mtls_endpoint_aliases): on AWS the API Gateway
	// custom domain with a truststore, locally the TLS listener. Unset, the server
	// publishes no mTLS metadata (mtls.go).
	MTLSBaseURL string
}

// Security profiles (docs/design.md decision 9): the default follows RFC 9126 and OAuth
// 2.1; fapi2 applies the FAPI 2.0 Security Profile.
const (
	ProfileDefault = "default"
	ProfileFAPI2   = "fapi2"
)

// FromEnv reads the configuration with getenv (os.Getenv in production). required
// names variables that must be set for the caller, beyond ISSUER; all missing or
// malformed values are reported together.
func FromEnv(getenv func(string) string, required ...string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	seconds := func(name string, def, lo, hi int) time.Duration {
		raw := get(name, strconv.Itoa(def))
		n, err := strconv.Atoi(raw)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want whole seconds from %d to %d", name, raw, lo, hi))
			return time.Duration(def) * time.Second
		}
		return time.Duration(n) * time.Second
	}
	for _, name := range append([]string{"ISSUER"}, required...) {
		if get(name, "") == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	c := Config{
		Config: oauth.Config{
			Issuer:                get("ISSUER", ""),
			PushedRequestLifetime: seconds("PAR_EXPIRES_IN", 60, 5, 600),
			TransactionLifetime:   seconds("TRANSACTION_LIFETIME", 600, 60, 3600),
			CodeLifetime:          seconds("CODE_LIFETIME", 60, 1, 600),
			AccessTokenLifetime:   seconds("ACCESS_TOKEN_LIFETIME", 600, 60, 86400),
			IDTokenLifetime:       seconds("ID_TOKEN_LIFETIME", 600, 60, 86400),
			RefreshTokenLifetime:  seconds("REFRESH_TOKEN_LIFETIME", 14*86400, 60, 365*86400),
			GrantLifetime:         seconds("GRANT_LIFETIME", 30*86400, 60, 365*86400),
			ClientCacheTTL:        seconds("CLIENT_CACHE_TTL", 30, 0, 600),
			// Single sign-on sessions (OIDC Core §3.1.2.1; oauth.SessionPolicy).
			Session: oauth.SessionPolicy{
				IdleTimeout: seconds("SESSION_IDLE_TIMEOUT", 1800, 60, 86400),
				Lifetime:    seconds("SESSION_LIFETIME", 43200, 300, 30*86400),
			},
		},
		TableName:      get("TABLE_NAME", ""),
		KeysSecretID:   get("KEYS_SECRET_ID", ""),
		CookieSecretID: get("COOKIE_SECRET_ID", ""),
		Profile:        get("PROFILE", ProfileDefault),
		ServiceName:    get("SERVICE_NAME", "pargate"),
	}
	if c.Issuer != "" {
		if err := checkIssuer(c.Issuer); err != nil {
			errs = append(errs, err)
		}
	}
	boolean := func(name string) bool {
		switch v := get(name, "false"); v {
		case "true", "false":
			return v == "true"
		default:
			errs = append(errs, fmt.Errorf("%s=%q: want true or false", name, v))
			return false
		}
	}
	c.RequirePAR = boolean("REQUIRE_PAR")
	c.RequireSignedRequestObject = boolean("REQUIRE_SIGNED_REQUEST_OBJECT")
	c.DPoPNonce = boolean("DPOP_NONCE")
	// LOCAL_LOGIN=false switches the password form off (issue 13): users sign in
	// only through an upstream identity provider.
	switch v := get("LOCAL_LOGIN", "true"); v {
	case "true", "false":
		c.DisableLocalLogin = v == "false"
	default:
		errs = append(errs, fmt.Errorf("LOCAL_LOGIN=%q: want true or false", v))
	}
	c.SingleItemWrites = boolean("DYNAMODB_SINGLE_ITEM_WRITES")
	if get("METRICS", "") == "" {
		c.Metrics = get("AWS_LAMBDA_FUNCTION_NAME", "") != ""
	} else {
		c.Metrics = boolean("METRICS")
	}
	if types, err := oauth.ParseDetailsTypes(get("AUTHORIZATION_DETAILS_TYPES", "")); err != nil {
		errs = append(errs, fmt.Errorf("AUTHORIZATION_DETAILS_TYPES: %w", err))
	} else {
		c.AuthorizationDetailsTypes = types
	}
	if c.RefreshTokenLifetime > c.GrantLifetime {
		errs = append(errs, errors.New("REFRESH_TOKEN_LIFETIME must not exceed GRANT_LIFETIME"))
	}
	switch c.Profile {
	case ProfileDefault:
	case ProfileFAPI2:
		c.FAPI2 = true
		errs = append(errs, c.checkFAPI2(getenv)...)
	default:
		errs = append(errs, fmt.Errorf("PROFILE=%q: want %q or %q", c.Profile, ProfileDefault, ProfileFAPI2))
	}
	if alg, allowed, err := keyAlgorithm(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.KeyAlgorithm, c.KeyAlgorithms = alg, allowed
	}
	if allow, err := jwksURIAllowLoopback(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.JWKSURIAllowLoopback = allow
	}
	if allow, err := backchannelLogoutAllowLoopback(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.BackchannelLogoutAllowLoopback = allow
	}
	if base, err := mtlsBaseURL(get("MTLS_BASE_URL", ""), get("MTLS_DOMAIN_NAME", "")); err != nil {
		errs = append(errs, err)
	} else {
		c.MTLSBaseURL = base
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	var loginErrs []error
	c.Login, loginErrs = loginPolicy(getenv) // login.go
	errs = append(errs, loginErrs...)
	if l, err := clientRateLimit(getenv); err != nil { // ratelimit.go
		errs = append(errs, err)
	} else {
		c.ClientRateLimit = l
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// checkFAPI2 refuses settings that contradict the FAPI 2.0 Security Profile and
// applies what it requires, so a deployment cannot believe it is FAPI while it is not.
func (c *Config) checkFAPI2(getenv func(string) string) []error {
	var errs []error
	// FAPI 2.0 §5.3.2.2: "shall reject authorization requests sent without [RFC9126]".
	if v := strings.TrimSpace(getenv("REQUIRE_PAR")); v == "false" {
		errs = append(errs, errors.New("PROFILE=fapi2 requires pushed authorization requests: unset REQUIRE_PAR or set it to true"))
	}
	c.RequirePAR = true
	// FAPI 2.0 §5.3.2.2 note 2: request_uri expires_in "of less than 600 seconds".
	if c.PushedRequestLifetime >= 600*time.Second {
		errs = append(errs, fmt.Errorf("PROFILE=fapi2 requires PAR_EXPIRES_IN below 600 (got %d)", int(c.PushedRequestLifetime.Seconds())))
	}
	// FAPI 2.0 §5.3.2.1: "shall issue authorization codes with a maximum lifetime of 60 seconds".
	if c.CodeLifetime > 60*time.Second {
		errs = append(errs, fmt.Errorf("PROFILE=fapi2 requires CODE_LIFETIME of at most 60 (got %d)", int(c.CodeLifetime.Seconds())))
	}
	return errs
}

// checkIssuer enforces RFC 8414 §2: "a URL that uses the https scheme and has no
// query or fragment components". Plain http is allowed only on loopback, for local runs.
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return fmt.Errorf("ISSUER=%q: not an absolute URL", issuer)
	}
	switch {
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(issuer, "#") || strings.HasSuffix(issuer, "?"):
		return fmt.Errorf("ISSUER=%q: must have no query or fragment (RFC 8414 §2)", issuer)
	case strings.HasSuffix(issuer, "/"):
		return fmt.Errorf("ISSUER=%q: must not end with a slash", issuer)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("ISSUER=%q: must use https (http only on 127.0.0.1 or localhost)", issuer)
	}
}

// IsLoopback reports whether host names this machine (oauth.IsLoopback).
func IsLoopback(host string) bool { return oauth.IsLoopback(host) }
