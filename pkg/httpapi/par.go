package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// pushCounters are the business counters of a push, one slice for all.
var pushCounters = []string{metrics.PushedRequests}

// par serves the pushed authorization request endpoint (RFC 9126 §2).
func (h *Handler) par() http.Handler {
	return h.backChannel(h.urls.PAR, true, func(ctx context.Context, client *oauth.Client, form url.Values, dpop oauth.DPoP) (int, any, error) {
		res, err := h.svc.Push(ctx, client, form, dpop)
		if err != nil {
			// Every error at PAR is JSON (RFC 9126 §2.3): writeError never reads Redirect.
			return 0, nil, err
		}
		// RFC 9126 §2.2: "the server MUST generate a request URI and provide it in the
		// response with a 201 HTTP status code".
		noteOutcome(ctx, outcomePushCreated, pushCounters...)
		return http.StatusCreated, res, nil
	})
}
