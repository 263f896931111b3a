package oauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Per-client rate limits at the back channel (docs/design.md decision 23). RFC 9126
// §2.3 names "429 Too Many Requests: If the request was rate-limited" among the
// answers of the pushed authorization request endpoint; the same limit covers
// /token, /revoke and /introspect, whose callers authenticate the same way.

// RateLimit is a number of requests per fixed window. The zero value is no limit
// ("off").
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// RateLimitOff is the text of no limit.
const RateLimitOff = "off"

// Bounds of a rate limit's text: up to a billion requests per window of one second
// to a day.
const (
	maxRateRequests = 1_000_000_000
	maxRateWindow   = 24 * time.Hour
)

// DefaultRateLimit is CLIENT_RATE_LIMIT's default: 600 requests per minute per
// client, ten a second on average, far above what one client's sign-ins need and
// low enough that one client cannot take a table's on-demand start (about 4,000
// writes a second) for itself.
var DefaultRateLimit = RateLimit{Requests: 600, Window: time.Minute}

// ParseRateLimit reads "REQUESTS/SECONDS" (e.g. "600/60") or "off".
func ParseRateLimit(s string) (RateLimit, error) {
	if s == RateLimitOff {
		return RateLimit{}, nil
	}
	n, secs, ok := strings.Cut(s, "/")
	requests, err1 := strconv.Atoi(n)
	window, err2 := strconv.Atoi(secs)
	if !ok || err1 != nil || err2 != nil || requests < 1 || requests > maxRateRequests ||
		window < 1 || time.Duration(window)*time.Second > maxRateWindow {
		return RateLimit{}, fmt.Errorf("rate limit %q: want REQUESTS/SECONDS (1 to %d requests per 1 to %d seconds, e.g. 600/60) or %q",
			s, maxRateRequests, int(maxRateWindow/time.Second), RateLimitOff)
	}
	return RateLimit{Requests: requests, Window: time.Duration(window) * time.Second}, nil
}

// Off reports whether l limits nothing.
func (l RateLimit) Off() bool { return l.Requests <= 0 || l.Window <= 0 }

// String is l in ParseRateLimit's format.
func (l RateLimit) String() string {
	if l.Off() {
		return RateLimitOff
	}
	return strconv.Itoa(l.Requests) + "/" + strconv.Itoa(int(l.Window/time.Second))
}

// DefaultRateCounterTimeout bounds the counter's store call (Config.RateCounterTimeout):
// the limit must never hold a request up, so a slow store lets the request through
// uncounted rather than make it wait.
const DefaultRateCounterTimeout = 100 * time.Millisecond

// rateKey is the counter of client's window starting at start (Unix seconds): the
// client id hashed (an id may be long and is the operator's choice of text), the
// start in the clear, so that every window has a key of its own and a counter the
// store keeps past its expiry (DynamoDB TTL deletes late) is never counted on. A
// public client is counted per source address too (LimitClient).
func rateKey(client *Client, clientIP string, start int64) string {
	id := "rate\x00" + client.ID
	if client.Public() && clientIP != "" {
		id += "\x00" + clientIP
	}
	return HashKey(id) + "#" + strconv.FormatInt(start, 10)
}

// RateLimitOf is the limit that applies to client: its rate_limit metadata when set,
// else the server's (Config.ClientRateLimit). A rate_limit that does not parse
// (seed and admin check it before it is stored) is reported and the server's limit
// applies.
func (s *Service) RateLimitOf(client *Client) (RateLimit, error) {
	if client.RateLimit == "" {
		return s.cfg.ClientRateLimit, nil
	}
	l, err := ParseRateLimit(client.RateLimit)
	if err != nil {
		return s.cfg.ClientRateLimit, fmt.Errorf("client rate_limit: %w", err)
	}
	return l, nil
}

// RateLimited is LimitClient's answer to a request over its client's limit.
type RateLimited struct {
	// RetryAfter is how long until the client's next window starts, in whole
	// seconds, at least one (RFC 9110 §10.2.3 Retry-After).
	RetryAfter time.Duration
}

// LimitClient counts one request of the authenticated client at a back-channel
// endpoint in the client's current fixed window: one store write, no read. It
// returns a non-nil *RateLimited when the count is over the client's limit.
//
// Only identified clients are counted, so that a caller without a client's
// credentials cannot spend its budget. A public client (token_endpoint_auth_method
// none) has none: anyone may send its client_id, so its requests are counted per
// client and clientIP (the address the platform saw, never a header), and one
// caller exhausts only its own address's budget of that client.
//
// It fails open: when the counter cannot be written within Config.RateCounterTimeout
// (an outage, throttling, a slow store), it returns nil and the cause in outage, and
// the request goes on uncounted, because sign-in being available matters more than
// the limit (docs/design.md decision 23). outage never carries a secret: the key is
// a hash.
func (s *Service) LimitClient(ctx context.Context, client *Client, clientIP string) (limited *RateLimited, outage error) {
	limit, err := s.RateLimitOf(client)
	if limit.Off() {
		return nil, err
	}
	now := s.now()
	window := int64(limit.Window / time.Second)
	start := now.Unix() / window * window
	end := time.Unix(start+window, 0)
	timeout := s.cfg.RateCounterTimeout
	if timeout <= 0 {
		timeout = DefaultRateCounterTimeout
	}
	cctx := ctx
	if !s.inProcess {
		// An in-process counter (InProcess) cannot be slow: no timer for it.
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	count, cerr := s.store.CountRequest(cctx, rateKey(client, clientIP, start), now, end)
	if cerr != nil {
		if errors.Is(cerr, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded) {
			cerr = fmt.Errorf("%w (at most %v): %w", errRateCounterSlow, timeout, cerr)
		}
		return nil, errors.Join(err, fmt.Errorf("count request: %w", cerr))
	}
	if count <= limit.Requests {
		return nil, err
	}
	// Whole seconds, rounded up, as Retry-After carries them.
	wait := end.Sub(now)
	return &RateLimited{RetryAfter: max(time.Second, (wait + time.Second - 1).Truncate(time.Second))}, err
}

var errRateCounterSlow = errors.New("the rate counter exceeded its deadline")

// Error is the protocol error of a limited request: temporarily_unavailable, the
// code that tells a client "retry later, your request is fine" (RFC 6749 §4.1.2.1;
// RFC 6749 §5.2 has no code for it, and decision 10 answers every retry-later this
// way), sent with 429 and Retry-After by the edge.
func (l *RateLimited) Error() *Error {
	return newError(CodeTemporarilyUnavailable, "too many requests from this client; retry after %d seconds", int(l.RetryAfter/time.Second))
}
