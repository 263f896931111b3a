// Package metrics publishes the server's CloudWatch metrics in the Embedded Metric
// Format (EMF): one JSON log line per request, which CloudWatch Logs turns into
// metrics as it ingests the function's output. No AWS SDK and no API call: the
// metrics cost a log line, not a PutMetricData round trip on the request path.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
//
// Dimensions stay low-cardinality on purpose (each combination is a billed custom
// metric): the deployment (Service), the route, the outcome and the OAuth error code,
// never a client id, a user or anything a caller chooses.
package metrics

import (
	"io"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "pargate"

// Metric names.
const (
	// Requests counts requests, by route and by route and outcome.
	Requests = "Requests"
	// Latency is the time the handler took, in milliseconds, by route.
	Latency = "Latency"
	// Errors counts protocol errors answered (JSON, error page or redirect), by
	// error code; temporarily_unavailable is a store or secret outage.
	Errors = "Errors"
	// Business counters, for the whole deployment.
	PushedRequests       = "PushedRequests"
	CodesIssued          = "CodesIssued"
	TokensIssued         = "TokensIssued"
	RefreshTokensRotated = "RefreshTokensRotated"
	// RequestsRateLimited counts back-channel requests refused with 429 by the
	// per-client rate limit; RateCounterOutages those let through uncounted because
	// the counter failed (docs/design.md decision 23).
	RequestsRateLimited = "RequestsRateLimited"
	RateCounterOutages  = "RateCounterOutages"
	// BackchannelLogoutFailures counts logouts of which at least one relying party
	// was not told (OpenID Connect Back-Channel Logout 1.0: refused, unreachable or
	// failed; docs/design.md decision 34). The log line of each says which.
	BackchannelLogoutFailures = "BackchannelLogoutFailures"
)

// Dimension names.
const (
	// DimService names the deployment (the stack), so that two stacks in one account
	// and region keep their metrics and alarms apart.
	DimService   = "Service"
	DimRoute     = "Route"
	DimOutcome   = "Outcome"
	DimErrorCode = "ErrorCode"
)

// Units (CloudWatch's names).
const (
	UnitCount        = "Count"
	UnitMilliseconds = "Milliseconds"
)

// Request is what one request contributes to the metrics.
type Request struct {
	// Route is the endpoint's path (/par, /token, …); it must come from a fixed
	// set, never from the request as sent.
	Route string
	// Outcome is what the request achieved (push_created, tokens_issued, rejected, …).
	Outcome string
	// ErrorCode is the OAuth error code answered, if any.
	ErrorCode string
	// Latency is how long the request took.
	Latency time.Duration
	// Counters are business counters to add one to (PushedRequests, …).
	Counters []string
}

// Emitter writes one EMF document per Request to its writer, one line each.
type Emitter struct {
	mu      sync.Mutex
	w       io.Writer
	service string
	now     func() time.Time
}

// New returns an Emitter writing to w (os.Stdout in Lambda, where the function's
// output is its CloudWatch log stream) under the Service dimension service.
func New(w io.Writer, service string) *Emitter {
	if service == "" {
		service = Namespace
	}
	return &Emitter{w: w, service: service, now: time.Now}
}

// WithClock returns a copy of e that stamps documents with now (tests).
func (e *Emitter) WithClock(now func() time.Time) *Emitter {
	return &Emitter{w: e.w, service: e.service, now: now}
}

// Record writes r as one EMF line. A failed write is returned; callers on the
// request path ignore it, as they would a failed log line. The line is built by an
// appending encoder into a pooled buffer (encode.go): no map, no reflection.
func (e *Emitter) Record(r Request) error {
	bp := bufPool.Get().(*[]byte)
	line := e.appendDocument((*bp)[:0], r)
	e.mu.Lock()
	_, err := e.w.Write(line)
	e.mu.Unlock()
	if cap(line) <= maxPooled {
		*bp = line
		bufPool.Put(bp)
	}
	return err
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
