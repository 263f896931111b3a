package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// Observation: every endpoint the Handler exposes is wrapped once by observe, which
// writes ONE access log line per request (request id, route, method, status,
// duration, and what the handler noted: client id, outcome, error code; for a 5xx
// the line is at error level and carries the cause) and, when enabled, one EMF
// metrics line (pkg/metrics).
//
// What is never logged: query strings and bodies (they carry codes, request_uri
// values, state, nonce and pushed parameters, RFC 9126 §8), the Authorization, DPoP
// and Cookie headers, tokens, usernames and passwords, error descriptions (they may
// echo request values), and causes of client errors (but a bounded reason, reason.go). Only the fields below are.

// Outcomes: what a request achieved, a low-cardinality metrics dimension. Requests
// that end in an error without a more specific outcome are rejected (4xx) or failed
// (5xx); other successful ones are ok.
const (
	outcomePushCreated    = "push_created"
	outcomeLoginPage      = "login_page"
	outcomeConsentPage    = "consent_page"
	outcomeLoginSucceeded = "login_succeeded"
	outcomeLoginFailed    = "login_failed"
	outcomeRequestStored  = "request_stored" // a direct (not pushed) request, continued as pushed
	outcomeCodeIssued     = "code_issued"
	// A code issued without the consent page: the user's remembered consent covered
	// the request (docs/design.md decision 32).
	outcomeCodeIssuedRemembered = "code_issued_consent_remembered"
	outcomeConsentDenied        = "consent_denied"
	outcomeLogoutPage           = "logout_page"      // RP-Initiated Logout: the confirmation page
	outcomeLoggedOut            = "logged_out"       // the session ended (logout.go)
	outcomeSignedOut            = "signed_out"       // a logout with no session left to end
	outcomeErrorRedirected      = "error_redirected" // an error delivered to the client's redirect_uri
	outcomeTokensIssued         = "tokens_issued"
	outcomeTokensRefreshed      = "tokens_refreshed"
	outcomeClientToken          = "client_token_issued" // client_credentials (RFC 6749 §4.4)
	outcomeTokenRevoked         = "token_revoked"
	outcomeIntrospected         = "token_introspected"
	outcomeUserinfo             = "userinfo_served"
	outcomeMetadata             = "metadata_served"
	outcomeJWKS                 = "jwks_served"
	outcomeCORSPreflight        = "cors_preflight" // a CORS preflight answered (cors.go)
	outcomeOK                   = "ok"
	outcomeRejected             = "rejected"
	outcomeFailed               = "failed"
	routeOther                  = "other"
)

// requestLog is the per-request log context: observe puts one in the request's
// context and the handlers fill it in as they learn things.
type requestLog struct {
	clientID string
	outcome  string
	counters []string
	err      *oauth.Error
	userHash string // oauth.UsernameHash, on a locked sign-in only (login.go)
	// rateOutage is why the request's rate counter failed, if it did (ratelimit.go).
	rateOutage error
	// consentOutage is why an approved consent was not remembered, if it was not
	// (authorize.go approveTx; docs/design.md decision 32).
	consentOutage error
}

type requestLogKey struct{}

// logOf returns the request's log context; outside observe (a handler called
// directly) it returns a fresh one, so callers never check for nil.
func logOf(ctx context.Context) *requestLog {
	if l, ok := ctx.Value(requestLogKey{}).(*requestLog); ok {
		return l
	}
	return &requestLog{}
}

// noteClient records the client the request is for, once it is established
// (authenticated, or bound to the pushed request), never a claimed one.
func noteClient(ctx context.Context, clientID string) { logOf(ctx).clientID = clientID }

// noteOutcome records what the request achieved and the business counters it adds to.
func noteOutcome(ctx context.Context, outcome string, counters ...string) {
	l := logOf(ctx)
	l.outcome, l.counters = outcome, counters
}

// noteError records the protocol error answered: its code goes to the access line
// and the metrics, its cause to the access line when the status is 5xx.
func noteError(ctx context.Context, e *oauth.Error) { logOf(ctx).err = e }

// observe wraps next with the access log line and the metrics. Nested calls pass
// through, so a request is observed once whichever handler it enters first.
func (h *Handler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		// The request's log and status writer come from a pool: nothing keeps
		// them past the request, the handlers being done when ServeHTTP returns.
		// The context does not: a deadline that fires runs its cancel on a timer
		// goroutine, which may still reach its parent after the request returned
		// (it then panicked on a pooled context already cleared for the next one).
		o := observedPool.Get().(*observed)
		defer o.put()
		l, sw := &o.log, &o.w
		sw.ResponseWriter = w
		var ctx context.Context = &logContext{Context: r.Context(), log: l}
		if h.opts.RequestDeadline > 0 && h.deadlines {
			// One deadline per request: app.WithDeadlines runs every store call of the
			// request under it rather than arming a timer per call. An in-process
			// store (oauth.InProcess) gets none: its calls cannot hang.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, h.opts.RequestDeadline)
			defer cancel()
		}
		next.ServeHTTP(sw, r.WithContext(ctx))
		h.record(r, l, sw.statusOr200(), time.Since(start))
	})
}

// observed is what observe needs per request, allocated together and pooled.
type observed struct {
	log requestLog
	w   statusWriter
}

// logContext is the request's context with its log context under requestLogKey: a
// context.WithValue without the allocation.
type logContext struct {
	context.Context
	log *requestLog
}

func (c *logContext) Value(key any) any {
	if _, ok := key.(requestLogKey); ok {
		return c.log
	}
	return c.Context.Value(key)
}

var observedPool = sync.Pool{New: func() any { return new(observed) }}

func (o *observed) put() {
	*o = observed{}
	observedPool.Put(o)
}

// record writes the access log line and the metrics of one request.
func (h *Handler) record(r *http.Request, l *requestLog, status int, took time.Duration) {
	route := routeOf(r.URL.Path)
	outcome := l.outcome
	switch {
	case status >= 500:
		outcome = outcomeFailed
	case outcome != "":
	case status >= 400:
		outcome = outcomeRejected
	default:
		outcome = outcomeOK
	}
	var code string
	if l.err != nil {
		code = l.err.Code
	}
	// The level first: the line begins with it (slog's JSON order: time, level, msg).
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if l.rateOutage != nil || l.consentOutage != nil {
		level = max(level, slog.LevelWarn)
	}
	counters := l.counters
	if l.rateOutage != nil {
		counters = append(counters[:len(counters):len(counters)], metrics.RateCounterOutages)
	}
	ctx := r.Context()
	var b lineBuilder
	if jl, ok := b.begin(ctx, h.log, level); ok {
		apiID, lambdaID := h.requestIDs(r)
		if apiID != "" {
			b.str("request_id", apiID)
		} else {
			b.randomID("request_id")
		}
		if lambdaID != "" {
			b.str("lambda_request_id", lambdaID)
		}
		b.str("method", r.Method)
		b.str("route", route)
		b.int("status", status)
		b.float("duration_ms", float64(took.Microseconds())/1000)
		if l.clientID != "" {
			b.str("client_id", l.clientID)
		}
		b.str("outcome", outcome)
		if l.userHash != "" {
			b.str("user_hash", l.userHash)
		}
		if code != "" {
			b.str("error_code", code)
		}
		if status >= 500 && l.err != nil {
			if cause := errors.Unwrap(l.err); cause != nil {
				b.str("cause", cause.Error())
			}
		}
		if reason, ok := reasonOf(status, l.err); ok {
			b.str("reason", reason)
		}
		if l.rateOutage != nil {
			// The request went on uncounted (docs/design.md decision 23): an operator's
			// concern, not the caller's. The cause names no secret (the key is a hash).
			b.str("rate_limit_outage", bounded(l.rateOutage.Error()))
		}
		if l.consentOutage != nil {
			// The code was issued; the page is shown again next time. The cause names
			// no secret (the key is a hash).
			b.str("consent_not_remembered", bounded(l.consentOutage.Error()))
		}
		b.end(ctx, h.log, jl, level)
	}
	if h.opts.Metrics != nil {
		// A lost metrics line is no reason to fail or delay the response.
		_ = h.opts.Metrics.Record(metrics.Request{
			Route: route, Outcome: outcome, ErrorCode: code, Latency: took, Counters: counters,
		})
	}
}

// routes are the paths a request may be attributed to; anything else is "other", so
// that neither the log nor a metrics dimension takes a caller's path.
var routes = map[string]bool{
	PathPAR: true, PathAuthorize: true, PathToken: true, PathRevoke: true, PathIntrospect: true,
	PathUserinfo: true, PathLogout: true, PathFederationCallback: true, PathASMetadata: true, PathOIDCMetadata: true, PathJWKS: true,
}

func routeOf(path string) string {
	if routes[path] {
		return path
	}
	return routeOther
}

// requestIDs returns the request's id and, in Lambda, the invocation's. The platform's
// id comes first (Options.RequestIDs: behind API Gateway its requestContext.requestId);
// without one, a well-formed X-Request-Id from a proxy in front; without either, id
// is empty and the line gets a fresh random one (lineBuilder.randomID).
func (h *Handler) requestIDs(r *http.Request) (id, lambdaID string) {
	if h.opts.RequestIDs != nil {
		if id, lambdaID = h.opts.RequestIDs(r); id != "" {
			return id, lambdaID
		}
	}
	if v := r.Header.Get("X-Request-Id"); isRequestID(v) {
		return v, lambdaID
	}
	return "", lambdaID
}

// isRequestID accepts 1 to 64 characters of [A-Za-z0-9._=-]: an id, not a place to
// smuggle data into the logs.
func isRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '=', c == '-':
		default:
			return false
		}
	}
	return true
}

// statusWriter remembers the status the handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
