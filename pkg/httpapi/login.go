package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Brute-force protection at the login form (NIST SP 800-63B §5.2.2; oauth.SignIn).
const (
	outcomeLoginLocked = "login_locked"
	// loginsLocked is the business counter of refused (locked) sign-ins.
	loginsLocked = "LoginsLocked"
)

// clientIP is the address the request came from as the platform saw it: in Lambda
// the API proxy adapter sets RemoteAddr to API Gateway's requestContext.http.sourceIp;
// locally it is the peer address. Never a header the client can set
// (X-Forwarded-For, Forwarded).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// noteUserHash puts the username's pseudonym on the access line.
func noteUserHash(ctx context.Context, username string) {
	logOf(ctx).userHash = oauth.UsernameHash(username)
}

// loginRefused answers a sign-in that SignIn refused before checking the password,
// and reports whether it did. A locked username or IP gets the login page again with
// when to retry, 429 and Retry-After (RFC 6585 §4), the same for every username; a
// request out of attempts gets an error page: the user starts again.
func (h *Handler) loginRefused(w http.ResponseWriter, r *http.Request, f *postedForm, username string, err error) bool {
	var locked *oauth.LoginLockedError
	switch {
	case errors.As(err, &locked):
		noteOutcome(r.Context(), outcomeLoginLocked, loginsLocked)
		noteUserHash(r.Context(), username)
		secs := int(locked.RetryAfter / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		msg := "Too many failed sign-in attempts. Try again in " + waitText(locked.RetryAfter) + "."
		h.renderLogin(w, r, http.StatusTooManyRequests, f.tx.Client, h.loginData(f.tx, f.st, f.requestURI, username, msg))
		return true
	case errors.Is(err, oauth.ErrTooManyAttempts):
		h.clearTx(w, f.st.Key)
		h.errorPageStatus(w, r, http.StatusTooManyRequests,
			oauth.AccessDenied("too many failed sign-in attempts for this request; return to the application and start again"))
		return true
	}
	return false
}

// waitText says a wait in words: seconds under two minutes, else whole minutes, rounded up.
func waitText(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs <= 1:
		return "1 second"
	case secs < 120:
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}
