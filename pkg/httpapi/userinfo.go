package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// userinfo serves the UserInfo endpoint (OIDC Core §5.3) with Bearer (RFC 6750) or
// DPoP-bound (RFC 9449 §7) access tokens.
func (h *Handler) userinfo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			h.methodNotAllowed(w, r, "GET, POST")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		scheme, token, err := accessTokenOf(w, r)
		if errors.Is(err, errTooLarge) {
			h.tooLarge(w, r, PathUserinfo)
			return
		}
		if err != nil {
			h.resourceError(w, r, "Bearer", err)
			return
		}
		if token == "" {
			h.noCredentials(w, r)
			return
		}
		cert, err := h.clientCertificate(r)
		if err != nil {
			h.resourceError(w, r, scheme, err)
			return
		}
		h.setDPoPNonce(ctx, w)
		dpop := oauth.DPoP{Proofs: r.Header.Values("DPoP"), Method: r.Method, URL: h.aliasFor(r, h.urls.Userinfo), Certificate: cert}
		claims, clientID, err := h.svc.UserinfoOf(ctx, scheme, token, dpop)
		h.userinfoCORS(ctx, w, r, clientID)
		if err != nil {
			h.resourceError(w, r, scheme, err)
			return
		}
		noteOutcome(ctx, outcomeUserinfo)
		writeJSON(w, http.StatusOK, claims)
	})
}

// userinfoCORS lets the page of the access token's client read the answer
// (docs/design.md decision 30): Access-Control-Allow-Origin when the request's
// Origin is the client's. Any client, public or not: a token-mediating backend
// (draft-ietf-oauth-browser-based-apps §6.2) hands its page the access token. A
// refused origin is answered as usual, without the header: userinfo spends nothing.
func (h *Handler) userinfoCORS(ctx context.Context, w http.ResponseWriter, r *http.Request, clientID string) {
	if clientID == "" || r.Header.Get("Origin") == "" {
		return
	}
	client, err := h.svc.RegisteredClient(ctx, clientID)
	if err != nil || client.Disabled {
		return
	}
	_ = corsAllow(w, r, client, false)
}

// accessTokenOf reads the access token from the Authorization header (RFC 6750 §2.1,
// RFC 9449 §7.1) or, for a form POST, the access_token parameter (RFC 6750 §2.2);
// using both is an error (RFC 6750 §2: "MUST NOT use more than one method").
func accessTokenOf(w http.ResponseWriter, r *http.Request) (scheme, token string, err error) {
	// RFC 9110 §5.3: Authorization holds one credential; two headers are ambiguous.
	if len(r.Header.Values("Authorization")) > 1 {
		return "", "", oauth.InvalidRequest("send one Authorization header")
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ = strings.Cut(auth, " ")
		token = strings.TrimSpace(token)
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), formContentType) {
		form, ferr := readForm(w, r)
		if errors.Is(ferr, errTooLarge) {
			return "", "", ferr
		}
		if ferr != nil {
			return "", "", oauth.InvalidRequest("the body could not be read")
		}
		if t := form.Get("access_token"); t != "" {
			if token != "" {
				return "", "", oauth.InvalidRequest("send the access token in one place only")
			}
			scheme, token = "Bearer", t
		}
	}
	return scheme, token, nil
}

// resourceError answers a protected-resource error with WWW-Authenticate (RFC 6750
// §3, RFC 9449 §7.1): 401 for token problems, 403 for insufficient scope.
func (h *Handler) resourceError(w http.ResponseWriter, r *http.Request, scheme string, err error) {
	e := oauth.AsError(err)
	status := resourceStatusFor(e.Code)
	if status < 500 {
		challenge := "Bearer"
		if strings.EqualFold(scheme, "DPoP") || e.Code == oauth.CodeInvalidDPoPProof || e.Code == oauth.CodeUseDPoPNonce {
			challenge = "DPoP"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`%s realm="pargate", error=%q, error_description=%q`,
			challenge, e.Code, strings.ReplaceAll(e.Description, `"`, "'")))
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", defaultRetryAfterS)
	}
	noteError(r.Context(), e)
	writeJSON(w, status, errorBody{Error: e.Code, Description: e.Description})
}

// noCredentials answers a request to a protected resource without any access token.
// RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the
// client was unaware that authentication is necessary or attempted using an
// unsupported authentication method), the resource server SHOULD NOT include an
// error code or other error information." RFC 7235 §3.1: a 401 carries a challenge.
func (h *Handler) noCredentials(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="pargate"`)
	noteError(r.Context(), oauth.InvalidRequest("no access token"))
	noStore(w)
	w.WriteHeader(http.StatusUnauthorized)
}
