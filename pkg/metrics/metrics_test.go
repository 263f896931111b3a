package metrics_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/metrics"
)

var stamp = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func record(t *testing.T, r metrics.Request) (string, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	e := metrics.New(&buf, "prod-auth").WithClock(func() time.Time { return stamp })
	if err := e.Record(r); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("want exactly one line, got %q", line)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, line)
	}
	checkSpec(t, doc)
	return line, doc
}

// checkSpec checks doc against the EMF specification: the root holds _aws with a
// numeric Timestamp (ms since the epoch) and a CloudWatchMetrics array of
// MetricDirectives; each directive has a Namespace, Dimensions (an array of
// DimensionSets of at most 30 keys, each key a root member with a non-empty string
// value of at most 1024 characters) and Metrics (Name, Unit), each Name being a root
// member with a numeric value.
func checkSpec(t *testing.T, doc map[string]any) {
	t.Helper()
	aws, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("_aws is missing or not an object: %v", doc)
	}
	ts, ok := aws["Timestamp"].(float64)
	if !ok || int64(ts) != stamp.UnixMilli() {
		t.Errorf("_aws.Timestamp = %v, want %d (ms since the epoch)", aws["Timestamp"], stamp.UnixMilli())
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics = %v, want a non-empty array", aws["CloudWatchMetrics"])
	}
	for i, raw := range directives {
		d, ok := raw.(map[string]any)
		if !ok {
			t.Fatalf("directive %d is not an object", i)
		}
		for k := range d {
			if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
				t.Errorf("directive %d has member %q, which the specification does not define", i, k)
			}
		}
		if ns, _ := d["Namespace"].(string); ns != metrics.Namespace {
			t.Errorf("directive %d Namespace = %v, want %q", i, d["Namespace"], metrics.Namespace)
		}
		sets, ok := d["Dimensions"].([]any)
		if !ok {
			t.Fatalf("directive %d Dimensions = %v, want an array of arrays", i, d["Dimensions"])
		}
		for _, rawSet := range sets {
			set, ok := rawSet.([]any)
			if !ok || len(set) > 30 {
				t.Fatalf("directive %d: dimension set %v is not an array of at most 30 keys", i, rawSet)
			}
			for _, key := range set {
				name, _ := key.(string)
				v, ok := doc[name].(string)
				if !ok || v == "" || len(v) > 1024 {
					t.Errorf("dimension %q: root value %v, want a non-empty string of at most 1024 characters", name, doc[name])
				}
			}
		}
		ms, ok := d["Metrics"].([]any)
		if !ok || len(ms) == 0 {
			t.Fatalf("directive %d Metrics = %v, want a non-empty array", i, d["Metrics"])
		}
		for _, rawM := range ms {
			m, _ := rawM.(map[string]any)
			name, _ := m["Name"].(string)
			unit, _ := m["Unit"].(string)
			if name == "" || (unit != metrics.UnitCount && unit != metrics.UnitMilliseconds) {
				t.Errorf("metric %v: want a Name and a CloudWatch Unit", m)
			}
			if _, ok := doc[name].(float64); !ok {
				t.Errorf("metric %q: root value %v, want a number", name, doc[name])
			}
		}
	}
}

// published lists "Metric{Dim,Dim}" for every metric and dimension set the document
// publishes.
func published(doc map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, raw := range doc["_aws"].(map[string]any)["CloudWatchMetrics"].([]any) {
		d := raw.(map[string]any)
		for _, m := range d["Metrics"].([]any) {
			for _, set := range d["Dimensions"].([]any) {
				var keys []string
				for _, k := range set.([]any) {
					keys = append(keys, k.(string))
				}
				out[m.(map[string]any)["Name"].(string)+"{"+strings.Join(keys, ",")+"}"] = true
			}
		}
	}
	return out
}

func TestSuccessfulRequest(t *testing.T) {
	_, doc := record(t, metrics.Request{
		Route: "/par", Outcome: "push_created", Latency: 12345 * time.Microsecond,
		Counters: []string{metrics.PushedRequests},
	})
	want := map[string]any{
		"Service": "prod-auth", "Route": "/par", "Outcome": "push_created",
		"Requests": 1.0, "Latency": 12.345, "PushedRequests": 1.0,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	for _, absent := range []string{"ErrorCode", "Errors"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s is present on a request without an error", absent)
		}
	}
	got := published(doc)
	for _, m := range []string{
		"Requests{Service,Route}", "Requests{Service,Route,Outcome}", "Latency{Service,Route}",
		"PushedRequests{Service}",
	} {
		if !got[m] {
			t.Errorf("%s is not published; got %v", m, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("published %v, want exactly the four above", got)
	}
}

// TestErrorRequest: the error code is a dimension of Errors alone, which is what the
// store-error alarm in template.yaml selects (Service, ErrorCode).
func TestErrorRequest(t *testing.T) {
	_, doc := record(t, metrics.Request{Route: "/token", Outcome: "failed", ErrorCode: "temporarily_unavailable", Latency: time.Second})
	if doc["ErrorCode"] != "temporarily_unavailable" || doc["Errors"] != 1.0 || doc["Latency"] != 1000.0 {
		t.Errorf("ErrorCode %v, Errors %v, Latency %v", doc["ErrorCode"], doc["Errors"], doc["Latency"])
	}
	got := published(doc)
	if !got["Errors{Service,ErrorCode}"] || len(got) != 4 {
		t.Errorf("published %v, want Requests (2 sets), Latency and Errors{Service,ErrorCode}", got)
	}
}

// TestEmptyDimensionValues: EMF drops a document whose dimension value is empty, so
// the emitter never writes one.
func TestEmptyDimensionValues(t *testing.T) {
	_, doc := record(t, metrics.Request{})
	if doc["Route"] != "other" || doc["Outcome"] != "unknown" {
		t.Errorf("Route %v, Outcome %v", doc["Route"], doc["Outcome"])
	}
	var buf bytes.Buffer
	if err := metrics.New(&buf, "").Record(metrics.Request{Route: "/jwks", Outcome: "jwks_served"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"Service":"pargate"`) {
		t.Errorf("default Service: %s", buf.String())
	}
}

func TestCountersAreNotRepeated(t *testing.T) {
	_, doc := record(t, metrics.Request{
		Route: "/token", Outcome: "tokens_refreshed",
		Counters: []string{metrics.TokensIssued, metrics.RefreshTokensRotated, metrics.TokensIssued},
	})
	got := published(doc)
	if !got["TokensIssued{Service}"] || !got["RefreshTokensRotated{Service}"] || doc["TokensIssued"] != 1.0 {
		t.Errorf("published %v; TokensIssued = %v", got, doc["TokensIssued"])
	}
}

// TestExample pins the exact line, as CloudWatch Logs receives it.
func TestExample(t *testing.T) {
	line, _ := record(t, metrics.Request{Route: "/authorize", Outcome: "code_issued", Latency: 8 * time.Millisecond, Counters: []string{metrics.CodesIssued}})
	want := `{"CodesIssued":1,"Latency":8,"Outcome":"code_issued","Requests":1,"Route":"/authorize","Service":"prod-auth",` +
		`"_aws":{"Timestamp":1740830400000,"CloudWatchMetrics":[` +
		`{"Namespace":"pargate","Dimensions":[["Service","Route"],["Service","Route","Outcome"]],"Metrics":[{"Name":"Requests","Unit":"Count"}]},` +
		`{"Namespace":"pargate","Dimensions":[["Service","Route"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]},` +
		`{"Namespace":"pargate","Dimensions":[["Service"]],"Metrics":[{"Name":"CodesIssued","Unit":"Count"}]}]}}` + "\n"
	if line != want {
		t.Errorf("line\n got %s\nwant %s", line, want)
	}
}
