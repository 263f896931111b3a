// Package backchannel POSTs OpenID Connect Back-Channel Logout 1.0 logout tokens to
// clients' backchannel_logout_uri (§2.5): the oauth.LogoutSender of the authorize
// function (docs/design.md decision 34). The domain builds and signs the tokens;
// this package only delivers them, over https (http only to loopback, and loopback
// only when a local run allows it), without following redirects, with a short
// timeout per attempt, one retry, and one bound for the whole fan-out.
package backchannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pargate/pargate/pkg/clientkeys"
	"github.com/pargate/pargate/pkg/oauth"
)

// Limits of a logout's deliveries. The user's browser waits for them (a Lambda
// function is frozen once it has answered, so they cannot run after the page), so
// the whole fan-out is bounded: all clients at once, each attempt within
// AttemptTimeout, at most two attempts, and nothing after Budget.
const (
	AttemptTimeout = 1500 * time.Millisecond
	Budget         = 3 * time.Second
	// MaxResponse is how much of a client's answer is read (and discarded): §2.8
	// defines no success body, and an error body is not logged.
	MaxResponse = 4 << 10
)

// ErrNotPublic is the cause of a refused connection: the backchannel_logout_uri's
// host resolves to an address that is not public (clientkeys.PublicAddr).
var ErrNotPublic = errors.New("refused: backchannel_logout_uri resolves to a non-public address")

// errScheme: the URI is neither https nor http on a loopback host.
var errScheme = errors.New("backchannel_logout_uri must be https (http only on loopback)")

// Sender implements oauth.LogoutSender.
type Sender struct {
	HTTP *http.Client
	// AllowLoopback lets deliveries connect to loopback addresses (127.0.0.0/8,
	// ::1), for local runs whose relying parties listen there
	// (BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK, refused in Lambda). Every other non-public
	// address is refused whatever it says.
	AllowLoopback bool
	// AttemptTimeout and Budget override the package's limits (tests); zero is the
	// default.
	AttemptTimeout, Budget time.Duration
}

var _ oauth.LogoutSender = (*Sender)(nil)

// New returns a Sender with the default limits and its own HTTP client: no proxy
// (the address checked is the client's own), no redirects followed (§2.5 names the
// registered URI, not wherever it points), every connection's address checked after
// DNS resolution (dialControl).
func New() *Sender {
	s := &Sender{}
	dialer := &net.Dialer{Timeout: AttemptTimeout, Control: s.dialControl}
	s.HTTP = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: AttemptTimeout,
			MaxIdleConns:        16,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

func (s *Sender) dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !clientkeys.PublicAddr(ap.Addr(), s.AllowLoopback) {
		return ErrNotPublic
	}
	return nil
}

func (s *Sender) limits() (attempt, budget time.Duration) {
	attempt, budget = AttemptTimeout, Budget
	if s.AttemptTimeout > 0 {
		attempt = s.AttemptTimeout
	}
	if s.Budget > 0 {
		budget = s.Budget
	}
	return attempt, budget
}

// SendLogouts POSTs every delivery at once and returns when all have an outcome, at
// most Budget after it was called. The deliveries do not end with ctx's
// cancellation (a browser that goes away does not stop the relying parties from
// being told), only with the budget.
func (s *Sender) SendLogouts(ctx context.Context, ds []oauth.LogoutDelivery) []oauth.LogoutOutcome {
	attempt, budget := s.limits()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), budget)
	defer cancel()
	out := make([]oauth.LogoutOutcome, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = s.deliver(ctx, d, attempt)
		}()
	}
	wg.Wait()
	return out
}

// deliver POSTs one logout token: a second attempt follows a network error or a 5xx
// answer while the budget lasts; a refused address or scheme, or any other answer,
// is final.
func (s *Sender) deliver(ctx context.Context, d oauth.LogoutDelivery, attempt time.Duration) oauth.LogoutOutcome {
	o := oauth.LogoutOutcome{ClientID: d.ClientID, Result: oauth.LogoutUnreachable}
	if err := checkURL(d.URI); err != nil {
		return o
	}
	for o.Attempts < 2 && ctx.Err() == nil {
		o.Attempts++
		status, err := s.post(ctx, d, attempt)
		o.Status = status
		switch {
		case err != nil:
			o.Result = oauth.LogoutUnreachable
			if errors.Is(err, ErrNotPublic) {
				return o
			}
		case status == http.StatusOK || status == http.StatusNoContent:
			// §2.8: "If the logout succeeded, the RP MUST respond with HTTP 200 OK";
			// some frameworks answer 204 for an empty body, which OPs accept.
			o.Result = oauth.LogoutDelivered
			return o
		case status >= 500:
			o.Result = oauth.LogoutRefused
		default:
			// §2.8: "If the logout request was invalid or the logout failed, the RP
			// MUST respond with 400 Bad Request"; a 3xx is not followed. Final.
			o.Result = oauth.LogoutRefused
			return o
		}
	}
	return o
}

func checkURL(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.User != nil {
		return errScheme
	}
	if u.Scheme == "https" || (u.Scheme == "http" && oauth.IsLoopback(u.Hostname())) {
		return nil
	}
	return errScheme
}

// post makes one attempt: §2.5 "The OP uses an HTTP POST to the registered
// back-channel logout URI ... using the application/x-www-form-urlencoded format"
// with the logout_token parameter. The answer is read up to MaxResponse and dropped.
func (s *Sender) post(ctx context.Context, d oauth.LogoutDelivery, attempt time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, attempt)
	defer cancel()
	body := "logout_token=" + url.QueryEscape(d.Token)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URI, strings.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponse))
	return resp.StatusCode, nil
}
