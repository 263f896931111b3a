package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// The single sign-on session cookie (oauth.Session) carries only the random session
// id: 256 bits, 43 base64url characters; the store keeps its SHA-256 (docs/design.md
// decision 1). Under an https issuer it is __Host- prefixed like the transaction
// cookie (Secure, Path=/, no Domain), so a sibling subdomain can neither plant a
// session (fixation) nor overwrite one; HttpOnly, so no script reads it; SameSite=Lax,
// so it comes along on the top-level GET a client redirects the browser with, and on
// no cross-site POST. Path=/ in both modes: the logout endpoint will read it too. The
// id is a bearer secret and is never logged.
const (
	sessionCookie   = "pargate_session"
	sessionIDLength = 43
)

func (h *Handler) sessionCookieName() string {
	if h.secure {
		return hostPrefix + sessionCookie
	}
	return sessionCookie
}

// sessionID is the id the browser's session cookie carries, or "" for none (or one
// that cannot be an id, which is not looked up).
func (h *Handler) sessionID(r *http.Request) string {
	c, err := r.Cookie(h.sessionCookieName())
	if err != nil || len(c.Value) != sessionIDLength {
		return ""
	}
	return c.Value
}

// writeSession sets the session cookie until the session's absolute deadline.
func (h *Handler) writeSession(w http.ResponseWriter, id string, expires, now time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: h.sessionCookieName(), Value: id, Path: "/", MaxAge: max(1, int(expires.Sub(now)/time.Second)),
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearSession deletes the session cookie.
func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: h.sessionCookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// currentSession is the browser's live session and its user, or nils when there is
// none; a cookie naming no usable session is deleted (the session itself was ended by
// CurrentSession). A store error is returned (an outage page, decision 16).
func (h *Handler) currentSession(w http.ResponseWriter, r *http.Request) (*oauth.Session, *oauth.User, error) {
	if _, err := r.Cookie(h.sessionCookieName()); err != nil {
		return nil, nil, nil
	}
	id := h.sessionID(r)
	if id == "" {
		h.clearSession(w)
		return nil, nil, nil
	}
	sess, user, err := h.svc.CurrentSession(r.Context(), id)
	if errors.Is(err, oauth.ErrNoSession) {
		h.clearSession(w)
		return nil, nil, nil
	}
	return sess, user, err
}

// startSession creates the session of a login that just succeeded, ending the
// browser's previous one (another user, or the same one before prompt=login or
// max_age), and sets its cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, user *oauth.User, clientID string, now time.Time) (*oauth.Session, error) {
	if old := h.sessionID(r); old != "" {
		if _, err := h.svc.EndSession(r.Context(), old); err != nil {
			return nil, err
		}
	}
	id, sess, err := h.svc.StartSession(r.Context(), oauth.SignedInAs(user), clientID, now, []string{oauth.AMRPassword})
	if err != nil {
		return nil, err
	}
	h.writeSession(w, id, sess.ExpiresAt, now)
	return sess, nil
}
