package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// introspectionJWTMediaType is RFC 9701 §4's media type of a signed introspection
// response.
const introspectionJWTMediaType = "application/" + oauth.IntrospectionJWTType

// introspect serves the introspection endpoint (RFC 7662 §2), client-authenticated
// as at /token. RFC 9701 §4: a resource server that sends "Accept:
// application/token-introspection+jwt" gets the response as a signed JWT of that
// media type; any other caller the JSON of RFC 7662 §2.2. Errors are JSON either way.
func (h *Handler) introspect() http.Handler {
	serve := func(signed bool) http.Handler {
		return h.backChannel(h.urls.Introspection, false, func(ctx context.Context, client *oauth.Client, form url.Values, _ oauth.DPoP) (int, any, error) {
			res, err := h.svc.Introspect(ctx, client, form)
			if err != nil {
				return 0, nil, err
			}
			if signed {
				jwt, err := h.svc.SignIntrospection(ctx, client, res)
				if err != nil {
					return 0, nil, err
				}
				noteOutcome(ctx, outcomeIntrospected)
				return http.StatusOK, rawBody{mediaType: introspectionJWTMediaType, body: jwt}, nil
			}
			noteOutcome(ctx, outcomeIntrospected)
			return http.StatusOK, res, nil
		})
	}
	plain, signed := serve(false), serve(true)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if accepts(r.Header, introspectionJWTMediaType) {
			signed.ServeHTTP(w, r)
			return
		}
		plain.ServeHTTP(w, r)
	})
}

// rawBody is a back-channel answer that is not JSON: body as it is, of mediaType.
type rawBody struct {
	mediaType string
	body      string
}

// write sends b with status, uncacheable like every back-channel answer (RFC 6749
// §5.1's no-store).
func (b rawBody) write(w http.ResponseWriter, status int) {
	noStore(w)
	w.Header().Set("Content-Type", b.mediaType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.body))
}

// accepts reports whether the Accept fields of header name mediaType (RFC 9110
// §12.5.1: case-insensitive, parameters after ";") with a weight above zero; "q=0"
// means "not acceptable". Wildcards do not count: a signed response is given only to
// a caller that asks for it by name.
func accepts(header http.Header, mediaType string) bool {
	for _, field := range header.Values("Accept") {
		for elem := range strings.SplitSeq(field, ",") {
			name, params, _ := strings.Cut(elem, ";")
			if !strings.EqualFold(strings.TrimSpace(name), mediaType) {
				continue
			}
			if acceptable(params) {
				return true
			}
		}
	}
	return false
}

// acceptable reads the q parameter of an Accept element's parameters: absent or
// above zero.
func acceptable(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
	}
	return true
}
