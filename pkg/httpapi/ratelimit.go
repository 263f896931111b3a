package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// The per-client rate limit of the back channel (oauth.Service.LimitClient;
// docs/design.md decision 23).
const outcomeRateLimited = "rate_limited"

// rateLimitedCounters are the business counters of a limited request.
var rateLimitedCounters = []string{metrics.RequestsRateLimited}

// rateLimited counts the request against its authenticated client's limit and, when
// it is over, answers it and reports true. It is called by backChannel, so /par,
// /token, /revoke and /introspect share it, after the client authenticated: a
// request whose authentication failed is never counted, so nobody without a
// client's credentials can spend its budget; a public client, which has no
// credentials, is counted per source address (oauth.Service.LimitClient).
//
// RFC 9126 §2.3: "429 Too Many Requests: If the request was rate-limited"; RFC 6585
// §4: the response "MAY include a Retry-After header indicating how long to wait";
// the body is RFC 6749 §5.2 JSON with temporarily_unavailable (oauth.RateLimited).
// A counter outage lets the request through and is noted for the access line.
func (h *Handler) rateLimited(ctx context.Context, w http.ResponseWriter, r *http.Request, client *oauth.Client) bool {
	limited, outage := h.svc.LimitClient(ctx, client, clientIP(r))
	if outage != nil {
		noteRateOutage(ctx, outage)
	}
	if limited == nil {
		return false
	}
	e := limited.Error()
	noteError(ctx, e)
	noteOutcome(ctx, outcomeRateLimited, rateLimitedCounters...)
	w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter/time.Second)))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: e.Code, Description: e.Description})
	return true
}

// noteRateOutage records that the request went on uncounted because its rate
// counter failed: the access line carries the cause at warning level and the
// RateCounterOutages metric counts it.
func noteRateOutage(ctx context.Context, err error) { logOf(ctx).rateOutage = err }
