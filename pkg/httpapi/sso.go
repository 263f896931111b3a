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

// startSession creates the session of a login that just succeeded, by auth's amr,
// acr and identity provider, ending the browser's previous one (another user, or the
// same one before prompt=login or max_age), and sets its cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, user *oauth.User, clientID string, now time.Time, auth oauth.Authentication) (*oauth.Session, error) {
	if old := h.sessionID(r); old != "" {
		if _, err := h.svc.EndSession(r.Context(), old); err != nil {
			return nil, err
		}
	}
	id, sess, err := h.svc.StartSession(r.Context(), oauth.SignedInAs(user), clientID, now, auth)
	if err != nil {
		return nil, err
	}
	h.writeSession(w, id, sess.ExpiresAt, now)
	return sess, nil
}

// continueSession is "Continue as NAME" on the login page: the browser's live session
// signs the transaction in, as a session reused at /authorize would (OIDC Core
// §3.1.2.1 prompt=select_account), and the consent page follows (Post/Redirect/Get).
// The request is read again and judged as at /authorize: a request that requires a
// new authentication (prompt=login, max_age) is not signed in by a posted "continue".
// A session that ended meanwhile, or may not be used, leaves the login page.
func (h *Handler) continueSession(w http.ResponseWriter, r *http.Request) {
	now := h.svc.Now()
	f, err := h.resumeForm(r, now, false)
	if err != nil {
		h.formError(w, r, f, err)
		return
	}
	sess, user, err := h.currentSession(w, r)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	if sess != nil {
		if use, perr := oauth.SessionPrompt(&f.tx.Request.Request, sess, true, now); perr != nil || use == oauth.NeedsLogin {
			sess = nil
		}
	}
	if sess != nil {
		switch err := h.svc.UseSession(r.Context(), sess, f.tx.Client.ID); {
		case errors.Is(err, oauth.ErrNoSession):
			h.clearSession(w)
			sess = nil
		case err != nil:
			h.errorPage(w, r, err)
			return
		}
	}
	if sess != nil {
		csrf, err := newCSRF()
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		st := f.st
		st.Username, st.AuthTime, st.CSRF = user.Username, sess.AuthTime.Unix(), csrf
		st.AMR, st.SID = sess.AMR, oauth.SessionSID(sess.Key)
		st.ACR, st.IDP = sess.ACR, sess.IDP
		st.User = carryUser(oauth.SignedInAs(user))
		if err := h.writeTx(w, r, st, now); err != nil {
			h.errorPage(w, r, err)
			return
		}
	}
	h.redirect(w, r, continueURL(f.tx.Client.ID, f.requestURI))
}

// switchUser is "Not you?" on the login page: it ends the browser's session (the
// store record and the cookie), tells its clients by back-channel logout, and shows
// the login page again.
func (h *Handler) switchUser(w http.ResponseWriter, r *http.Request) {
	now := h.svc.Now()
	f, err := h.resumeForm(r, now, true)
	if err != nil {
		h.formError(w, r, f, err)
		return
	}
	if id := h.sessionID(r); id != "" {
		ended, err := h.svc.EndSession(r.Context(), id)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		// The clients the session signed in to are told it ended, as at a logout
		// (Back-Channel Logout 1.0; docs/design.md decision 34).
		h.tellClients(r.Context(), ended)
	}
	h.clearSession(w)
	h.redirect(w, r, continueURL(f.tx.Client.ID, f.requestURI))
}
