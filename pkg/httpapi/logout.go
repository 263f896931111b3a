package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// RP-Initiated Logout 1.0 at the end_session_endpoint, /logout (docs/design.md
// decision 33). The authorize function serves it: it owns the session cookie and the
// pages.

// stepLogout is the confirmation page's routing field value (Page contract).
const stepLogout = "logout"

type logoutData struct {
	Title, Brand                 string
	CSS                          template.CSS
	Action, ClientID, ClientName string
	Username, CSRF               string
	PostLogoutRedirectURI, State string
	// formAction is the post_logout_redirect_uri's origin, added to the CSP
	// form-action: the confirmed logout redirects there.
	formAction string
}

type signedOutData struct {
	Title, Brand string
	CSS          template.CSS
}

func (h *Handler) logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		var params url.Values
		confirmed := false
		switch r.Method {
		case http.MethodGet:
			// RP-Initiated Logout 1.0 §2: "OPs MUST support the use of the HTTP GET
			// and POST methods". The raw query, as at /authorize (repeats refused).
			p, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				h.errorPage(w, r, oauth.InvalidRequest("the query string is malformed"))
				return
			}
			params = p
		case http.MethodPost:
			form, err := readForm(w, r)
			if errors.Is(err, errTooLarge) {
				h.tooLarge(w, r, PathLogout)
				return
			}
			if err != nil {
				h.errorPage(w, r, oauth.InvalidRequest("the form is malformed"))
				return
			}
			params = form
			if _, step := form[stepField]; step {
				if form.Get(stepField) != stepLogout {
					h.errorPage(w, r, oauth.InvalidRequest("the form is not a logout form"))
					return
				}
				confirmed = true
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			h.errorPageStatus(w, r, http.StatusMethodNotAllowed, oauth.InvalidRequest("use GET or POST"))
			return
		}
		// checkParams (in ParseLogout) refuses repeated parameters, the page's
		// fields included; the hint is never logged (the access line has no query).
		req, err := h.svc.ParseLogout(ctx, params)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		if req.Client != nil {
			noteClient(ctx, req.Client.ID)
		}
		sess, user, err := h.currentSession(w, r)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		if sess == nil {
			// Nothing to end (signed out already, or the session expired).
			noteOutcome(ctx, outcomeSignedOut)
			h.loggedOut(w, r, req)
			return
		}
		id := h.sessionID(r)
		if confirmed {
			ok, err := h.checkLogoutCSRF(ctx, id, params.Get("csrf"))
			if err != nil {
				h.errorPage(w, r, err)
				return
			}
			if !ok {
				h.errorPage(w, r, errCSRF)
				return
			}
		} else if !req.HintMatches(sess) || req.Unregistered || (req.LogoutHint != "" && req.LogoutHint != user.Username) {
			// §2: the OP asks the End-User whether to log out when no id_token_hint
			// was given or the ID Token does not belong to the browser's current
			// session and user; here also for a logout_hint of another user and a
			// post_logout_redirect_uri that is not registered (§5: a logout request is
			// otherwise a cross-site request anyone can send).
			h.confirmLogout(w, r, req, user, id)
			return
		}
		// The session ends: its grants without offline_access first (Logout), then
		// the store record, then the cookie (same name and attributes, Max-Age=0).
		// The returned session's clients are told by back-channel logout
		// (tellClients, docs/design.md decision 34) before the browser moves on.
		ended, err := h.svc.Logout(ctx, id)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		h.clearSession(w)
		noteOutcome(ctx, outcomeLoggedOut)
		h.tellClients(ctx, ended)
		h.loggedOut(w, r, req)
	})
}

// loggedOut sends the browser to the registered post_logout_redirect_uri with the
// state (§3: "the OP ... redirects the User Agent to the post_logout_redirect_uri"
// with "state ... if included in the Logout Request"), or shows the signed-out page
// when there is none to go to: an unregistered one is never redirected to.
func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request, req *oauth.LogoutRequest) {
	if req.PostLogoutRedirectURI == "" {
		h.render(w, r, http.StatusOK, pageSignedOut, signedOutData{
			Title: "Signed out", Brand: brand, CSS: template.CSS(loadPages().css),
		})
		return
	}
	target := req.PostLogoutRedirectURI
	if req.State != "" {
		u, err := url.Parse(target)
		if err != nil {
			h.errorPage(w, r, oauth.ServerError(err))
			return
		}
		q := u.Query()
		q.Set("state", req.State)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	h.redirect(w, r, target)
}

// confirmLogout shows the confirmation page: a form posting the request back with
// a CSRF token bound to the browser's session (logoutCSRF).
func (h *Handler) confirmLogout(w http.ResponseWriter, r *http.Request, req *oauth.LogoutRequest, user *oauth.User, id string) {
	csrf, err := h.logoutCSRF(r.Context(), id)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	d := logoutData{
		Title: "Sign out", Brand: brand, CSS: template.CSS(loadPages().css),
		Action: PathLogout, Username: sessionUserName(user), CSRF: csrf,
		PostLogoutRedirectURI: req.PostLogoutRedirectURI, State: req.State,
	}
	if req.Client != nil {
		d.ClientID, d.ClientName = req.Client.ID, clientName(req.Client)
	}
	if req.PostLogoutRedirectURI != "" {
		if u, err := url.Parse(req.PostLogoutRedirectURI); err == nil {
			if u.Host != "" {
				d.formAction = u.Scheme + "://" + u.Host
			} else {
				// A native app's private-use URI (RFC 8252 §7.1): its scheme-source.
				d.formAction = u.Scheme + ":"
			}
		}
	}
	noteOutcome(r.Context(), outcomeLogoutPage)
	h.render(w, r, http.StatusOK, pageLogout, d)
}

// The confirmation form's CSRF token is an HMAC-SHA256, under the newest cookie key,
// of the browser's session id: "<kid>.<base64url(mac)>". It needs no cookie of its
// own, only the page of this browser's session can carry it (the id is in an
// HttpOnly cookie, the key is the server's), and it is useless once the session has
// ended. Any key of the set checks it, so a rotation does not expire open pages.
func logoutMAC(key [32]byte, id string) []byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("pargate logout\x00" + id))
	return m.Sum(nil)
}

func (h *Handler) logoutCSRF(ctx context.Context, id string) (string, error) {
	ks, err := h.cookieKeys(ctx)
	if err != nil {
		return "", err
	}
	return ks[0].ID + "." + base64.RawURLEncoding.EncodeToString(logoutMAC(ks[0].Key, id)), nil
}

func (h *Handler) checkLogoutCSRF(ctx context.Context, id, got string) (bool, error) {
	kid, mac, ok := strings.Cut(got, ".")
	if !ok || id == "" {
		return false, nil
	}
	ks, err := h.cookieKeys(ctx)
	if err != nil {
		return false, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return false, nil
	}
	for _, k := range ks {
		if k.ID == kid {
			return hmac.Equal(raw, logoutMAC(k.Key, id)), nil
		}
	}
	return false, nil
}
