package httpapi

import (
	"context"
	"log/slog"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// tellClients sends OpenID Connect Back-Channel Logout 1.0 logout tokens for a
// session that has just ended (a logout, or "Not you?" on the login page) to the
// clients it signed in to (oauth.Service.BackchannelLogout; docs/design.md decision
// 34), before the browser is answered: a Lambda function is frozen once it has
// answered. The sender bounds the wait. One log line per client told, with its
// outcome and attempts, never the token; a logout with any failure adds one to
// BackchannelLogoutFailures.
func (h *Handler) tellClients(ctx context.Context, sess *oauth.Session) {
	if sess == nil {
		return
	}
	failed := false
	for _, o := range h.svc.BackchannelLogout(ctx, sess) {
		level := slog.LevelInfo
		if o.Result != oauth.LogoutDelivered {
			level, failed = slog.LevelWarn, true
		}
		attrs := []slog.Attr{
			slog.String("client_id", o.ClientID),
			slog.String("outcome", o.Result),
			slog.Int("attempts", o.Attempts),
		}
		if o.Status != 0 {
			attrs = append(attrs, slog.Int("status", o.Status))
		}
		h.log.LogAttrs(ctx, level, "backchannel_logout", attrs...)
	}
	if failed {
		l := logOf(ctx)
		l.counters = append(l.counters[:len(l.counters):len(l.counters)], metrics.BackchannelLogoutFailures)
	}
}
