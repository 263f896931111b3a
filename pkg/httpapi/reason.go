package httpapi

import (
	"errors"
	"log/slog"

	"github.com/pargate/pargate/pkg/oauth"
)

// maxReasonBytes bounds the reason on an access line: a library message may quote a
// header value, and a caller must not be able to write long text into the log.
const maxReasonBytes = 200

// appendReason adds, for a 4xx answered with a generic description, why the request
// was refused: the cause the core attached (oauth.Error.WithCause). Answers say only
// "client authentication failed" or that a signature could not be verified
// (docs/design.md "Input, oracles and fetches"), so the reason is the operator's way
// to see what went wrong.
// A 5xx line carries the cause already (observe.go).
func appendReason(attrs []slog.Attr, status int, err *oauth.Error) []slog.Attr {
	if err == nil || status < 400 || status >= 500 {
		return attrs
	}
	cause := errors.Unwrap(err)
	if cause == nil {
		return attrs
	}
	return append(attrs, slog.String("reason", bounded(cause.Error())))
}

// bounded is reason cut to maxReasonBytes.
func bounded(reason string) string {
	if len(reason) > maxReasonBytes {
		return reason[:maxReasonBytes] + "..."
	}
	return reason
}
