package httpapi

import (
	"errors"

	"github.com/pargate/pargate/pkg/oauth"
)

// maxReasonBytes bounds the reason on an access line: a library message may quote a
// header value, and a caller must not be able to write long text into the log.
const maxReasonBytes = 200

// reasonOf is, for a 4xx answered with a generic description, why the request
// was refused: the cause the core attached (oauth.Error.WithCause). Answers say only
// "client authentication failed" or that a signature could not be verified
// (docs/design.md "Input, oracles and fetches"), so the reason is the operator's way
// to see what went wrong.
// A 5xx line carries the cause already (observe.go).
func reasonOf(status int, err *oauth.Error) (string, bool) {
	if err == nil || status < 400 || status >= 500 {
		return "", false
	}
	cause := errors.Unwrap(err)
	if cause == nil {
		return "", false
	}
	return bounded(cause.Error()), true
}

// bounded is reason cut to maxReasonBytes.
func bounded(reason string) string {
	if len(reason) > maxReasonBytes {
		return reason[:maxReasonBytes] + "..."
	}
	return reason
}
