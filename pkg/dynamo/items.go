package dynamo

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// Key prefixes give each kind of record its own key space in the one table. Pushed
// requests, codes and refresh tokens are keyed by the hash the core computed, never
// by the reference, code or token itself (docs/design.md decision 1). They are
// exported for template.yaml's policy test: each function's IAM policy limits it to
// the prefixes it uses (dynamodb:LeadingKeys), and the test checks the two agree.
const (
	PrefixPushed = "par#"
	PrefixCode   = "code#"
	PrefixClient = "client#"
	PrefixUser   = "user#"
	PrefixReplay = "replay#"
	PrefixGrant  = "grant#"
	PrefixRT     = "rt#"
)

// Attribute names used in key, condition and update expressions.
const (
	attrPK         = "pk"
	attrClientID   = "client_id"
	attrConsumedAt = "consumed_at"
	attrDeadline   = "deadline"
	attrExpiresAt  = "expires_at"
	attrGrantID    = "grant_id"
	attrRevokedAt  = "revoked_at"
	attrUsedAt     = "used_at"
	attrTTL        = "ttl"
	// attrWriteID and attrConsumedBy hold the write ID of the store call that
	// created the item or consumed the code (see newWriteID).
	attrWriteID    = "write_id"
	attrConsumedBy = "consumed_by"
)

// ttlSlack is added to a record's last deadline for its DynamoDB TTL. TTL is
// housekeeping, not correctness (docs/design.md decision 3): the conditions check the
// deadlines themselves, and the slack keeps consumed records a while for diagnosis.
const ttlSlack = time.Hour

// The item types below are the table's schema: one readable attribute per field,
// times as epoch milliseconds (N) so that conditions can compare them with the
// caller's clock, and `ttl` in epoch seconds as DynamoDB TTL requires. The nested
// authorization request keeps the JSON names of the oauth types (see jsonTags).
// authorization_details (RFC 9396) is kept as the JSON text it came as, byte for
// byte, in a string attribute: readable, and exactly what the core validated.

type pushedItem struct {
	PK         string      `dynamodbav:"pk"`
	ClientID   string      `dynamodbav:"client_id"`
	Pushed     bool        `dynamodbav:"pushed"`
	Request    requestAttr `dynamodbav:"request"`
	CreatedAt  int64       `dynamodbav:"created_at"`
	RedeemBy   int64       `dynamodbav:"redeem_by"`
	Deadline   int64       `dynamodbav:"deadline"`
	ConsumedAt *int64      `dynamodbav:"consumed_at,omitempty"` // absent until consumed: the conditions test attribute_not_exists
	TTL        int64       `dynamodbav:"ttl"`
}

type codeItem struct {
	PK                  string         `dynamodbav:"pk"`
	ClientID            string         `dynamodbav:"client_id"`
	RedirectURI         string         `dynamodbav:"redirect_uri"`
	RedirectURIGiven    bool           `dynamodbav:"redirect_uri_given"`
	Scopes              []string       `dynamodbav:"scope,omitempty"`
	Nonce               string         `dynamodbav:"nonce,omitempty"`
	DPoPJKT             string         `dynamodbav:"dpop_jkt,omitempty"`
	CodeChallenge       string         `dynamodbav:"code_challenge"`
	CodeChallengeMethod string         `dynamodbav:"code_challenge_method"`
	Subject             string         `dynamodbav:"sub"`
	AuthTime            int64          `dynamodbav:"auth_time"`
	AMR                 []string       `dynamodbav:"amr,omitempty"`
	SID                 string         `dynamodbav:"sid,omitempty"`
	ACR                 string         `dynamodbav:"acr,omitempty"`
	IDP                 string         `dynamodbav:"idp,omitempty"`
	Claims              map[string]any `dynamodbav:"claims,omitempty"`
	// AuthorizationDetails is JSON text, byte for byte (see above).
	AuthorizationDetails string   `dynamodbav:"authorization_details,omitempty"`
	Resources            []string `dynamodbav:"resource,omitempty"`
	GrantID              string   `dynamodbav:"grant_id"`
	IssuedAt             int64    `dynamodbav:"issued_at"`
	ExpiresAt            int64    `dynamodbav:"expires_at"`
	ConsumedAt           *int64   `dynamodbav:"consumed_at,omitempty"`
	TTL                  int64    `dynamodbav:"ttl"`
}

// grantItem is a grant under grant#<id>. revoked_at is absent until revoked: the
// conditions of CreateRefreshToken and RotateRefreshToken test attribute_not_exists.
type grantItem struct {
	PK                   string         `dynamodbav:"pk"`
	ClientID             string         `dynamodbav:"client_id"`
	Subject              string         `dynamodbav:"sub"`
	Username             string         `dynamodbav:"username,omitempty"`
	Scopes               []string       `dynamodbav:"scope,omitempty"`
	AuthTime             int64          `dynamodbav:"auth_time"`
	AMR                  []string       `dynamodbav:"amr,omitempty"`
	SID                  string         `dynamodbav:"sid,omitempty"`
	ACR                  string         `dynamodbav:"acr,omitempty"`
	IDP                  string         `dynamodbav:"idp,omitempty"`
	Claims               map[string]any `dynamodbav:"claims,omitempty"`
	AuthorizationDetails string         `dynamodbav:"authorization_details,omitempty"`
	Resources            []string       `dynamodbav:"resource,omitempty"`
	CreatedAt            int64          `dynamodbav:"created_at"`
	ExpiresAt            int64          `dynamodbav:"expires_at"`
	RevokedAt            *int64         `dynamodbav:"revoked_at,omitempty"`
	TTL                  int64          `dynamodbav:"ttl"`
}

// refreshItem is a refresh token under rt#<hash>. used_at is absent until the token
// is rotated.
type refreshItem struct {
	PK        string   `dynamodbav:"pk"`
	GrantID   string   `dynamodbav:"grant_id"`
	ClientID  string   `dynamodbav:"client_id"`
	Scopes    []string `dynamodbav:"scope,omitempty"`
	DPoPJKT   string   `dynamodbav:"dpop_jkt,omitempty"`
	X5TS256   string   `dynamodbav:"x5t_s256,omitempty"`
	IssuedAt  int64    `dynamodbav:"issued_at"`
	ExpiresAt int64    `dynamodbav:"expires_at"`
	UsedAt    *int64   `dynamodbav:"used_at,omitempty"`
	TTL       int64    `dynamodbav:"ttl"`
}

type clientItem struct {
	PK                                 string   `dynamodbav:"pk"`
	ID                                 string   `dynamodbav:"client_id"`
	Name                               string   `dynamodbav:"client_name,omitempty"`
	SecretHash                         []byte   `dynamodbav:"client_secret_sha256,omitempty"`
	ApplicationType                    string   `dynamodbav:"application_type,omitempty"`
	RedirectURIs                       []string `dynamodbav:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod            string   `dynamodbav:"token_endpoint_auth_method"`
	GrantTypes                         []string `dynamodbav:"grant_types,omitempty"`
	ResponseTypes                      []string `dynamodbav:"response_types,omitempty"`
	Scope                              string   `dynamodbav:"scope,omitempty"`
	RequirePushedAuthorizationRequests bool     `dynamodbav:"require_pushed_authorization_requests"`
	PushedRequestLifetime              int      `dynamodbav:"pushed_request_lifetime,omitempty"`
	// JWKS is kept as the JSON text it came as, byte for byte, and readable.
	JWKS                        string `dynamodbav:"jwks,omitempty"`
	JWKSURI                     string `dynamodbav:"jwks_uri,omitempty"`
	TokenEndpointAuthSigningAlg string `dynamodbav:"token_endpoint_auth_signing_alg,omitempty"`
	RequestObjectSigningAlg     string `dynamodbav:"request_object_signing_alg,omitempty"`
	// AuthorizationSignedResponseAlg is JARM §3 client metadata.
	AuthorizationSignedResponseAlg string   `dynamodbav:"authorization_signed_response_alg,omitempty"`
	RequireSignedRequestObject     bool     `dynamodbav:"require_signed_request_object"`
	PushedRedirectURIPrefixes      []string `dynamodbav:"pushed_redirect_uri_prefixes,omitempty"`
	DPoPBoundAccessTokens          bool     `dynamodbav:"dpop_bound_access_tokens"`
	TokenIntrospectionAllowed      bool     `dynamodbav:"token_introspection_allowed"`
	RequireAuthTime                bool     `dynamodbav:"require_auth_time,omitempty"`
	AuthorizationDetailsTypes      []string `dynamodbav:"authorization_details_types,omitempty"`
	// RFC 8705 client metadata.
	TLSClientAuthSubjectDN                string   `dynamodbav:"tls_client_auth_subject_dn,omitempty"`
	TLSClientAuthSANDNS                   string   `dynamodbav:"tls_client_auth_san_dns,omitempty"`
	TLSClientAuthSANURI                   string   `dynamodbav:"tls_client_auth_san_uri,omitempty"`
	TLSClientAuthSANIP                    string   `dynamodbav:"tls_client_auth_san_ip,omitempty"`
	TLSClientAuthSANEmail                 string   `dynamodbav:"tls_client_auth_san_email,omitempty"`
	TLSClientCertificateBoundAccessTokens bool     `dynamodbav:"tls_client_certificate_bound_access_tokens,omitempty"`
	Resources                             []string `dynamodbav:"resources,omitempty"`
	RateLimit                             string   `dynamodbav:"rate_limit,omitempty"`
	AllowedOrigins                        []string `dynamodbav:"allowed_origins,omitempty"`
	Consent                               string   `dynamodbav:"consent,omitempty"`
	PostLogoutRedirectURIs                []string `dynamodbav:"post_logout_redirect_uris,omitempty"`
	// IdentityProviders keeps absent (NULL, or no attribute: every provider) apart
	// from empty (an empty list: none), so it has no omitempty.
	IdentityProviders                []string `dynamodbav:"identity_providers"`
	BackchannelLogoutURI             string   `dynamodbav:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool     `dynamodbav:"backchannel_logout_session_required,omitempty"`
	Disabled                         bool     `dynamodbav:"disabled"`
}

// replayItem records a one-time identifier (UseOnce) until expires_at.
type replayItem struct {
	PK        string `dynamodbav:"pk"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
	TTL       int64  `dynamodbav:"ttl"`
}

type userItem struct {
	PK           string         `dynamodbav:"pk"`
	Username     string         `dynamodbav:"username"`
	PasswordHash string         `dynamodbav:"password_hash"`
	Claims       map[string]any `dynamodbav:"claims,omitempty"`
	Disabled     bool           `dynamodbav:"disabled"`
	// Subject is the user's `sub` (oauth.User.Sub). It is not named `sub`: that
	// attribute keys the grants-by-user index, which holds grants only.
	Subject string `dynamodbav:"subject,omitempty"`
	// TokensValidAfter is oauth.User.TokensValidAfter in epoch milliseconds; 0 is none.
	TokensValidAfter int64 `dynamodbav:"tokens_valid_after,omitempty"`
}

// jsonTags lets the nested oauth.AuthorizationRequest keep its JSON field names
// ("redirect_uri", "code_challenge"…) rather than Go's; dynamodbav tags still win.
func jsonTags(o *attributevalue.EncoderOptions) { o.TagKey = "json" }

func jsonTagsDecode(o *attributevalue.DecoderOptions) { o.TagKey = "json" }

func marshal(item any) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMapWithOptions(item, jsonTags)
	if err != nil {
		return nil, fmt.Errorf("marshal item: %w", err)
	}
	return av, nil
}

func unmarshal(av map[string]types.AttributeValue, item any) error {
	if err := attributevalue.UnmarshalMapWithOptions(av, item, jsonTagsDecode); err != nil {
		return fmt.Errorf("unmarshal item: %w", err)
	}
	return nil
}

// requestAttr stores an oauth.AuthorizationRequest as a map with its JSON field
// names, authorization_details as a string attribute holding the JSON text.
type requestAttr oauth.AuthorizationRequest

const attrAuthorizationDetails = "authorization_details"

// MarshalDynamoDBAttributeValue implements attributevalue.Marshaler.
func (r requestAttr) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	req := oauth.AuthorizationRequest(r)
	details := req.AuthorizationDetails
	req.AuthorizationDetails = nil
	req.Scopes = nilIfEmpty(req.Scopes)
	req.Resources = nilIfEmpty(req.Resources)
	av, err := attributevalue.MarshalWithOptions(req, jsonTags)
	if err != nil {
		return nil, err
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("authorization request marshalled as %T, not a map", av)
	}
	if len(details) > 0 {
		m.Value[attrAuthorizationDetails] = &types.AttributeValueMemberS{Value: string(details)}
	}
	return m, nil
}

// UnmarshalDynamoDBAttributeValue implements attributevalue.Unmarshaler.
func (r *requestAttr) UnmarshalDynamoDBAttributeValue(av types.AttributeValue) error {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return fmt.Errorf("authorization request stored as %T, not a map", av)
	}
	rest := make(map[string]types.AttributeValue, len(m.Value))
	var details json.RawMessage
	for k, v := range m.Value {
		if k != attrAuthorizationDetails {
			rest[k] = v
			continue
		}
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return fmt.Errorf("authorization request: %s stored as %T, not a string", k, v)
		}
		details = rawJSON(s.Value)
	}
	var req oauth.AuthorizationRequest
	if err := attributevalue.UnmarshalMapWithOptions(rest, &req, jsonTagsDecode); err != nil {
		return err
	}
	req.AuthorizationDetails = details
	*r = requestAttr(req)
	return nil
}

func toPushedItem(r *oauth.PushedRequest) pushedItem {
	return pushedItem{
		PK:         PrefixPushed + r.Key,
		ClientID:   r.ClientID,
		Pushed:     r.Pushed,
		Request:    requestAttr(r.Request),
		CreatedAt:  millis(r.CreatedAt),
		RedeemBy:   millis(r.RedeemBy),
		Deadline:   millis(r.Deadline),
		ConsumedAt: millisPtr(r.ConsumedAt),
		TTL:        ttl(r.RedeemBy, r.Deadline),
	}
}

func (it *pushedItem) pushedRequest() *oauth.PushedRequest {
	return &oauth.PushedRequest{
		Key:        it.PK[len(PrefixPushed):],
		ClientID:   it.ClientID,
		Pushed:     it.Pushed,
		Request:    oauth.AuthorizationRequest(it.Request),
		CreatedAt:  fromMillis(it.CreatedAt),
		RedeemBy:   fromMillis(it.RedeemBy),
		Deadline:   fromMillis(it.Deadline),
		ConsumedAt: fromMillisPtr(it.ConsumedAt),
	}
}

func toCodeItem(c *oauth.AuthorizationCode) (codeItem, error) {
	claims, err := oauth.NormalizeClaims(c.Claims)
	if err != nil {
		return codeItem{}, err
	}
	return codeItem{
		PK:                   PrefixCode + c.Key,
		ClientID:             c.ClientID,
		RedirectURI:          c.RedirectURI,
		RedirectURIGiven:     c.RedirectURIGiven,
		Scopes:               nilIfEmpty(c.Scopes),
		Nonce:                c.Nonce,
		DPoPJKT:              c.DPoPJKT,
		CodeChallenge:        c.CodeChallenge,
		CodeChallengeMethod:  c.CodeChallengeMethod,
		Subject:              c.Subject,
		AuthTime:             millis(c.AuthTime),
		AMR:                  nilIfEmpty(c.AMR),
		SID:                  c.SID,
		ACR:                  c.ACR,
		IDP:                  c.IDP,
		Claims:               claims,
		AuthorizationDetails: string(c.AuthorizationDetails),
		Resources:            nilIfEmpty(c.Resources),
		GrantID:              c.GrantID,
		IssuedAt:             millis(c.IssuedAt),
		ExpiresAt:            millis(c.ExpiresAt),
		ConsumedAt:           millisPtr(c.ConsumedAt),
		TTL:                  ttl(c.ExpiresAt),
	}, nil
}

func (it *codeItem) code() *oauth.AuthorizationCode {
	return &oauth.AuthorizationCode{
		Key:                  it.PK[len(PrefixCode):],
		ClientID:             it.ClientID,
		RedirectURI:          it.RedirectURI,
		RedirectURIGiven:     it.RedirectURIGiven,
		Scopes:               it.Scopes,
		Nonce:                it.Nonce,
		DPoPJKT:              it.DPoPJKT,
		CodeChallenge:        it.CodeChallenge,
		CodeChallengeMethod:  it.CodeChallengeMethod,
		Subject:              it.Subject,
		AuthTime:             fromMillis(it.AuthTime),
		AMR:                  it.AMR,
		SID:                  it.SID,
		ACR:                  it.ACR,
		IDP:                  it.IDP,
		Claims:               it.Claims,
		AuthorizationDetails: rawJSON(it.AuthorizationDetails),
		Resources:            it.Resources,
		GrantID:              it.GrantID,
		IssuedAt:             fromMillis(it.IssuedAt),
		ExpiresAt:            fromMillis(it.ExpiresAt),
		ConsumedAt:           fromMillisPtr(it.ConsumedAt),
	}
}

func toGrantItem(g *oauth.Grant) (grantItem, error) {
	claims, err := oauth.NormalizeClaims(g.Claims)
	if err != nil {
		return grantItem{}, err
	}
	return grantItem{
		PK:                   PrefixGrant + g.ID,
		ClientID:             g.ClientID,
		Subject:              g.Subject,
		Username:             g.Username,
		Scopes:               nilIfEmpty(g.Scopes),
		AuthTime:             millis(g.AuthTime),
		AMR:                  nilIfEmpty(g.AMR),
		SID:                  g.SID,
		ACR:                  g.ACR,
		IDP:                  g.IDP,
		Claims:               claims,
		AuthorizationDetails: string(g.AuthorizationDetails),
		Resources:            nilIfEmpty(g.Resources),
		CreatedAt:            millis(g.CreatedAt),
		ExpiresAt:            millis(g.ExpiresAt),
		RevokedAt:            millisPtr(g.RevokedAt),
		TTL:                  ttl(g.ExpiresAt),
	}, nil
}

func (it *grantItem) grant() *oauth.Grant {
	return &oauth.Grant{
		ID:                   it.PK[len(PrefixGrant):],
		ClientID:             it.ClientID,
		Subject:              it.Subject,
		Username:             it.Username,
		Scopes:               it.Scopes,
		AuthTime:             fromMillis(it.AuthTime),
		AMR:                  it.AMR,
		SID:                  it.SID,
		ACR:                  it.ACR,
		IDP:                  it.IDP,
		Claims:               it.Claims,
		AuthorizationDetails: rawJSON(it.AuthorizationDetails),
		Resources:            it.Resources,
		CreatedAt:            fromMillis(it.CreatedAt),
		ExpiresAt:            fromMillis(it.ExpiresAt),
		RevokedAt:            fromMillisPtr(it.RevokedAt),
	}
}

func toRefreshItem(rt *oauth.RefreshToken) refreshItem {
	return refreshItem{
		PK:        PrefixRT + rt.Key,
		GrantID:   rt.GrantID,
		ClientID:  rt.ClientID,
		Scopes:    nilIfEmpty(rt.Scopes),
		DPoPJKT:   rt.DPoPJKT,
		X5TS256:   rt.X5TS256,
		IssuedAt:  millis(rt.IssuedAt),
		ExpiresAt: millis(rt.ExpiresAt),
		UsedAt:    millisPtr(rt.UsedAt),
		TTL:       ttl(rt.ExpiresAt),
	}
}

func (it *refreshItem) refreshToken() *oauth.RefreshToken {
	return &oauth.RefreshToken{
		Key:       it.PK[len(PrefixRT):],
		GrantID:   it.GrantID,
		ClientID:  it.ClientID,
		Scopes:    it.Scopes,
		DPoPJKT:   it.DPoPJKT,
		X5TS256:   it.X5TS256,
		IssuedAt:  fromMillis(it.IssuedAt),
		ExpiresAt: fromMillis(it.ExpiresAt),
		UsedAt:    fromMillisPtr(it.UsedAt),
	}
}

func toClientItem(c *oauth.Client) clientItem {
	return clientItem{
		PK:                                    PrefixClient + c.ID,
		ID:                                    c.ID,
		Name:                                  c.Name,
		SecretHash:                            nilIfEmpty(c.SecretHash),
		ApplicationType:                       c.ApplicationType,
		RedirectURIs:                          nilIfEmpty(c.RedirectURIs),
		TokenEndpointAuthMethod:               c.TokenEndpointAuthMethod,
		GrantTypes:                            nilIfEmpty(c.GrantTypes),
		ResponseTypes:                         nilIfEmpty(c.ResponseTypes),
		Scope:                                 c.Scope,
		RequirePushedAuthorizationRequests:    c.RequirePushedAuthorizationRequests,
		PushedRequestLifetime:                 c.PushedRequestLifetime,
		JWKS:                                  string(c.JWKS),
		JWKSURI:                               c.JWKSURI,
		TokenEndpointAuthSigningAlg:           c.TokenEndpointAuthSigningAlg,
		RequestObjectSigningAlg:               c.RequestObjectSigningAlg,
		AuthorizationSignedResponseAlg:        c.AuthorizationSignedResponseAlg,
		RequireSignedRequestObject:            c.RequireSignedRequestObject,
		PushedRedirectURIPrefixes:             nilIfEmpty(c.PushedRedirectURIPrefixes),
		DPoPBoundAccessTokens:                 c.DPoPBoundAccessTokens,
		TokenIntrospectionAllowed:             c.TokenIntrospectionAllowed,
		RequireAuthTime:                       c.RequireAuthTime,
		AuthorizationDetailsTypes:             nilIfEmpty(c.AuthorizationDetailsTypes),
		TLSClientAuthSubjectDN:                c.TLSClientAuthSubjectDN,
		TLSClientAuthSANDNS:                   c.TLSClientAuthSANDNS,
		TLSClientAuthSANURI:                   c.TLSClientAuthSANURI,
		TLSClientAuthSANIP:                    c.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 c.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: c.TLSClientCertificateBoundAccessTokens,
		Resources:                             nilIfEmpty(c.Resources),
		RateLimit:                             c.RateLimit,
		AllowedOrigins:                        nilIfEmpty(c.AllowedOrigins),
		Consent:                               c.Consent,
		PostLogoutRedirectURIs:                nilIfEmpty(c.PostLogoutRedirectURIs),
		IdentityProviders:                     c.IdentityProviders,
		BackchannelLogoutURI:                  c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:      c.BackchannelLogoutSessionRequired,
		Disabled:                              c.Disabled,
	}
}

func (it *clientItem) client() *oauth.Client {
	c := &oauth.Client{
		ID:                                    it.ID,
		Name:                                  it.Name,
		SecretHash:                            nilIfEmpty(it.SecretHash),
		ApplicationType:                       it.ApplicationType,
		RedirectURIs:                          it.RedirectURIs,
		TokenEndpointAuthMethod:               it.TokenEndpointAuthMethod,
		GrantTypes:                            it.GrantTypes,
		ResponseTypes:                         it.ResponseTypes,
		Scope:                                 it.Scope,
		RequirePushedAuthorizationRequests:    it.RequirePushedAuthorizationRequests,
		PushedRequestLifetime:                 it.PushedRequestLifetime,
		JWKSURI:                               it.JWKSURI,
		TokenEndpointAuthSigningAlg:           it.TokenEndpointAuthSigningAlg,
		RequestObjectSigningAlg:               it.RequestObjectSigningAlg,
		AuthorizationSignedResponseAlg:        it.AuthorizationSignedResponseAlg,
		RequireSignedRequestObject:            it.RequireSignedRequestObject,
		PushedRedirectURIPrefixes:             it.PushedRedirectURIPrefixes,
		DPoPBoundAccessTokens:                 it.DPoPBoundAccessTokens,
		TokenIntrospectionAllowed:             it.TokenIntrospectionAllowed,
		RequireAuthTime:                       it.RequireAuthTime,
		AuthorizationDetailsTypes:             it.AuthorizationDetailsTypes,
		TLSClientAuthSubjectDN:                it.TLSClientAuthSubjectDN,
		TLSClientAuthSANDNS:                   it.TLSClientAuthSANDNS,
		TLSClientAuthSANURI:                   it.TLSClientAuthSANURI,
		TLSClientAuthSANIP:                    it.TLSClientAuthSANIP,
		TLSClientAuthSANEmail:                 it.TLSClientAuthSANEmail,
		TLSClientCertificateBoundAccessTokens: it.TLSClientCertificateBoundAccessTokens,
		Resources:                             it.Resources,
		RateLimit:                             it.RateLimit,
		AllowedOrigins:                        it.AllowedOrigins,
		Consent:                               it.Consent,
		PostLogoutRedirectURIs:                it.PostLogoutRedirectURIs,
		IdentityProviders:                     it.IdentityProviders,
		BackchannelLogoutURI:                  it.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:      it.BackchannelLogoutSessionRequired,
		Disabled:                              it.Disabled,
	}
	if it.JWKS != "" {
		c.JWKS = json.RawMessage(it.JWKS)
	}
	return c
}

func toUserItem(u *oauth.User) (userItem, error) {
	claims, err := oauth.NormalizeClaims(u.Claims)
	if err != nil {
		return userItem{}, err
	}
	return userItem{
		PK:           PrefixUser + u.Username,
		Username:     u.Username,
		PasswordHash: u.PasswordHash,
		Claims:       claims,
		Disabled:     u.Disabled,

		Subject:          u.Sub,
		TokensValidAfter: millis(u.TokensValidAfter),
	}, nil
}

func (it *userItem) user() *oauth.User {
	u := &oauth.User{
		Username:     it.Username,
		PasswordHash: it.PasswordHash,
		Claims:       it.Claims,
		Disabled:     it.Disabled,
		Sub:          it.Subject,
	}
	u.TokensValidAfter = fromMillis(it.TokensValidAfter)
	return u
}

// millis is t in epoch milliseconds, the unit of every time attribute; the zero
// time is 0. Conditions compare these numbers, so a deadline within the same
// millisecond as now counts as passed: the store errs on the side of refusing.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func millisPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := millis(*t)
	return &ms
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func fromMillisPtr(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := fromMillis(*ms)
	return &t
}

// ttl is the DynamoDB TTL (epoch seconds) for a record whose last deadline is the
// latest of deadlines.
func ttl(deadlines ...time.Time) int64 {
	var last time.Time
	for _, d := range deadlines {
		if d.After(last) {
			last = d
		}
	}
	return last.Add(ttlSlack).Unix()
}

// rawJSON is the JSON text s as stored, or nil for none.
func rawJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}
