package apigw

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
)

// Event is an HTTP API payload format 2.0 event with the fields API Gateway sets for a
// route without an authorizer, in its JSON shape (aws-lambda-go's
// events.APIGatewayV2HTTPRequest would add an empty "authentication").
type Event struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        RequestContext    `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

// RequestContext is the event's requestContext.
type RequestContext struct {
	AccountID    string      `json:"accountId"`
	APIID        string      `json:"apiId"`
	DomainName   string      `json:"domainName"`
	DomainPrefix string      `json:"domainPrefix"`
	HTTP         HTTPContext `json:"http"`
	RequestID    string      `json:"requestId"`
	RouteKey     string      `json:"routeKey"`
	Stage        string      `json:"stage"`
	Time         string      `json:"time"`
	TimeEpoch    int64       `json:"timeEpoch"`
}

// HTTPContext is requestContext.http.
type HTTPContext struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// requestTimeLayout is $context.requestTime's format.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// NewEvent builds the event API Gateway sends the integration of route for r, whose
// body has been read into body, received at now. proto and port are what the
// gateway's front end is (x-forwarded-proto, x-forwarded-port).
//
// As API Gateway does: header names are lowercased and repeated headers joined with
// commas; Cookie headers become the cookies array (split at "; ") and leave the
// headers; the Host header is kept as host; x-forwarded-for gets the client's address
// appended, x-forwarded-proto and x-forwarded-port are set and x-amzn-trace-id is
// added unless the client sent one; queryStringParameters holds the decoded query,
// repeated names joined with commas (absent when there is no query); a body of a
// text type (text/*, JSON, XML, JavaScript) is passed as is, any other body - form
// posts included - base64-encoded with isBase64Encoded.
func NewEvent(r *http.Request, body []byte, route Route, apiID, proto, port string, now time.Time) Event {
	host := r.Host
	domain := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		domain = h
	}
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(sourceIP); err == nil {
		sourceIP = h
	}
	ev := Event{
		Version:        "2.0",
		RouteKey:       route.Key,
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: RequestContext{
			AccountID:    AccountID,
			APIID:        apiID,
			DomainName:   domain,
			DomainPrefix: strings.SplitN(domain, ".", 2)[0],
			HTTP: HTTPContext{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
			RequestID: newRequestID(),
			RouteKey:  route.Key,
			Stage:     "$default",
			Time:      now.UTC().Format(requestTimeLayout),
			TimeEpoch: now.UnixMilli(),
		},
	}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[name] = strings.Join(values, ",")
	}
	ev.Headers["host"] = host
	if xff := ev.Headers["x-forwarded-for"]; xff != "" {
		ev.Headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		ev.Headers["x-forwarded-for"] = sourceIP
	}
	ev.Headers["x-forwarded-proto"] = proto
	ev.Headers["x-forwarded-port"] = port
	if ev.Headers["x-amzn-trace-id"] == "" {
		ev.Headers["x-amzn-trace-id"] = fmt.Sprintf("Root=1-%08x-%s", now.Unix(), randomHex(12))
	}
	if len(body) > 0 {
		ev.Headers["content-length"] = strconv.Itoa(len(body))
	}
	if r.URL.RawQuery != "" {
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(q) > 0 {
			ev.QueryStringParameters = make(map[string]string, len(q))
			for k, vs := range q {
				ev.QueryStringParameters[k] = strings.Join(vs, ",")
			}
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isText reports whether API Gateway passes a body of this type without base64.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/xml", mt == "application/javascript",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// AccountID is the account of the local API: the Lambda emulator's.
const AccountID = lambdaemu.AccountID

// newRequestID is like API Gateway's $context.requestId: 11 random bytes, base64.
func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
