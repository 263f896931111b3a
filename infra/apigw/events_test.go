package apigw

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func templateRoutes(tb testing.TB) []Route {
	tb.Helper()
	routes, err := LoadRoutes(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	return routes
}

// headersTheGatewayAdds are the request headers API Gateway itself sets: the
// equivalent HTTP request does not carry them.
var headersTheGatewayAdds = []string{"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id", "content-length"}

// requestFor is the HTTP request a client sent for the recorded event ev, as it
// reaches API Gateway: the method, path and query, its own headers, cookies and body.
func requestFor(tb testing.TB, ev Event) (*http.Request, []byte) {
	tb.Helper()
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			tb.Fatal(err)
		}
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	r, err := http.NewRequest(ev.RequestContext.HTTP.Method, "https://"+ev.Headers["host"]+target, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	r.Proto, r.RemoteAddr = ev.RequestContext.HTTP.Protocol, ev.RequestContext.HTTP.SourceIP+":51234"
	for name, v := range ev.Headers {
		if name == "host" || contains(headersTheGatewayAdds, name) {
			continue
		}
		r.Header.Set(name, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	return r, body
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var (
	requestIDShape = regexp.MustCompile(`^[A-Za-z0-9+/]{15}=$`)
	traceIDShape   = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
)

// TestNewEvent_BuildsTheRecordedEvents: for each file in events/, the event built
// from the equivalent HTTP request is the recorded one, field by field, except the
// ids and times (requestId, x-amzn-trace-id, time, timeEpoch: checked for their
// shape) and the body's encoding: API Gateway base64-encodes form posts, as
// par-base64.json records; par.json and token.json carry theirs as text, the way
// events for `sam local invoke -e` are written by hand, so their body is compared
// decoded.
func TestNewEvent_BuildsTheRecordedEvents(t *testing.T) {
	routes := templateRoutes(t)
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var recorded Event
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields() // a field the recording has and Event lacks is a difference
			if err := dec.Decode(&recorded); err != nil {
				t.Fatal(err)
			}
			r, body := requestFor(t, recorded)
			route, ok := match(routes, r.Method, r.URL.Path)
			if !ok {
				t.Fatalf("no route of template.yaml for %s %s", r.Method, r.URL.Path)
			}
			now := time.UnixMilli(recorded.RequestContext.TimeEpoch)
			got := NewEvent(r, body, route, recorded.RequestContext.APIID, recorded.Headers["x-forwarded-proto"], recorded.Headers["x-forwarded-port"], now.Add(time.Hour))

			if !requestIDShape.MatchString(got.RequestContext.RequestID) {
				t.Errorf("requestId %q is not shaped like API Gateway's", got.RequestContext.RequestID)
			}
			if !traceIDShape.MatchString(got.Headers["x-amzn-trace-id"]) {
				t.Errorf("x-amzn-trace-id %q is not an X-Ray trace header", got.Headers["x-amzn-trace-id"])
			}
			if at, err := time.Parse(requestTimeLayout, got.RequestContext.Time); err != nil || at.UnixMilli()/1000 != got.RequestContext.TimeEpoch/1000 {
				t.Errorf("time %q does not match timeEpoch %d: %v", got.RequestContext.Time, got.RequestContext.TimeEpoch, err)
			}
			for _, ev := range []*Event{&got, &recorded} {
				ev.RequestContext.RequestID, ev.RequestContext.Time, ev.RequestContext.TimeEpoch = "", "", 0
				delete(ev.Headers, "x-amzn-trace-id")
			}
			if recorded.Headers["content-type"] == "application/x-www-form-urlencoded" {
				if !got.IsBase64Encoded {
					t.Errorf("a form post's body is not base64-encoded")
				}
				if !recorded.IsBase64Encoded {
					recorded.Body, recorded.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(recorded.Body)), true
				}
			}
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			wantJSON, _ := json.MarshalIndent(recorded, "", "  ")
			if !reflect.DeepEqual(got, recorded) {
				t.Errorf("built event differs from %s:\ngot  %s\nwant %s", filepath.Base(file), gotJSON, wantJSON)
			}
		})
	}
}

// TestNewEvent_MapsHeadersCookiesAndQueryAsAPIGateway: duplicates comma-joined,
// lowercase names, Cookie headers into cookies, the client's X-Forwarded-For kept
// with its address appended, repeated query names joined, text bodies as text.
func TestNewEvent_MapsHeadersCookiesAndQueryAsAPIGateway(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:3000/token?a=1&a=2&b=%2F", strings.NewReader(`{"x":1}`))
	r.RemoteAddr = "192.0.2.7:4000"
	r.Header.Add("X-Custom", "one")
	r.Header.Add("X-Custom", "two")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	r.Header.Set("User-Agent", "ua/1")
	body := []byte(`{"x":1}`)
	ev := NewEvent(r, body, Route{Key: "ANY /token"}, "local", "http", "3000", time.Now())
	want := map[string]string{"x-custom": "one,two", "x-forwarded-for": "198.51.100.1, 192.0.2.7", "x-forwarded-proto": "http", "x-forwarded-port": "3000", "host": "127.0.0.1:3000", "content-length": "7", "user-agent": "ua/1"}
	for k, v := range want {
		if ev.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, ev.Headers[k], v)
		}
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("the cookie header stayed in headers")
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("cookies %q", ev.Cookies)
	}
	if !reflect.DeepEqual(ev.QueryStringParameters, map[string]string{"a": "1,2", "b": "/"}) || ev.RawQueryString != "a=1&a=2&b=%2F" {
		t.Errorf("query %q, raw %q", ev.QueryStringParameters, ev.RawQueryString)
	}
	if ev.Body != `{"x":1}` || ev.IsBase64Encoded {
		t.Errorf("a JSON body is sent as text: %q base64 %v", ev.Body, ev.IsBase64Encoded)
	}
	if ev.RequestContext.HTTP.SourceIP != "192.0.2.7" || ev.RequestContext.DomainName != "127.0.0.1" || ev.RequestContext.Stage != "$default" {
		t.Errorf("requestContext %+v", ev.RequestContext)
	}
}
