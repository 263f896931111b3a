package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"testing"
	"time"
)

// mapDocument is the document as the emitter built it before A map given
// to encoding/json. The appending encoder must write the same bytes.
func (e *Emitter) mapDocument(r Request) ([]byte, error) {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	type metadata struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	route, outcome := nonEmpty(r.Route, "other"), nonEmpty(r.Outcome, "unknown")
	root := map[string]any{
		DimService: e.service, DimRoute: route, DimOutcome: outcome, Requests: 1,
		Latency: math.Round(float64(r.Latency)/float64(time.Microsecond)) / 1000,
	}
	directives := []directive{
		{Namespace: Namespace, Dimensions: [][]string{{DimService, DimRoute}, {DimService, DimRoute, DimOutcome}}, Metrics: []metric{{Requests, UnitCount}}},
		{Namespace: Namespace, Dimensions: [][]string{{DimService, DimRoute}}, Metrics: []metric{{Latency, UnitMilliseconds}}},
	}
	if r.ErrorCode != "" {
		root[DimErrorCode] = r.ErrorCode
		root[Errors] = 1
		directives = append(directives, directive{Namespace: Namespace, Dimensions: [][]string{{DimService, DimErrorCode}}, Metrics: []metric{{Errors, UnitCount}}})
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
	return append(line, '\n'), err
}

// The EMF line is written by an appending encoder; it is byte for byte the
// line the map-and-encoding/json emitter wrote.
func TestAppendingEncoderWritesTheMapDocument(t *testing.T) {
	stamp := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	requests := []Request{
		{Route: "/par", Outcome: "push_created", Latency: 1234567 * time.Nanosecond, Counters: []string{PushedRequests}},
		{Route: "/token", Outcome: "rejected", ErrorCode: "invalid_grant", Latency: 3 * time.Millisecond},
		{Route: "/token", Outcome: "tokens_issued", Counters: []string{TokensIssued, RefreshTokensRotated, TokensIssued, Requests, "Errors", "ZZ", "_zz", "aa"}},
		{Route: "", Outcome: "", Latency: 0},
		{Route: "/authorize", Outcome: "failed", ErrorCode: "temporarily_unavailable", Latency: 90 * time.Second, Counters: []string{CodesIssued}},
		{Route: "/x", Outcome: "ok", Latency: 400 * time.Nanosecond},
		{Route: "/x", Outcome: "ok", Latency: time.Duration(math.MaxInt64)},
		{Route: "/x", Outcome: "ok", Latency: -5 * time.Millisecond},
		{Route: "/x", Outcome: "ok", Latency: 1500 * time.Nanosecond},
		{Route: "/x", Outcome: "ok", Counters: []string{"c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12", "c13", "c14", "c15", "c16", "c17", "B", "A"}},
	}
	for _, service := range []string{"prod-auth", "", "a<b>&\"c\\\u00e9\u2028\t"} {
		e := New(io.Discard, service).WithClock(func() time.Time { return stamp })
		for _, r := range requests {
			want, err := e.mapDocument(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := e.appendDocument(nil, r); !bytes.Equal(got, want) {
				t.Errorf("service %q, %+v:\n got %s\nwant %s", service, r, got, want)
			}
		}
	}
}

// A line costs no allocation once the pool is warm.
func TestRecordDoesNotAllocate(t *testing.T) {
	e := New(io.Discard, "prod-auth")
	r := Request{Route: "/par", Outcome: "push_created", Latency: time.Millisecond, Counters: []string{PushedRequests}}
	if n := testing.AllocsPerRun(100, func() { _ = e.Record(r) }); n != 0 {
		t.Errorf("Record allocates %v times per line, want 0", n)
	}
}
