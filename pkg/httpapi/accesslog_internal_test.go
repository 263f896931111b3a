package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// accessCase is one request's access line: what observe knows at the end of it.
type accessCase struct {
	name      string
	requestID string // X-Request-Id
	lambda    bool   // Options.RequestIDs gives the platform's ids
	status    int
	took      time.Duration
	log       requestLog
}

// lineWithoutTime is one line with its time field taken out: the direct line and
// slog's take the time a few nanoseconds apart.
var timeField = regexp.MustCompile(`^\{"time":"([^"]*)",`)

func lineWithoutTime(t testing.TB, line string) (rest, stamp string) {
	t.Helper()
	m := timeField.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no time field first: %q", line)
	}
	return "{" + line[len(m[0]):], m[1]
}

// recordBoth writes c's access line through NewJSONLogger (the direct line) and
// through slog.NewJSONHandler (what the line was before, and what any other logger
// gets), and returns both.
func recordBoth(t testing.TB, c accessCase) (direct, viaSlog string) {
	t.Helper()
	var out [2]bytes.Buffer
	for _, logger := range []*slog.Logger{
		NewJSONLogger(&out[0], slog.LevelDebug),
		slog.New(slog.NewJSONHandler(&out[1], &slog.HandlerOptions{Level: slog.LevelDebug})),
	} {
		h := &Handler{log: logger}
		if c.lambda {
			h.opts.RequestIDs = func(*http.Request) (string, string) { return c.requestID, "lambda-" + c.requestID }
		}
		r := httptest.NewRequest(http.MethodPost, PathPAR, nil)
		if c.requestID != "" && !c.lambda {
			r.Header.Set("X-Request-Id", c.requestID)
		}
		l := c.log
		h.record(r, &l, c.status, c.took)
	}
	return out[0].String(), out[1].String()
}

// The access line observe appends itself is byte for byte the line slog's JSON
// handler writes for the same fields (the time apart, taken a moment later), at every
// level and with every optional field, escapes included; its time is RFC 3339 with
// nanoseconds, as slog's JSON handler writes it.
func TestAccessLine_SameBytesAsSlog(t *testing.T) {
	cases := []accessCase{
		{name: "push created", requestID: "req-1", status: http.StatusCreated, took: 1234567 * time.Nanosecond,
			log: requestLog{clientID: "c1", outcome: outcomePushCreated}},
		{name: "no outcome, 200, zero duration", requestID: "r", status: http.StatusOK},
		{name: "lambda ids", requestID: "api-id", lambda: true, status: http.StatusOK, took: time.Second},
		{name: "4xx with reason and user hash", requestID: "r2", status: http.StatusBadRequest, took: 999 * time.Microsecond,
			log: requestLog{clientID: "client \"quoted\" <&> \u2028 é \x01", userHash: "abc",
				err: oauth.InvalidRequest("x").WithCause(errors.New(strings.Repeat("long reason ", 30)))}},
		{name: "5xx with cause", requestID: "r3", status: http.StatusInternalServerError, took: 42 * time.Millisecond,
			log: requestLog{err: oauth.ServerError(errors.New("boom\n\t\"x\"\\ \xff\xfe"))}},
		{name: "warn: rate and consent outages", requestID: "r4", status: http.StatusCreated,
			log: requestLog{outcome: outcomeCodeIssued, rateOutage: errors.New("counter down"), consentOutage: errors.New("consent down")}},
		{name: "error and outage", requestID: "r5", status: http.StatusServiceUnavailable,
			log: requestLog{err: oauth.AsError(oauth.ErrUnavailable), rateOutage: errors.New("down")}},
		{name: "tiny duration", requestID: "r6", status: http.StatusOK, took: time.Microsecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			direct, viaSlog := recordBoth(t, c)
			d, stamp := lineWithoutTime(t, direct)
			s, _ := lineWithoutTime(t, viaSlog)
			if d != s {
				t.Errorf("direct line\n%s\nslog's\n%s", d, s)
			}
			if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil {
				t.Errorf("time %q: %v", stamp, err)
			}
		})
	}
}

// Without an id from the platform or the proxy, the line's request_id is a fresh 24
// hexadecimal digits, both ways, and differs from one request to the next.
func TestAccessLine_RandomRequestID(t *testing.T) {
	hexID := regexp.MustCompile(`^[0-9a-f]{24}$`)
	seen := map[string]bool{}
	for range 3 {
		direct, viaSlog := recordBoth(t, accessCase{status: http.StatusOK})
		for _, line := range []string{direct, viaSlog} {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			id, _ := m["request_id"].(string)
			if !hexID.MatchString(id) || seen[id] {
				t.Errorf("request_id %q: want 24 fresh hex digits", id)
			}
			seen[id] = true
		}
	}
}

// Lines written at once, through the direct path and through slog's handler of the
// same logger, reach the writer whole: one JSON object per line.
func TestAccessLine_ConcurrentLinesStayWhole(t *testing.T) {
	var out bytes.Buffer // not safe for concurrent use: NewJSONLogger serializes
	logger := NewJSONLogger(&out, slog.LevelInfo)
	h := &Handler{log: logger}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if i%2 == 0 {
					logger.Info("other", "n", i)
					continue
				}
				r := httptest.NewRequest(http.MethodGet, PathJWKS, nil)
				h.record(r, &requestLog{}, http.StatusOK, time.Millisecond)
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines, want 400", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("not a JSON line: %q", l)
		}
	}
}

// A logger derived from NewJSONLogger's with attributes keeps them on the access
// line: the direct path is only for the logger as made.
func TestAccessLine_DerivedLoggerKeepsItsAttributes(t *testing.T) {
	var out bytes.Buffer
	h := &Handler{log: NewJSONLogger(&out, slog.LevelInfo).With("function", "par")}
	h.record(httptest.NewRequest(http.MethodGet, PathJWKS, nil), &requestLog{}, http.StatusOK, 0)
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["function"] != "par" || m["msg"] != "request" {
		t.Errorf("line %s", out.String())
	}
}

// Below the logger's level no access line is written, directly or not.
func TestAccessLine_LevelFilters(t *testing.T) {
	var out bytes.Buffer
	h := &Handler{log: NewJSONLogger(&out, slog.LevelWarn)}
	h.record(httptest.NewRequest(http.MethodGet, PathJWKS, nil), &requestLog{}, http.StatusOK, 0)
	if out.Len() != 0 {
		t.Errorf("an info line at level warn: %s", out.String())
	}
	h.record(httptest.NewRequest(http.MethodGet, PathJWKS, nil), &requestLog{}, http.StatusInternalServerError, 0)
	if !strings.Contains(out.String(), `"level":"ERROR"`) {
		t.Errorf("no error line: %q", out.String())
	}
}

// FuzzAccessLine: for any strings in the fields a request can put on its line (the
// client id, a cause, a reason) and any status and duration, the direct line is the
// bytes slog's JSON handler writes, it is valid JSON (RFC 8259), and it decodes to
// the strings encoding/json would (invalid UTF-8 replaced by U+FFFD).
func FuzzAccessLine(f *testing.F) {
	f.Add("c1", "cause", "reason", 201, int64(1500))
	f.Add("\"<&>\\\u2028\u2029\x00\x1f\x7f", "\xff\xfe\xfd", "é\n\r\t", 500, int64(0))
	f.Add("", "", "", 400, int64(1))
	f.Fuzz(func(t *testing.T, clientID, cause, reason string, status int, micros int64) {
		if status < 100 || status > 599 {
			status = 200 + status%300
			if status < 200 {
				status += 300
			}
		}
		l := requestLog{clientID: clientID, userHash: reason}
		switch {
		case status >= 500:
			l.err = oauth.ServerError(errors.New(cause))
		case status >= 400:
			l.err = oauth.InvalidRequest("bad").WithCause(errors.New(reason))
		}
		if micros%3 == 0 {
			l.rateOutage = errors.New(cause)
		}
		c := accessCase{requestID: "fuzz", status: status, took: time.Duration(micros) * time.Microsecond, log: l}
		direct, viaSlog := recordBoth(t, c)
		d, _ := lineWithoutTime(t, direct)
		s, _ := lineWithoutTime(t, viaSlog)
		if d != s {
			t.Fatalf("direct line\n%q\nslog's\n%q", d, s)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(direct), &m); err != nil {
			t.Fatalf("%q: %v", direct, err)
		}
		if clientID != "" && m["client_id"] != viaJSON(clientID) {
			t.Errorf("client_id %q, want %q", m["client_id"], viaJSON(clientID))
		}
	})
}

// viaJSON is s as encoding/json carries it: marshaled and read back.
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
