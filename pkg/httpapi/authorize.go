package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pargate/pargate/pkg/metrics"
	"github.com/pargate/pargate/pkg/oauth"
)

// The login and consent pages post back to /authorize with a step field. RFC 6749
// §3.1 says unknown authorization parameters are ignored, so a client may send any
// name a spec does not use; the field is named so that no spec ever will, and an
// authorization request POSTed with it is still just an authorization request to
// every other server.
const (
	stepField   = "pargate_step"
	stepLogin   = "login"
	stepConsent = "consent"
	// The login page's buttons for a browser with a single sign-on session:
	// "Continue as NAME" and "Not you?" (docs/design.md decision 31).
	stepContinue = "continue"
	stepSwitch   = "switch"
)

// authorize serves the authorization endpoint: the pushed (or direct) request, the
// login page and the consent page, and the authorization response.
func (h *Handler) authorize() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		switch r.Method {
		case http.MethodGet:
			// RFC 6749 §3.1: parameters must not repeat; API Gateway would join repeats
			// with commas in its parsed view, so the raw query string is parsed here.
			params, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				h.errorPage(w, r, oauth.InvalidRequest("the query string is malformed"))
				return
			}
			h.authorizationRequest(w, r, params)
		case http.MethodPost:
			// At most 64 KiB (limits.go), unlike ParseForm's 10 MB.
			form, err := readForm(w, r)
			if errors.Is(err, errTooLarge) {
				h.tooLarge(w, r, PathAuthorize)
				return
			}
			if err != nil {
				h.errorPage(w, r, oauth.InvalidRequest("the form is malformed"))
				return
			}
			r.PostForm = form
			// The page fields are single-valued, like the parameters at /par (RFC 6749
			// §3.1: "Request and response parameters MUST NOT be included more than
			// once"): two decisions would let the edge and the domain read different ones.
			if _, step := form[stepField]; step {
				for _, name := range []string{stepField, "decision", "csrf", "username", "password", "client_id", "request_uri", "idp"} {
					if len(form[name]) > 1 {
						h.errorPage(w, r, oauth.InvalidRequest("parameter %s is included more than once", name))
						return
					}
				}
			}
			switch r.PostForm.Get(stepField) {
			case stepLogin:
				h.login(w, r)
			case stepConsent:
				h.consent(w, r)
			case stepContinue:
				h.continueSession(w, r)
			case stepSwitch:
				h.switchUser(w, r)
			case stepFederate:
				h.federate(w, r) // federation.go
			default:
				// OIDC Core §3.1.2.1: the authorization request may also come by POST.
				h.authorizationRequest(w, r, r.PostForm)
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			h.errorPageStatus(w, r, http.StatusMethodNotAllowed, oauth.InvalidRequest("use GET or POST"))
		}
	})
}

// authorizationRequest starts or resumes a transaction.
func (h *Handler) authorizationRequest(w http.ResponseWriter, r *http.Request, params url.Values) {
	if _, pushed := params["request_uri"]; !pushed {
		h.direct(w, r, params)
		return
	}
	// RFC 9126 §4 / RFC 9101 §6.3 (docs/design.md decision 5): a pushed request is named by
	// client_id and request_uri alone; other parameters are ignored, never merged.
	for _, name := range []string{"client_id", "request_uri"} {
		if len(params[name]) > 1 {
			h.errorPage(w, r, oauth.InvalidRequest("parameter %s is included more than once", name))
			return
		}
	}
	requestURI := params.Get("request_uri")
	now := h.svc.Now()
	key, _ := oauth.RequestKey(requestURI)
	st, err := h.readTx(r, key, now)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	redemption := oauth.FirstRedemption
	if st != nil {
		redemption = oauth.Redeemed
	}
	tx, err := h.svc.ResumeRequest(r.Context(), params, key, redemption)
	if tx != nil {
		noteClient(r.Context(), tx.Client.ID)
	}
	if err != nil {
		h.authorizeError(w, r, requestOf(tx), err)
		return
	}
	req := &tx.Request.Request
	var reused *oauth.Session
	var reusedUser, offered *oauth.User
	canContinue := false
	// docs/design.md decision 32: a consent the user gave the client before, covering
	// this request, skips the consent page (and lets prompt=none return a code).
	remembered := false
	if st == nil || st.Username == "" {
		// OIDC Core §3.1.2.1: a live single sign-on session skips the login page,
		// unless prompt or max_age ask for a new authentication; prompt=none shows no
		// page at all and answers login_required or consent_required (§3.1.2.6).
		sess, user, err := h.currentSession(w, r)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		if sess != nil {
			if remembered, err = h.svc.ConsentRemembered(r.Context(), tx, oauth.SignedInAs(user)); err != nil {
				h.errorPage(w, r, err)
				return
			}
		}
		// OIDC Core §3.1.2.1 prompt=none: consent_required unless "the Client [has]
		// pre-configured consent" — here, a remembered one.
		use, perr := oauth.SessionPrompt(req, sess, !remembered, now)
		if perr != nil {
			h.authorizeError(w, r, req, perr)
			return
		}
		if use != oauth.ReusesSession {
			remembered = false // the login page first; its redirect back asks again
		}
		if use == oauth.ReusesSession {
			switch err := h.svc.UseSession(r.Context(), sess, tx.Client.ID); {
			case errors.Is(err, oauth.ErrNoSession): // ended meanwhile: sign in
				h.clearSession(w)
				remembered = false
			case err != nil:
				h.errorPage(w, r, err)
				return
			default:
				reused, reusedUser = sess, user
			}
		} else if sess != nil {
			// The login page, with the session's user offered (select_account) or
			// only named, with "Not you?" to end it (prompt=login, max_age, a
			// login_hint of another user).
			offered, canContinue = user, use == oauth.OffersSession
		}
	} else if st.User != nil {
		// Signed in by the login page: its redirect back lands here, before the
		// consent page.
		if remembered, err = h.svc.ConsentRemembered(r.Context(), tx, st.User.signedIn(st.Username)); err != nil {
			h.errorPage(w, r, err)
			return
		}
	}
	if remembered {
		if st == nil {
			st = &txState{Key: tx.Request.Key, ClientID: tx.Client.ID, Expires: tx.Request.Deadline.Unix(), Origin: redirectOrigin(req.RedirectURI)}
		}
		if reused != nil {
			st.Username, st.AuthTime = reusedUser.Username, reused.AuthTime.Unix()
			st.AMR, st.SID = reused.AMR, oauth.SessionSID(reused.Key)
			st.ACR, st.IDP = reused.ACR, reused.IDP
			st.User = carryUser(oauth.SignedInAs(reusedUser))
		}
		// No page and no form post: the approval the user gave before stands for
		// this request, which is consumed and answered exactly as by the consent
		// page's approve (one-time use, decision 4). A cross-site GET gains nothing
		// by it that the user's earlier consent and live session did not already
		// allow.
		h.approveTx(w, r, tx, st, outcomeCodeIssuedRemembered)
		return
	}
	if st == nil || reused != nil {
		csrf, err := newCSRF()
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		if st == nil {
			st = &txState{Key: tx.Request.Key, ClientID: tx.Client.ID, Expires: tx.Request.Deadline.Unix(), Origin: redirectOrigin(req.RedirectURI)}
			// What the request demands of the authentication, for a login through an
			// upstream provider (issue 13; OIDC Core §3.1.2.1): the login page's
			// button reads the cookie, not the request.
			st.Fresh, st.MaxAge = req.HasPrompt("login"), req.MaxAge
		}
		st.CSRF = csrf
		if reused != nil {
			// Signed in by the session: the consent page follows, as after a login.
			st.Username, st.AuthTime = reusedUser.Username, reused.AuthTime.Unix()
			st.AMR, st.SID = reused.AMR, oauth.SessionSID(reused.Key)
			st.ACR, st.IDP = reused.ACR, reused.IDP
			st.User = carryUser(oauth.SignedInAs(reusedUser))
		}
		if err := h.writeTx(w, r, st, now); err != nil {
			h.errorPage(w, r, err)
			return
		}
	}
	// OIDC Core §3.1.2.1 prompt=none: "MUST NOT display any authentication or consent
	// user interface pages", whatever the transaction's state.
	if req.HasPrompt("none") {
		if st.Username == "" {
			h.redirectError(w, r, req, oauth.LoginRequired("the user is not signed in"))
		} else {
			h.redirectError(w, r, req, oauth.ConsentRequired("the user must consent"))
		}
		return
	}
	if st.Username == "" {
		if req.IDPHint != "" && h.federation() {
			// Issue 13: idp_hint naming a provider the client may use skips the login
			// page; any other hint is ignored (RFC 6749 §3.1).
			p, err := h.svc.ProviderFor(r.Context(), tx.Client, req.IDPHint)
			if err == nil {
				h.beginUpstream(w, r, tx.Client.ID, st, requestURI, p)
				return
			}
			if !errors.Is(err, oauth.ErrProviderNotAllowed) {
				h.errorPage(w, r, err)
				return
			}
		}
		noteOutcome(r.Context(), outcomeLoginPage)
		data := h.loginData(tx, st, requestURI, loginHintUsername(req.LoginHint), "")
		if offered != nil {
			data.SessionUser, data.CanContinue = sessionUserName(offered), canContinue
		}
		h.renderLogin(w, r, http.StatusOK, tx.Client, data)
		return
	}
	noteOutcome(r.Context(), outcomeConsentPage)
	h.render(w, r, http.StatusOK, pageConsent, h.consentData(tx, st, requestURI))
}

// direct handles a request that was not pushed: validated, stored, and continued
// under a request_uri like a pushed one.
func (h *Handler) direct(w http.ResponseWriter, r *http.Request, params url.Values) {
	requestURI, req, err := h.svc.StartDirect(r.Context(), params)
	if err != nil {
		if req != nil {
			noteClient(r.Context(), req.ClientID)
		}
		h.authorizeError(w, r, req, err)
		return
	}
	noteClient(r.Context(), req.ClientID)
	noteOutcome(r.Context(), outcomeRequestStored)
	h.redirect(w, r, continueURL(req.ClientID, requestURI))
}

func continueURL(clientID, requestURI string) string {
	return PathAuthorize + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// postedForm is a login or consent form resolved to its transaction.
type postedForm struct {
	tx         *oauth.Transaction
	st         *txState
	requestURI string
}

// resumeForm loads the transaction a login or consent form belongs to and checks its
// CSRF token (errCSRF when it does not match). With signIn set (the login form) it
// does not re-read the pushed request: the sealed cookie says which client the
// request is bound to, checked against the stored request when /authorize wrote it,
// and the login needs nothing else of the request (tx.Request is nil). A request
// consumed, denied or expired since is refused by the consent page's read and by
// the consuming write's condition (docs/design.md decision 4); the cookie itself
// expires at the request's deadline (readTx). On an error the form is nil, except
// for an error the core marked redirectable, which comes with its form (formError).
func (h *Handler) resumeForm(r *http.Request, now time.Time, signIn bool) (*postedForm, error) {
	clientID, requestURI := r.PostForm.Get("client_id"), r.PostForm.Get("request_uri")
	key, ok := oauth.RequestKey(requestURI)
	if !ok {
		return nil, oauth.InvalidRequestURI("the request_uri is missing or malformed")
	}
	st, err := h.readTx(r, key, now)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, oauth.InvalidRequest("your sign-in session has expired or cookies are disabled; return to the application and start again")
	}
	if err := checkCSRF(st, r.PostForm.Get("csrf")); err != nil {
		return nil, err
	}
	if signIn && st.ClientID != "" {
		// RFC 9126 §4 via RFC 9101 §6.3: the client_id "MUST match" the one bound to
		// the request; the cookie carries that binding.
		tx, err := h.svc.ResumeSignIn(r.Context(), clientID, st.ClientID)
		if err != nil {
			return nil, err
		}
		noteClient(r.Context(), tx.Client.ID)
		return &postedForm{tx: tx, st: st, requestURI: requestURI}, nil
	}
	tx, err := h.svc.Resume(r.Context(), clientID, key, oauth.Redeemed)
	if tx == nil {
		return nil, err
	}
	noteClient(r.Context(), tx.Client.ID)
	// A redirectable error comes with its transaction (Resume), for formError.
	return &postedForm{tx: tx, st: st, requestURI: requestURI}, err
}

// formError answers the error of resumeForm: the error redirect when the request
// resolved and the core marked it redirectable, else a page.
func (h *Handler) formError(w http.ResponseWriter, r *http.Request, f *postedForm, err error) {
	var tx *oauth.Transaction
	if f != nil {
		tx = f.tx
	}
	h.authorizeError(w, r, requestOf(tx), err)
}

// requestOf is the authorization request a failed resume still read, nil when it
// read none: with it, authorizeError may redirect (decision 11); without, a page.
func requestOf(tx *oauth.Transaction) *oauth.AuthorizationRequest {
	if tx == nil || tx.Request == nil {
		return nil
	}
	return &tx.Request.Request
}

// login checks the credentials posted by the login page.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	now := h.svc.Now()
	f, err := h.resumeForm(r, now, true)
	if err != nil {
		h.formError(w, r, f, err)
		return
	}
	tx, st, requestURI := f.tx, f.st, f.requestURI
	if !h.svc.LocalLogin() {
		// LOCAL_LOGIN=false (issue 13): the password form is off, and so is its post.
		h.errorPage(w, r, oauth.InvalidRequest("password sign-in is switched off"))
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	user, err := h.svc.SignIn(r.Context(), oauth.LoginAttempt{
		Username: username, Password: r.PostForm.Get("password"), ClientIP: clientIP(r), RequestKey: st.Key,
	})
	if h.loginRefused(w, r, f, username, err) {
		return
	}
	if errors.Is(err, oauth.ErrBadCredentials) {
		noteOutcome(r.Context(), outcomeLoginFailed)
		h.renderLogin(w, r, http.StatusOK, tx.Client, h.loginData(tx, st, requestURI, username, "The username or password is incorrect."))
		return
	}
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	// A fresh CSRF token after authentication, so a token seen before login is useless.
	csrf, err := newCSRF()
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	st.Username, st.AuthTime, st.CSRF = user.Username, now.Unix(), csrf
	st.User = carryUser(oauth.SignedInAs(user))
	// OIDC Core §3.1.2.1: the login starts a single sign-on session for the browser.
	sess, err := h.startSession(w, r, user, tx.Client.ID, now, oauth.Authentication{AMR: []string{oauth.AMRPassword}})
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	st.AMR, st.SID = sess.AMR, oauth.SessionSID(sess.Key)
	if err := h.writeTx(w, r, st, now); err != nil {
		h.errorPage(w, r, err)
		return
	}
	// Post/Redirect/Get: a reload shows the consent page instead of re-posting the password.
	noteOutcome(r.Context(), outcomeLoginSucceeded)
	h.redirect(w, r, continueURL(tx.Client.ID, requestURI))
}

// consent handles the user's decision and sends the authorization response.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request) {
	now := h.svc.Now()
	f, err := h.resumeForm(r, now, false)
	if err != nil {
		h.formError(w, r, f, err)
		return
	}
	tx, st := f.tx, f.st
	if st.Username == "" {
		h.errorPage(w, r, oauth.InvalidRequest("sign in before giving consent"))
		return
	}
	switch r.PostForm.Get("decision") {
	case "approve":
		h.approveTx(w, r, tx, st, outcomeCodeIssued)
	case "deny":
		// RFC 9126 §4: one-time use; the denial consumes the request like an approval.
		target, err := h.svc.Deny(r.Context(), tx)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		h.clearTx(w, st.Key)
		// The user's decision, not a failure: counted by its outcome, not as an error.
		noteOutcome(r.Context(), outcomeConsentDenied)
		h.respond(w, r, target)
	default:
		h.errorPage(w, r, oauth.InvalidRequest("the decision must be approve or deny"))
	}
}

// approveTx approves the request of tx for the signed-in user of st and sends the
// authorization response, with outcome on the access line. The consent page's
// approval (outcomeCodeIssued) is remembered afterwards (docs/design.md decision 32);
// an approval by a remembered consent (outcomeCodeIssuedRemembered) is not written
// again, so a silent authorization costs no write for it.
func (h *Handler) approveTx(w http.ResponseWriter, r *http.Request, tx *oauth.Transaction, st *txState, outcome string) {
	req := &tx.Request.Request
	var target *oauth.AuthorizationResponse
	var err error
	auth := oauth.Authentication{Time: time.Unix(st.AuthTime, 0), AMR: st.AMR, SID: st.SID, ACR: st.ACR, IDP: st.IDP}
	var sub string
	if st.User != nil {
		// The user as the login read it, checked by the
		// consuming write's condition instead of read again.
		user := st.User.signedIn(st.Username)
		sub = user.Subject
		target, err = h.svc.ApproveAs(r.Context(), tx, user, auth)
	} else {
		target, err = h.svc.Approve(r.Context(), tx, st.Username, auth)
	}
	if err != nil {
		var e *oauth.Error
		if errors.As(err, &e) && e.Redirect {
			h.clearTx(w, st.Key)
			h.redirectError(w, r, req, e)
			return
		}
		h.errorPage(w, r, err)
		return
	}
	h.clearTx(w, st.Key)
	if outcome == outcomeCodeIssued && sub != "" {
		// The code is issued: a failure to remember only shows the page next time.
		if err := h.svc.RememberConsent(r.Context(), tx, sub); err != nil {
			logOf(r.Context()).consentOutage = err
		}
	}
	noteOutcome(r.Context(), outcome, metrics.CodesIssued)
	h.respond(w, r, target)
}

// authorizeError answers err at /authorize: at the client's redirect URI when the
// core marked it redirectable and req, the request it belongs to, is known; else an
// error page (RFC 6749 §4.1.2.1; the table in docs/design.md decision 11).
func (h *Handler) authorizeError(w http.ResponseWriter, r *http.Request, req *oauth.AuthorizationRequest, err error) {
	var e *oauth.Error
	if req != nil && errors.As(err, &e) && e.Redirect {
		h.redirectError(w, r, req, e)
		return
	}
	h.errorPage(w, r, err)
}

// redirectError delivers e to the client's redirect URI (RFC 6749 §4.1.2.1), in the
// request's response mode (respond); an error response that cannot be signed is a page.
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, req *oauth.AuthorizationRequest, e *oauth.Error) {
	resp, err := h.svc.ErrorResponse(r.Context(), req, e)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	noteError(r.Context(), e)
	noteOutcome(r.Context(), outcomeErrorRedirected)
	h.respond(w, r, resp)
}

// redirect answers 303 See Other (FAPI 2.0 §5.3.2.2: never 307, 303 recommended).
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, target string) {
	noStore(w)
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
}
