package httpapi

import (
	"net/http"
	"sort"

	"github.com/pargate/pargate/pkg/oauth"
)

// Metadata is the authorization server metadata (RFC 8414 §2, RFC 9126 §5, RFC 9207
// §3, OIDC Discovery §3).
type Metadata struct {
	Issuer                             string `json:"issuer"`
	AuthorizationEndpoint              string `json:"authorization_endpoint"`
	TokenEndpoint                      string `json:"token_endpoint"`
	JWKSURI                            string `json:"jwks_uri"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
	RevocationEndpoint                 string `json:"revocation_endpoint"`
	IntrospectionEndpoint              string `json:"introspection_endpoint"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint"`
	// EndSessionEndpoint is RP-Initiated Logout 1.0 §2.1: "URL at the OP to which an
	// RP can perform a redirect to request that the End-User be logged out at the OP".
	EndSessionEndpoint string `json:"end_session_endpoint"`
	// Back-Channel Logout 1.0 §2.1: backchannel_logout_supported, and
	// backchannel_logout_session_supported ("the OP can pass a sid ... in the Logout
	// Token", as it does in ID tokens); Front-Channel Logout 1.0 §3, not supported
	// (docs/design.md decision 34).
	BackchannelLogoutSupported         bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported  bool     `json:"backchannel_logout_session_supported"`
	FrontchannelLogoutSupported        bool     `json:"frontchannel_logout_supported"`
	RevocationAuthMethods              []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionAuthMethods           []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionSigningAlgs           []string `json:"introspection_signing_alg_values_supported"`
	AuthorizationDetailsTypes          []string `json:"authorization_details_types_supported,omitempty"`
	RequirePushedAuthorizationRequests bool     `json:"require_pushed_authorization_requests,omitempty"`
	ScopesSupported                    []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported             []string `json:"response_types_supported"`
	ResponseModesSupported             []string `json:"response_modes_supported"`
	GrantTypesSupported                []string `json:"grant_types_supported"`
	SubjectTypesSupported              []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported   []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported  []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs       []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RequestObjectSigningAlgs           []string `json:"request_object_signing_alg_values_supported"`
	RequireSignedRequestObject         bool     `json:"require_signed_request_object,omitempty"`
	DPoPSigningAlgs                    []string `json:"dpop_signing_alg_values_supported"`
	// AuthorizationSigningAlgs is JARM §4: the algorithms of signed authorization responses.
	AuthorizationSigningAlgs          []string `json:"authorization_signing_alg_values_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	// RFC 8705 §3.3 and §5, with MTLSBaseURL.
	TLSClientCertificateBoundAccessTokens bool           `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	MTLSEndpointAliases                   *MTLSEndpoints `json:"mtls_endpoint_aliases,omitempty"`
}

// MTLSEndpoints are the mtls_endpoint_aliases of RFC 8705 §5: "the metadata
// parameters ... that the client uses when it is doing mutual TLS".
type MTLSEndpoints struct {
	TokenEndpoint                      string `json:"token_endpoint"`
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint"`
	RevocationEndpoint                 string `json:"revocation_endpoint"`
	IntrospectionEndpoint              string `json:"introspection_endpoint"`
	UserinfoEndpoint                   string `json:"userinfo_endpoint"`
}

// Metadata returns the metadata document for the configured server.
func (h *Handler) Metadata(algs []string) Metadata {
	cfg := h.svc.Config()
	iss := cfg.Issuer
	authMethods := []string{oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost, oauth.AuthPrivateKeyJWT, oauth.AuthNone}
	if cfg.FAPI2 {
		authMethods = []string{oauth.AuthPrivateKeyJWT}
	}
	if h.mtls != nil {
		// RFC 8705 §2.1.1 and §2.2.1, in every *_auth_methods_supported.
		authMethods = append(authMethods, oauth.AuthTLSClient, oauth.AuthSelfSignedTLSClient)
	}
	var detailsTypes []string
	for t := range cfg.AuthorizationDetailsTypes {
		detailsTypes = append(detailsTypes, t)
	}
	sort.Strings(detailsTypes)
	var clientAlgs []string
	for _, a := range h.svc.ClientSigningAlgorithms() {
		clientAlgs = append(clientAlgs, string(a))
	}
	var aliases *MTLSEndpoints
	if h.mtls != nil {
		aliases = &MTLSEndpoints{
			TokenEndpoint:                      h.mtls.Token,
			PushedAuthorizationRequestEndpoint: h.mtls.PAR,
			RevocationEndpoint:                 h.mtls.Revocation,
			IntrospectionEndpoint:              h.mtls.Introspection,
			UserinfoEndpoint:                   h.mtls.Userinfo,
		}
	}
	return Metadata{
		TLSClientCertificateBoundAccessTokens: h.mtls != nil,
		MTLSEndpointAliases:                   aliases,
		Issuer:                                iss,
		AuthorizationEndpoint:                 h.urls.Authorization,
		TokenEndpoint:                         h.urls.Token,
		JWKSURI:                               h.urls.JWKS,
		PushedAuthorizationRequestEndpoint:    h.urls.PAR,
		RevocationEndpoint:                    h.urls.Revocation,
		IntrospectionEndpoint:                 h.urls.Introspection,
		UserinfoEndpoint:                      h.urls.Userinfo,
		EndSessionEndpoint:                    h.urls.EndSession,
		BackchannelLogoutSupported:            true,
		BackchannelLogoutSessionSupported:     true,
		FrontchannelLogoutSupported:           false,
		RevocationAuthMethods:                 authMethods,
		IntrospectionAuthMethods:              authMethods,
		// RFC 9701 §7: signed introspection responses use the server's signing keys.
		IntrospectionSigningAlgs: algs,
		// RFC 9396 §10.1.
		AuthorizationDetailsTypes: detailsTypes,
		// RFC 9126 §5: published only when true (docs/design.md decision 8); omitted means false.
		RequirePushedAuthorizationRequests: cfg.RequirePAR,
		ScopesSupported:                    h.opts.ScopesSupported,
		ResponseTypesSupported:             []string{"code"},
		// JARM §4 and Form Post Response Mode §2 (docs/design.md decision 24).
		ResponseModesSupported: oauth.ResponseModes,
		// JARM §4: responses are signed with the server's keys, like ID tokens.
		AuthorizationSigningAlgs:          algs,
		GrantTypesSupported:               []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken, oauth.GrantClientCredentials},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  algs,
		TokenEndpointAuthMethodsSupported: authMethods,
		TokenEndpointAuthSigningAlgs:      clientAlgs,
		// RFC 9126 §3: request objects are accepted at the PAR endpoint.
		RequestObjectSigningAlgs:   clientAlgs,
		RequireSignedRequestObject: cfg.RequireSignedRequestObject,
		// RFC 9449 §5.1.
		DPoPSigningAlgs:               clientAlgs,
		CodeChallengeMethodsSupported: []string{oauth.PKCEMethodS256},
		// RFC 9207 §3.
		AuthorizationResponseISSSupported: true,
		// RFC 9126 §5: a request_uri from the PAR endpoint is usable regardless of
		// request_uri_parameter_supported, which covers only client-hosted URIs.
		RequestParameterSupported:    true,
		RequestURIParameterSupported: false,
		PromptValuesSupported:        []string{"none", "login", "consent", "select_account"},
		ClaimsSupported: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "acr", "idp", "sid", "nonce", "name", "given_name",
			"family_name", "preferred_username", "email", "email_verified"},
	}
}

// discovery serves both metadata documents and the JWKS.
func (h *Handler) discovery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.methodNotAllowed(w, r, http.MethodGet)
			return
		}
		switch r.URL.Path {
		case PathASMetadata, PathOIDCMetadata:
			algs, err := h.opts.Keys.LoadAlgorithms(r.Context())
			if err != nil {
				h.writeError(w, r, err)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			noteOutcome(r.Context(), outcomeMetadata)
			writeJSONCacheable(w, h.Metadata(algs))
		case PathJWKS:
			body, err := h.opts.Keys.PublicJWKS(r.Context())
			if err != nil {
				h.writeError(w, r, err)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=300")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Content-Type", "application/jwk-set+json")
			noteOutcome(r.Context(), outcomeJWKS)
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	})
}
