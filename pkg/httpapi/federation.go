package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// Brokered login at the edge (issue 13; docs/design.md decision 35): the login page's
// provider buttons, the redirect to the upstream, and its callback.
//
// The browser leaves for the upstream with a second sealed cookie, the upstream
// cookie: the transaction it belongs to (request key, client, request_uri) and the
// upstream leg (oauth.UpstreamStart: provider, state, nonce, PKCE verifier). Its
// name carries a hash of the state, so two tabs signing in at once keep theirs
// apart, and it is sealed with the transaction cookies' keys under its own name
// (sealedAD), so neither cookie can stand in for the other. It is SameSite=Lax: the
// upstream's redirect back is a top-level GET, on which Lax cookies come along, and
// no cross-site POST carries it. Over https it is __Host- prefixed (Path=/); on a
// local http issuer it is scoped to Path=/federation/callback. The callback state
// is single-use on the server (Service.UseCallbackState), so a replayed callback
// with a copied cookie fails too.
const (
	// PathFederationCallback is the one redirect_uri of the broker at every upstream
	// (register ISSUER/federation/callback there).
	PathFederationCallback = "/federation/callback"
	stepFederate           = "federate"
	upstreamCookiePrefix   = "pargate_up_"
	// Access-log outcomes of the brokered login.
	outcomeUpstreamRedirect    = "upstream_redirect"
	outcomeUpstreamSignedIn    = "upstream_signed_in"
	outcomeUpstreamRefused     = "upstream_refused"
	outcomeUpstreamInvalid     = "upstream_invalid"
	outcomeUpstreamUnavailable = "upstream_unavailable"
)

// upstreamState is the upstream cookie's content.
type upstreamState struct {
	Key        string              `json:"k"`
	ClientID   string              `json:"i"`
	RequestURI string              `json:"r"`
	Start      oauth.UpstreamStart `json:"u"`
	Expires    int64               `json:"e"`
}

// UpstreamAuthorizationEndpoint is optionally implemented by an oauth.Upstream: the
// authorization endpoint the browser is sent to for provider p (from its cached
// discovery document), whose origin the login page's CSP form-action must allow.
// Without it, or when it fails, the issuer's origin is allowed.
type UpstreamAuthorizationEndpoint interface {
	AuthorizationEndpoint(ctx context.Context, p *oauth.IdentityProvider) (string, error)
}

func (h *Handler) federation() bool { return h.opts.Upstream != nil && h.svc.Federation() }

func (h *Handler) callbackURL() string { return h.svc.Config().Issuer + PathFederationCallback }

func (h *Handler) upstreamCookieName(state string) string {
	name := upstreamCookiePrefix + oauth.HashKey("pargate upstream cookie\x00" + state)[:16]
	if h.secure {
		return hostPrefix + name
	}
	return name
}

func (h *Handler) upstreamCookiePath() string {
	if h.secure {
		return "/"
	}
	return PathFederationCallback
}

// renderLogin renders the login page with the providers tx's client may use, or an
// error page when neither a provider nor the password form is left (LOCAL_LOGIN=false
// and none configured for the client: nothing the user could do).
func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, client *oauth.Client, data loginData) {
	if h.federation() {
		providers, err := h.svc.ProvidersFor(r.Context(), client)
		if err != nil {
			h.errorPage(w, r, err)
			return
		}
		var origins []string
		for _, p := range providers {
			data.Providers = append(data.Providers, providerButton{ID: p.ID, DisplayName: p.DisplayName})
			for _, o := range h.upstreamOrigins(r.Context(), p) {
				if !slices.Contains(origins, o) {
					origins = append(origins, o)
				}
			}
		}
		if data.formAction != "" && !slices.Contains(origins, data.formAction) {
			origins = append([]string{data.formAction}, origins...)
		}
		data.formAction = strings.Join(origins, " ")
	}
	if !data.LocalLogin && len(data.Providers) == 0 {
		h.errorPage(w, r, oauth.UnauthorizedClient("no sign-in method is available to this client"))
		return
	}
	h.render(w, r, status, pageLogin, data)
}

// upstreamOrigins are the CSP sources the provider's button may be redirected to.
func (h *Handler) upstreamOrigins(ctx context.Context, p *oauth.IdentityProvider) []string {
	var out []string
	for _, raw := range []string{p.Issuer, h.authorizationEndpointOf(ctx, p)} {
		u, err := url.Parse(raw)
		if raw == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// authorizationEndpointLookup bounds the login page's wait for a provider's
// discovery document (cached after the first): an upstream that is down costs the
// page at most this, and its button then falls back to the issuer's origin.
const authorizationEndpointLookup = time.Second

func (h *Handler) authorizationEndpointOf(ctx context.Context, p *oauth.IdentityProvider) string {
	ep, ok := h.opts.Upstream.(UpstreamAuthorizationEndpoint)
	if !ok {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, authorizationEndpointLookup)
	defer cancel()
	s, err := ep.AuthorizationEndpoint(ctx, p)
	if err != nil {
		return ""
	}
	return s
}

// federate is a provider button of the login page: the upstream's authorization
// request, with the CSRF protection of the login form.
func (h *Handler) federate(w http.ResponseWriter, r *http.Request) {
	now := h.svc.Now()
	f, err := h.resumeForm(r, now, true)
	if err != nil {
		h.formError(w, r, f, err)
		return
	}
	if !h.federation() {
		h.errorPage(w, r, oauth.InvalidRequest("sign-in with an identity provider is not available"))
		return
	}
	p, err := h.svc.ProviderFor(r.Context(), f.tx.Client, r.PostForm.Get("idp"))
	if err != nil {
		h.errorPage(w, r, providerError(err))
		return
	}
	h.beginUpstream(w, r, f.tx.Client.ID, f.st, f.requestURI, p)
}

// providerError is the page error of a provider that may not be used.
func providerError(err error) error {
	if errors.Is(err, oauth.ErrProviderNotAllowed) {
		return oauth.InvalidRequest("this identity provider is not available to this application")
	}
	return err
}

// beginUpstream sends the browser to p's authorization endpoint (oauth.Upstream.Begin)
// with the upstream cookie set.
func (h *Handler) beginUpstream(w http.ResponseWriter, r *http.Request, clientID string, st *txState, requestURI string, p *oauth.IdentityProvider) {
	start, err := h.opts.Upstream.Begin(r.Context(), p, h.callbackURL(), oauth.UpstreamAsk{Login: st.Fresh, MaxAge: st.MaxAge})
	if err != nil {
		h.upstreamFailed(w, r, err)
		return
	}
	now := h.svc.Now()
	us := upstreamState{Key: st.Key, ClientID: clientID, RequestURI: requestURI, Start: *start, Expires: st.Expires}
	plain, err := json.Marshal(us)
	if err != nil {
		h.errorPage(w, r, oauth.ServerError(err))
		return
	}
	name := h.upstreamCookieName(start.State)
	value, err := h.sealCookie(r, name, plain)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: h.upstreamCookiePath(), MaxAge: max(1, int(st.Expires-now.Unix())),
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	noteOutcome(r.Context(), outcomeUpstreamRedirect)
	h.redirect(w, r, start.AuthorizationURL)
}

// upstreamFailed answers an Upstream error that is not the upstream's own error
// response: a 503 page with Retry-After when it is down, else a 400 page — never a
// redirect, since an answer that failed validation may be an attack.
func (h *Handler) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, oauth.ErrUpstreamUnavailable) {
		noteOutcome(r.Context(), outcomeUpstreamUnavailable)
		h.errorPageStatus(w, r, http.StatusServiceUnavailable, oauth.Unavailable(err))
		return
	}
	noteOutcome(r.Context(), outcomeUpstreamInvalid)
	h.errorPage(w, r, oauth.InvalidRequest("the identity provider's answer could not be accepted").WithCause(err))
}

// federationCallback serves GET /federation/callback: the upstream's authorization
// response, checked and exchanged by the Upstream (state, RFC 9207 iss, the ID token:
// OIDC Core §3.1.3.7), the local user linked or created, and the browser's session
// started as by a password login; then back to /authorize, where the consent page or
// a remembered consent follows exactly as after a password login.
func (h *Handler) federationCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET")
			h.errorPageStatus(w, r, http.StatusMethodNotAllowed, oauth.InvalidRequest("use GET"))
			return
		}
		h.callback(w, r)
	})
}

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.errorPage(w, r, oauth.InvalidRequest("the query string is malformed"))
		return
	}
	// RFC 6749 §3.1: parameters are not repeated.
	for name, vs := range query {
		if len(vs) > 1 {
			h.errorPage(w, r, oauth.InvalidRequest("parameter %s is included more than once", name))
			return
		}
	}
	state := query.Get("state")
	if state == "" || len(state) > 512 || !h.federation() {
		h.errorPage(w, r, oauth.InvalidRequest("the sign-in response is missing its state"))
		return
	}
	now := h.svc.Now()
	name := h.upstreamCookieName(state)
	plain, err := h.openCookie(r, name)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	var us upstreamState
	// RFC 9700 §4.7.1: the state binds the response to this browser's transaction;
	// an answer without the cookie it was sent with is never followed.
	if plain == nil || json.Unmarshal(plain, &us) != nil || us.Start.State != state || now.Unix() >= us.Expires {
		h.errorPage(w, r, oauth.InvalidRequest("your sign-in session has expired or cookies are disabled; return to the application and start again"))
		return
	}
	// The cookie is spent whatever follows.
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: h.upstreamCookiePath(), MaxAge: -1,
		Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	if err := h.svc.UseCallbackState(r.Context(), state, time.Unix(us.Expires, 0)); err != nil {
		if errors.Is(err, oauth.ErrCallbackUsed) {
			noteOutcome(r.Context(), outcomeUpstreamInvalid)
			err = oauth.InvalidRequest("this sign-in response was used already; return to the application and start again")
		}
		h.errorPage(w, r, err)
		return
	}
	noteClient(r.Context(), us.ClientID)
	// The transaction must still be open: the pushed request is consumed only when
	// the code is issued (decision 4), after this round trip.
	tx, err := h.svc.Resume(r.Context(), us.ClientID, us.Key, oauth.Redeemed)
	if err != nil {
		h.authorizeError(w, r, requestOf(tx), err)
		return
	}
	req := &tx.Request.Request
	// The provider the button named, still enabled and still the client's.
	p, err := h.svc.ProviderFor(r.Context(), tx.Client, us.Start.ProviderID)
	if err != nil {
		h.errorPage(w, r, providerError(err))
		return
	}
	id, err := h.opts.Upstream.Finish(r.Context(), p, &us.Start, h.callbackURL(), query)
	var refused *oauth.UpstreamError
	if errors.As(err, &refused) {
		// Issue 13 §3: the upstream's error ends this request the way a local one
		// would, at the client's redirect URI, established since /authorize
		// (decision 11), with state and iss (RFC 9207).
		h.clearTx(w, us.Key)
		noteOutcome(r.Context(), outcomeUpstreamRefused)
		h.redirectError(w, r, req, oauth.UpstreamRefusal(refused.Code))
		return
	}
	if err != nil {
		h.upstreamFailed(w, r, err)
		return
	}
	user, err := h.svc.BrokeredSignIn(r.Context(), p, id)
	if err != nil {
		var e *oauth.Error
		if errors.As(err, &e) && e.Redirect {
			h.clearTx(w, us.Key)
		}
		h.authorizeError(w, r, req, err)
		return
	}
	csrf, err := newCSRF()
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	// OIDC Core §2 auth_time: when the End-User authenticated — at the upstream, when
	// its ID token says (Finish checked it against a requested max_age), else now.
	authTime := now
	if !id.AuthTime.IsZero() && id.AuthTime.Before(now) {
		authTime = id.AuthTime
	}
	st := &txState{Key: us.Key, ClientID: us.ClientID, CSRF: csrf, Username: user.Username, AuthTime: authTime.Unix(),
		Expires: us.Expires, Origin: redirectOrigin(req.RedirectURI)}
	st.User = carryUser(oauth.SignedInAs(user))
	auth := oauth.Authentication{AMR: oauth.BrokeredAMR(id.AMR), ACR: oauth.BrokeredACR(id.ACR), IDP: p.ID}
	// OIDC Core §3.1.2.1: a brokered login starts a single sign-on session like a
	// password login (decision 31).
	sess, err := h.startSession(w, r, user, tx.Client.ID, authTime, auth)
	if err != nil {
		h.errorPage(w, r, err)
		return
	}
	st.AMR, st.SID, st.ACR, st.IDP = sess.AMR, oauth.SessionSID(sess.Key), sess.ACR, sess.IDP
	if err := h.writeTx(w, r, st, now); err != nil {
		h.errorPage(w, r, err)
		return
	}
	noteOutcome(r.Context(), outcomeUpstreamSignedIn)
	h.redirect(w, r, continueURL(us.ClientID, us.RequestURI))
}

// sessionUserName is how the pages name a signed-in user: a brokered user's
// generated username means nothing to the user, so its name, email or
// preferred_username claim is shown instead, when it has one.
func sessionUserName(u *oauth.User) string { return shownName(u.Username, u.Claims) }

// shownUsername is sessionUserName for the user the transaction signed in.
func (st *txState) shownUsername() string {
	if st.User == nil {
		return st.Username
	}
	return shownName(st.Username, st.User.Claims)
}

func shownName(username string, claims map[string]any) string {
	if !oauth.ReservedUsername(username) {
		return username
	}
	for _, c := range []string{"name", "email", "preferred_username"} {
		if s, ok := claims[c].(string); ok && s != "" {
			return s
		}
	}
	return username
}
