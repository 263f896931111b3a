package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pargate/pargate/pkg/oauth"
)

// revoke serves the revocation endpoint (RFC 7009 §2), client-authenticated as at
// /token.
func (h *Handler) revoke() http.Handler {
	return h.backChannel(h.urls.Revocation, true, func(ctx context.Context, client *oauth.Client, form url.Values, _ oauth.DPoP) (int, any, error) {
		if err := h.svc.Revoke(ctx, client, form); err != nil {
			return 0, nil, err
		}
		noteOutcome(ctx, outcomeTokenRevoked)
		// RFC 7009 §2.2: "The content of the response body is ignored by the client".
		return http.StatusOK, struct{}{}, nil
	})
}
