package oauth

import (
	"errors"
	"fmt"
	"strings"
)

// Every error code the server sends, with the section that defines it. The HTTP
// status of each is decided at the edge (pkg/httpapi statusOf), not here.
const (
	// RFC 6749 §4.1.2.1 (authorization response) and §5.2 (token endpoint).
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client" // §5.2 only
	CodeInvalidGrant            = "invalid_grant"  // §5.2 only
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type" // §5.2 only
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeInvalidScope            = "invalid_scope"
	CodeAccessDenied            = "access_denied"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	// RFC 9101 §7 (JAR), used by RFC 9126 §2.3 (PAR) too.
	CodeInvalidRequestURI    = "invalid_request_uri"
	CodeInvalidRequestObject = "invalid_request_object"
	// OIDC Core §3.1.2.6.
	CodeLoginRequired       = "login_required"
	CodeConsentRequired     = "consent_required"
	CodeRequestNotSupported = "request_not_supported"
	// RFC 6750 §3.1 (protected resources).
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	// RFC 7009 §2.2.1 (revocation).
	CodeUnsupportedTokenType = "unsupported_token_type"
	// RFC 9396 §5 (rich authorization requests).
	CodeInvalidAuthorizationDetails = "invalid_authorization_details"
	// RFC 9449 §7.1 (a bad DPoP proof) and §8 (the proof lacks the server's nonce).
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	CodeUseDPoPNonce     = "use_dpop_nonce"
)

// Error is the one error type of the protocol. Code and Description go on the wire;
// the wrapped cause goes only to logs. Values are never shared: every constructor and
// With… method returns a fresh copy, so a handler cannot change another's error.
type Error struct {
	Code        string
	Description string
	// Redirect reports whether the error may be sent to the client's redirect_uri.
	// It is false until the redirect target has been established from a trusted
	// source (RFC 6749 §4.1.2.1: never redirect to an invalid or unverified URI).
	Redirect bool
	cause    error
}

func (e *Error) Error() string {
	msg := e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.cause }

// WithCause returns a copy that wraps cause for the logs.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// WithRedirect returns a copy that may be delivered to the client's redirect URI.
func (e *Error) WithRedirect() *Error {
	c := *e
	c.Redirect = true
	return &c
}

func newError(code, format string, args ...any) *Error {
	return &Error{Code: code, Description: cleanDescription(fmt.Sprintf(format, args...))}
}

// cleanDescription keeps an error_description within RFC 6749 §5.2's character set:
// "Values for the error_description parameter MUST NOT include characters outside
// the set %x20-21 / %x23-5B / %x5D-7E." Quotes become apostrophes, backslashes
// slashes, anything else outside the set a question mark.
func cleanDescription(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r == '…':
			return '.'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}

func InvalidRequest(format string, args ...any) *Error {
	return newError(CodeInvalidRequest, format, args...)
}

func InvalidClient(format string, args ...any) *Error {
	return newError(CodeInvalidClient, format, args...)
}

func InvalidGrant(format string, args ...any) *Error {
	return newError(CodeInvalidGrant, format, args...)
}

func UnauthorizedClient(format string, args ...any) *Error {
	return newError(CodeUnauthorizedClient, format, args...)
}

func UnsupportedGrantType(format string, args ...any) *Error {
	return newError(CodeUnsupportedGrantType, format, args...)
}

func UnsupportedResponseType(format string, args ...any) *Error {
	return newError(CodeUnsupportedResponseType, format, args...)
}

func InvalidScope(format string, args ...any) *Error {
	return newError(CodeInvalidScope, format, args...)
}

func AccessDenied(format string, args ...any) *Error {
	return newError(CodeAccessDenied, format, args...)
}

func InvalidRequestURI(format string, args ...any) *Error {
	return newError(CodeInvalidRequestURI, format, args...)
}

func LoginRequired(format string, args ...any) *Error {
	return newError(CodeLoginRequired, format, args...)
}

// ConsentRequired is OIDC Core §3.1.2.6 consent_required: prompt=none, and the user
// would have to consent.
func ConsentRequired(format string, args ...any) *Error {
	return newError(CodeConsentRequired, format, args...)
}

func RequestNotSupported(format string, args ...any) *Error {
	return newError(CodeRequestNotSupported, format, args...)
}

// ServerError hides cause from the wire; it is kept for the logs.
func ServerError(cause error) *Error {
	return (&Error{Code: CodeServerError, Description: "internal error"}).WithCause(cause)
}

// Unavailable is what a storage outage or throttling becomes (docs/design.md decision 10).
func Unavailable(cause error) *Error {
	return (&Error{Code: CodeTemporarilyUnavailable, Description: "the service is temporarily unavailable, retry later"}).WithCause(cause)
}

// Storage sentinels. Store implementations return these (wrapped or not); the
// services translate them into protocol errors.
var (
	// ErrNotFound: no record under that key, or a record that may no longer be used
	// (already consumed, expired, or bound to another client) where the store checks it.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a create found the key already taken.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable: the store is throttled or unreachable; the caller may retry later.
	ErrUnavailable = errors.New("store unavailable")
	// ErrUsed: a one-time record (code, refresh token) was presented again.
	ErrUsed = errors.New("already used")
)

// AsError converts any error into the protocol error to show: protocol errors pass
// through, store outages become temporarily_unavailable, and everything else becomes
// server_error with the cause kept only for the logs (docs/design.md decision 10: unknown errors never
// reach the wire).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, ErrUnavailable) {
		return Unavailable(err)
	}
	if errors.Is(err, ErrTooLarge) {
		return tooLargeError(err)
	}
	return ServerError(err)
}
