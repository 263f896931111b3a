package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// token serves the token endpoint (RFC 6749 §3.2).
func (h *Handler) token() http.Handler {
	return h.backChannel(h.urls.Token, true, func(ctx context.Context, client *oauth.Client, form url.Values, dpop oauth.DPoP) (int, any, error) {
		res, err := h.svc.Exchange(ctx, client, form, dpop)
		if err != nil {
			return 0, nil, err
		}
		switch {
		case res.ClientCredentials:
			noteOutcome(ctx, outcomeClientToken, metrics.TokensIssued)
		case !res.Refreshed:
			noteOutcome(ctx, outcomeTokensIssued, metrics.TokensIssued)
		case res.Rotated:
			noteOutcome(ctx, outcomeTokensRefreshed, metrics.TokensIssued, metrics.RefreshTokensRotated)
		default:
			// FAPI 2.0: the refresh token is not rotated.
			noteOutcome(ctx, outcomeTokensRefreshed, metrics.TokensIssued)
		}
		return http.StatusOK, res, nil
	})
}
