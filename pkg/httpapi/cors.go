package httpapi

import (
	"net/http"

	"github.com/pargate/pargate/pkg/oauth"
)

// CORS for browser-based apps (draft-ietf-oauth-browser-based-apps; the Fetch
// Standard's CORS protocol, §3.2; docs/design.md decision 30).
//
// RFC 9700 §2.6: "To support browser-based clients, endpoints directly accessed by
// such clients including the Token Endpoint, Authorization Server Metadata Endpoint,
// jwks_uri Endpoint, and Dynamic Client Registration Endpoint MAY support the use of
// Cross-Origin Resource Sharing (CORS) [WHATWG.CORS]. However, CORS MUST NOT be
// supported at the Authorization Endpoint, as the client does not access this
// endpoint directly; instead, the client redirects the user agent to it." So:
//
//   - discovery and the JWKS are public documents: Access-Control-Allow-Origin: *,
//     no credentials (discovery.go, publicCORS);
//   - /token, /revoke and /par answer a client's page: a preflight carries no
//     client_id, so it is answered for any origin (it reveals nothing, and no
//     credentials are allowed); the request itself gets Access-Control-Allow-Origin
//     only once the client is authenticated, is public and names the origin
//     (oauth.Client.AllowsOrigin), and a request from any other origin is refused
//     before the grant runs, so no code is spent on a response the browser would
//     not let the page read (backChannel, corsAllow);
//   - /userinfo answers the page of the access token's client, public or not (a
//     token-mediating backend hands its page the token, BCP §6.2);
//   - never /authorize, its pages and form posts (FAPI 2.0 §5.2, RFC 9700 §2.6),
//     nor /introspect, which resource servers call.
const (
	// The request headers a client's page sends: Basic or DPoP authorization at
	// /userinfo, the form's media type, and DPoP proofs (RFC 9449 §4.1).
	corsAllowHeaders = "Authorization, Content-Type, DPoP"
	// The response headers a page must read (Fetch §3.2.3: besides the
	// CORS-safelisted ones): a DPoP nonce (RFC 9449 §8), a challenge, and when to
	// retry after a 429 or 503 (RFC 9126 §2.3, decision 23).
	corsExposeHeaders = "DPoP-Nonce, WWW-Authenticate, Retry-After"
	// corsMaxAge caches a preflight for ten minutes (Chromium caps it at two hours).
	corsMaxAge = "600"
)

const (
	varyOrigin    = "Origin"
	varyPreflight = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
)

// Header values, one slice each (see noStoreValue).
var (
	corsAllowHeadersV  = []string{corsAllowHeaders}
	corsExposeHeadersV = []string{corsExposeHeaders}
	corsMaxAgeV        = []string{corsMaxAge}
	corsAnyOriginV     = []string{"*"}
	corsPublicMethodsV = []string{"GET, HEAD"}
)

// isPreflight reports whether r is a CORS-preflight request (Fetch §3.2.2: an
// OPTIONS request with Origin and Access-Control-Request-Method).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// clientCORS wraps an endpoint a client's page calls (/token, /revoke, /par,
// /userinfo) with methods. It answers the preflight for any origin and marks every
// response as depending on Origin (Fetch §3.2.5, "CORS protocol and HTTP caches":
// a response whose Access-Control-Allow-Origin depends on Origin carries
// Vary: Origin); the endpoint itself decides Access-Control-Allow-Origin once it
// knows the client (corsAllow).
func (h *Handler) clientCORS(methods string, next http.Handler) http.Handler {
	allow := []string{methods}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) {
			hd := w.Header()
			hd.Set("Vary", varyPreflight)
			// Fetch §3.2.3: a successful preflight response has an ok status and
			// Access-Control-Allow-Origin matching the request's origin; without
			// Access-Control-Allow-Credentials the browser sends no cookies.
			hd.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
			hd["Access-Control-Allow-Methods"] = allow
			hd["Access-Control-Allow-Headers"] = corsAllowHeadersV
			hd["Access-Control-Max-Age"] = corsMaxAgeV
			noteOutcome(r.Context(), outcomeCORSPreflight)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Add("Vary", varyOrigin)
		next.ServeHTTP(w, r)
	})
}

// corsAllow decides the CORS response headers of a request to a client endpoint
// once its client is known, and whether the request may go on. A request without
// Origin is not a browser's cross-origin fetch: nothing to decide. Otherwise the
// origin must be the client's (oauth.Client.AllowsOrigin) and, where publicOnly
// (/token, /revoke, /par), the client public: the BCP's browser-based app holds no
// credentials, and a confidential client's page would hold them. A refused origin
// gets no Access-Control-Allow-Origin, so the browser keeps the answer from it.
func corsAllow(w http.ResponseWriter, r *http.Request, client *oauth.Client, publicOnly bool) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	if publicOnly && !client.Public() {
		return oauth.InvalidRequest("a client with credentials does not call this endpoint from a browser: only public clients get CORS here")
	}
	if !client.AllowsOrigin(origin) {
		return oauth.InvalidRequest("this client does not allow requests from the page's origin: register it in allowed_origins, or as the origin of a redirect URI (CORS)")
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd["Access-Control-Expose-Headers"] = corsExposeHeadersV
	return nil
}

// publicCORS wraps the discovery endpoint: its documents are public, so any page
// may read them (Access-Control-Allow-Origin: *, set by discovery), and its
// preflight, which a page's fetch with a non-safelisted header causes, is answered
// for any origin.
func (h *Handler) publicCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPreflight(r) {
			hd := w.Header()
			hd["Access-Control-Allow-Origin"] = corsAnyOriginV
			hd["Access-Control-Allow-Methods"] = corsPublicMethodsV
			hd["Access-Control-Max-Age"] = corsMaxAgeV
			noteOutcome(r.Context(), outcomeCORSPreflight)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
