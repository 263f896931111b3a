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
	"encoding/json"
	"io"
	"math"
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

// metadata is the _aws member (EMF specification: "Metadata object").
type metadata struct {
	// Timestamp is milliseconds since the epoch.
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// directive is a MetricDirective: the metrics named in it are published under each
// of its dimension sets, their values and the dimensions' values being members of
// the document's root.
type directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []metric   `json:"Metrics"`
}

type metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Record writes r as one EMF line. A failed write is returned; callers on the
// request path ignore it, as they would a failed log line.
func (e *Emitter) Record(r Request) error {
	line, err := e.document(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(line)
	return err
}

// document builds the EMF document of r, newline-terminated.
func (e *Emitter) document(r Request) ([]byte, error) {
	// EMF: dimension values "MUST NOT be empty".
	route, outcome := nonEmpty(r.Route, "other"), nonEmpty(r.Outcome, "unknown")
	root := map[string]any{
		DimService: e.service,
		DimRoute:   route,
		DimOutcome: outcome,
		Requests:   1,
		// Microsecond precision; CloudWatch keeps the value as a double.
		Latency: math.Round(float64(r.Latency)/float64(time.Microsecond)) / 1000,
	}
	directives := []directive{
		{
			Namespace:  Namespace,
			Dimensions: [][]string{{DimService, DimRoute}, {DimService, DimRoute, DimOutcome}},
			Metrics:    []metric{{Requests, UnitCount}},
		},
		{
			Namespace:  Namespace,
			Dimensions: [][]string{{DimService, DimRoute}},
			Metrics:    []metric{{Latency, UnitMilliseconds}},
		},
	}
	if r.ErrorCode != "" {
		root[DimErrorCode] = r.ErrorCode
		root[Errors] = 1
		directives = append(directives, directive{
			Namespace:  Namespace,
			Dimensions: [][]string{{DimService, DimErrorCode}},
			Metrics:    []metric{{Errors, UnitCount}},
		})
	}
	if len(r.Counters) > 0 {
		d := directive{Namespace: Namespace, Dimensions: [][]string{{DimService}}}
		for _, name := range r.Counters {
			if _, dup := root[name]; dup {
				continue
			}
			root[name] = 1
			d.Metrics = append(d.Metrics, metric{name, UnitCount})
		}
		if len(d.Metrics) > 0 {
			directives = append(directives, d)
		}
	}
	root["_aws"] = metadata{Timestamp: e.now().UnixMilli(), CloudWatchMetrics: directives}
	line, err := json.Marshal(root)
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
