package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// OpenID Connect Back-Channel Logout 1.0 (docs/design.md decision 34): when a
// browser's session ends by a logout (RP-Initiated Logout, decision 33) or by "Not
// you?" on the login page, every client the session signed in to that registered a
// backchannel_logout_uri is sent a logout token, a JWT signed like an ID token. The
// domain builds and signs the tokens; the POST is a LogoutSender's (pkg/backchannel),
// so this package stays free of net/http.

// BackchannelLogoutEvent is the member of a logout token's events claim (§2.4: "a
// JSON object containing the member name
// http://schemas.openid.net/event/backchannel-logout").
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenType is the logout token's JOSE typ header (§2.4: "Logout Tokens
// SHOULD be explicitly typed ... by using the typ header parameter value
// logout+jwt"; §4.1, cross-JWT confusion).
const LogoutTokenType = "logout+jwt"

// LogoutTokenLifetime bounds a logout token (§2.4 exp: "OPTIONAL ... It is
// RECOMMENDED that the exp claim be included, with a short lifetime"): it is only
// ever delivered during the logout, within seconds.
const LogoutTokenLifetime = 2 * time.Minute

// CheckBackchannelLogoutURI checks the client's backchannel_logout_uri (§2.2: "The
// URL MUST be an absolute URL ... The URL MAY contain port, path, and query
// parameter components ... it MUST NOT include a fragment component"): https, or
// http on a loopback host only (as redirect URIs, RFC 9700 §2.1), with a host and no
// user information. backchannel_logout_session_required needs a URI to apply to.
func CheckBackchannelLogoutURI(c *Client) error {
	uri := c.BackchannelLogoutURI
	if uri == "" {
		if c.BackchannelLogoutSessionRequired {
			return errors.New("backchannel_logout_session_required needs a backchannel_logout_uri")
		}
		return nil
	}
	u, err := url.Parse(uri)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("backchannel_logout_uri %q must be an absolute URL (Back-Channel Logout 1.0 §2.2)", uri)
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return fmt.Errorf("backchannel_logout_uri %q must not have a fragment (Back-Channel Logout 1.0 §2.2)", uri)
	case u.User != nil:
		return fmt.Errorf("backchannel_logout_uri %q must not carry user information", uri)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("backchannel_logout_uri %q must use https (http only on loopback)", uri)
}

// LogoutDelivery is one logout token to POST to one client's backchannel_logout_uri.
// Token must never be logged.
type LogoutDelivery struct {
	ClientID string
	URI      string
	Token    string
}

// Outcomes of a delivery (LogoutOutcome.Result).
const (
	// LogoutDelivered: the client answered 200 or 204 (§2.8).
	LogoutDelivered = "delivered"
	// LogoutRefused: the client answered another status (400 for a token it
	// rejects, §2.8); Status says which.
	LogoutRefused = "refused"
	// LogoutUnreachable: no answer within the time (network error, timeout, an
	// address the sender does not connect to).
	LogoutUnreachable = "unreachable"
	// LogoutFailed: no token could be sent (the client could not be read, or the
	// token not signed).
	LogoutFailed = "failed"
)

// LogoutOutcome is what became of one client's logout token: for the log line and
// the metrics, never with the token.
type LogoutOutcome struct {
	ClientID string
	Result   string
	// Status is the HTTP status the client answered (0 for none).
	Status int
	// Attempts is how many POSTs were made (0 when none could be).
	Attempts int
}

// LogoutSender POSTs logout tokens to clients (§2.5), all of them before it
// returns, within its own bounds, and reports one outcome per delivery in order.
type LogoutSender interface {
	SendLogouts(ctx context.Context, deliveries []LogoutDelivery) []LogoutOutcome
}

// WithLogoutSender sets how back-channel logout tokens are delivered; without one,
// BackchannelLogout sends nothing.
func WithLogoutSender(l LogoutSender) Option { return func(s *Service) { s.logouts = l } }

// logoutTokenClaims are a logout token's claims (§2.4).
type logoutTokenClaims struct {
	Issuer   string                    `json:"iss"`
	Subject  string                    `json:"sub"`
	Audience string                    `json:"aud"`
	IssuedAt int64                     `json:"iat"`
	Expiry   int64                     `json:"exp"`
	ID       string                    `json:"jti"`
	Events   map[string]map[string]any `json:"events"`
	SID      string                    `json:"sid"`
}

// LogoutToken signs the logout token telling client that sess ended (§2.4): iss,
// aud (the client), iat, a short exp, a unique jti, the back-channel logout event,
// and both sub and sid (§2.4: "A Logout Token MUST contain either a sub or a sid
// Claim, and MAY contain both"; sid is the ID tokens' SessionSID, so
// backchannel_logout_session_required is always met). Never a nonce (§2.4: "A
// nonce Claim MUST NOT be present"). Signed with the ID tokens' key (§2.4: "The
// same keys are used to sign ... Logout Tokens as are used for ID Tokens"), typed
// logout+jwt.
func (s *Service) LogoutToken(ctx context.Context, client *Client, sess *Session) (string, error) {
	jti, err := randomValue()
	if err != nil {
		return "", ServerError(err)
	}
	now := s.now()
	tok, err := s.signer.Sign(ctx, LogoutTokenType, logoutTokenClaims{
		Issuer:   s.cfg.Issuer,
		Subject:  sess.Subject,
		Audience: client.ID,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(LogoutTokenLifetime).Unix(),
		ID:       jti,
		Events:   map[string]map[string]any{BackchannelLogoutEvent: {}},
		SID:      SessionSID(sess.Key),
	})
	if err != nil {
		return "", AsError(fmt.Errorf("sign logout token: %w", err))
	}
	return tok, nil
}

// BackchannelLogout tells the clients sess signed in to that it ended (§2.3: the OP
// remembers the RPs a session logged in to; §2.5: it POSTs each a logout token).
// Clients without a backchannel_logout_uri, gone or disabled are skipped. It
// returns one outcome per client told, for the caller to log; the session has
// ended whatever they are: a client that missed its token is not told again.
func (s *Service) BackchannelLogout(ctx context.Context, sess *Session) []LogoutOutcome {
	if s.logouts == nil || sess == nil || len(sess.Clients) == 0 {
		return nil
	}
	var out []LogoutOutcome
	var deliveries []LogoutDelivery
	for _, id := range sess.Clients {
		c, err := s.client(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			out = append(out, LogoutOutcome{ClientID: id, Result: LogoutFailed})
			continue
		}
		if c.Disabled || c.BackchannelLogoutURI == "" {
			continue
		}
		tok, err := s.LogoutToken(ctx, c, sess)
		if err != nil {
			out = append(out, LogoutOutcome{ClientID: id, Result: LogoutFailed})
			continue
		}
		deliveries = append(deliveries, LogoutDelivery{ClientID: c.ID, URI: c.BackchannelLogoutURI, Token: tok})
	}
	if len(deliveries) > 0 {
		out = append(out, s.logouts.SendLogouts(ctx, deliveries)...)
	}
	return out
}
