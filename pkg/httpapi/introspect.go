package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pargate/pargate/pkg/oauth"
)

// introspect serves the introspection endpoint (RFC 7662 §2), client-authenticated
// as at /token.
func (h *Handler) introspect() http.Handler {
	return h.backChannel(h.urls.Introspection, func(ctx context.Context, client *oauth.Client, form url.Values, _ oauth.DPoP) (int, any, error) {
		res, err := h.svc.Introspect(ctx, client, form)
		if err != nil {
			return 0, nil, err
		}
		noteOutcome(ctx, outcomeIntrospected)
		return http.StatusOK, res, nil
	})
}
