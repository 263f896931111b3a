package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/pargate/pargate/pkg/oauth"
)

//go:embed pages
var pageFiles embed.FS

type page string

const (
	pageLogin   page = "login.html"
	pageConsent page = "consent.html"
	pageError   page = "error.html"
	// pageFormPost is the form_post response (response.go).
	pageFormPost page = "form_post.html"
	// pageLogout asks before a logout ends the session; pageSignedOut follows a
	// logout that does not return to the client (logout.go).
	pageLogout    page = "logout.html"
	pageSignedOut page = "signed_out.html"
)

// pageSet holds the parsed templates, the stylesheet and the form_post page's
// script, with their CSP hashes.
type pageSet struct {
	templates  map[page]*template.Template
	css        string
	styleHash  string
	script     string
	scriptHash string
}

// loadPages returns the pages, parsed on first use (the authorization endpoint's
// construction) rather than at init, so that a function without pages neither links
// them nor parses templates at its cold start (docs/design.md decision 25).
func loadPages() *pageSet {
	parsedPagesOnce.Do(func() { parsedPages = mustParsePages() })
	return &parsedPages
}

var (
	parsedPagesOnce sync.Once
	parsedPages     pageSet
)

func mustParsePages() pageSet {
	css, err := pageFiles.ReadFile("pages/style.css")
	if err != nil {
		panic(err)
	}
	script, err := pageFiles.ReadFile("pages/form_post.js")
	if err != nil {
		panic(err)
	}
	ps := pageSet{
		templates: map[page]*template.Template{},
		css:       string(css),
		styleHash: cspHash(css),
		script:    string(script),
		// CSP Level 3 §8.2: an inline script runs only if its hash is listed, so the
		// one script of the form_post page is the one script any page may run.
		scriptHash: cspHash(script),
	}
	for _, p := range []page{pageLogin, pageConsent, pageError, pageFormPost, pageLogout, pageSignedOut} {
		ps.templates[p] = template.Must(template.ParseFS(pageFiles, "pages/layout.html", "pages/"+string(p)))
	}
	return ps
}

// cspHash is the CSP hash-source of an inline element's text (CSP Level 3 §2.3.1).
func cspHash(text []byte) string {
	sum := sha256.Sum256(text)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

type loginData struct {
	Title, Brand                             string
	CSS                                      template.CSS
	Action, ClientID, ClientName, RequestURI string
	CSRF, Username, Error                    string
	// SessionUser is the user of the browser's live single sign-on session, if any:
	// the page offers "Not you?" (ends it), and with CanContinue "Continue as"
	// (prompt=select_account; docs/design.md decision 31).
	SessionUser string
	CanContinue bool
	// Providers are the upstream identity providers the client may use, one button
	// each above the password form, which LocalLogin shows (issue 13).
	Providers  []providerButton
	LocalLogin bool
	// formAction are the CSP sources added to form-action: the client's redirect
	// URI's (a login with a remembered consent ends there) and the origins the
	// provider buttons' 303 goes to (federation.go).
	formAction string
}

// providerButton is one "Continue with DISPLAY_NAME" button of the login page.
type providerButton struct{ ID, DisplayName string }

type scopeLine struct{ Title, Detail string }

type consentData struct {
	Title, Brand                             string
	CSS                                      template.CSS
	Action, ClientID, ClientName, RequestURI string
	CSRF, Username, RedirectHost             string
	Scopes                                   []scopeLine
	Details                                  []detailItem
	// formAction is the client's origin, added to the CSP form-action.
	formAction string
}

type errorData struct {
	Title, Brand           string
	CSS                    template.CSS
	Heading, Message, Code string
}

const brand = "pargate"

func clientName(c *oauth.Client) string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

func (h *Handler) loginData(tx *oauth.Transaction, st *txState, requestURI, username, msg string) loginData {
	return loginData{
		Title: "Sign in – " + clientName(tx.Client), Brand: brand, CSS: template.CSS(loadPages().css),
		Action: PathAuthorize, ClientID: tx.Client.ID, ClientName: clientName(tx.Client), RequestURI: requestURI,
		CSRF: st.CSRF, Username: username, Error: msg, LocalLogin: h.svc.LocalLogin(),
		// The login (or "Continue as") may end in the authorization response at once
		// when the user's consent is remembered (decision 32).
		formAction: st.Origin,
	}
}

// loginHintUsername is what the login page pre-fills from the request's login_hint
// (OpenID Connect Core §3.1.2.1: a "hint to the Authorization Server about the login
// identifier the End-User might use to log in", its use "left to the OP's
// discretion"): the hint, if it could be a username — at most oauth.MaxUsernameBytes
// and without surrounding white space (checkParams has refused control characters and
// invalid UTF-8) — else nothing. html/template escapes it into the value attribute;
// like every username it is never logged.
func loginHintUsername(hint string) string {
	if len(hint) > oauth.MaxUsernameBytes || strings.TrimSpace(hint) != hint {
		return ""
	}
	return hint
}

// scopeText says in plain words what each standard scope grants.
var scopeText = map[string]scopeLine{
	"openid":         {"Sign you in", "Confirm your identity with this service"},
	"profile":        {"See your profile", "Your name and basic profile details"},
	"email":          {"See your email address", "Your email address and whether it is verified"},
	"address":        {"See your address", "Your postal address"},
	"phone":          {"See your phone number", "Your phone number and whether it is verified"},
	"offline_access": {"Stay connected", "Keep access when you are not using the application"},
}

func (h *Handler) consentData(tx *oauth.Transaction, st *txState, requestURI string) consentData {
	req := tx.Request.Request
	lines := make([]scopeLine, 0, len(req.Scopes))
	for _, s := range req.Scopes {
		if l, ok := scopeText[s]; ok {
			lines = append(lines, l)
		} else {
			lines = append(lines, scopeLine{Title: "Use “" + s + "”", Detail: "Access granted by the " + s + " permission"})
		}
	}
	host, origin := req.RedirectURI, redirectOrigin(req.RedirectURI)
	if u, err := url.Parse(req.RedirectURI); err == nil {
		host = u.Host
		if u.Host == "" {
			host = u.Scheme
		}
	}
	return consentData{
		Title: "Allow access – " + clientName(tx.Client), Brand: brand, CSS: template.CSS(loadPages().css),
		Action: PathAuthorize, ClientID: tx.Client.ID, ClientName: clientName(tx.Client), RequestURI: requestURI,
		CSRF: st.CSRF, Username: st.shownUsername(), RedirectHost: host, Scopes: lines,
		Details: describeDetails(req.AuthorizationDetails),
		// The consent form's response redirects to the client, and browsers apply
		// form-action to that redirect too.
		formAction: origin,
	}
}

// redirectOrigin is the CSP source of a redirect URI: its origin, or for a native
// app's private-use URI (RFC 8252 §7.1, com.example.app:/cb), which has no host and
// sends the user back to the app its scheme names, the scheme-source
// "com.example.app:" (CSP Level 3 §2.3.1); "" for none.
func redirectOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" {
		return u.Scheme + ":"
	}
	return u.Scheme + "://" + u.Host
}

// render writes a page with the security headers of the page contract in docs/design.md.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, p page, data any) {
	var buf bytes.Buffer
	if err := loadPages().templates[p].ExecuteTemplate(&buf, "layout", data); err != nil {
		noteError(r.Context(), oauth.ServerError(fmt.Errorf("render page %s: %w", p, err)))
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("internal error")
	}
	formAction := "'self'"
	csp := []string{"default-src 'none'", "style-src " + loadPages().styleHash, "img-src 'self' data:"}
	switch d := data.(type) {
	case consentData:
		if d.formAction != "" {
			formAction += " " + d.formAction
		}
	case loginData:
		// A provider button's answer is a 303 to the upstream, and browsers apply
		// form-action to that redirect too.
		if d.formAction != "" {
			formAction += " " + d.formAction
		}
	case logoutData:
		// The confirmed logout redirects to the post_logout_redirect_uri, and browsers
		// apply form-action to that redirect too.
		if d.formAction != "" {
			formAction += " " + d.formAction
		}
	case formPostPage:
		// The form posts to the redirect URI and nowhere else; its script by hash.
		formAction = d.formAction
		csp = append(csp, "script-src "+loadPages().scriptHash)
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", strings.Join(append(csp,
		"form-action "+formAction, "frame-ancestors 'none'", "base-uri 'none'",
	), "; "))
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	noStore(w)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorPage shows err to the user: RFC 6749 §4.1.2.1, the user agent is not
// redirected while the client or its redirect URI is not established.
// A form whose CSRF field does not match its transaction is refused with
// statusFormExpired.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errCSRF) {
		h.errorPageStatus(w, r, statusFormExpired, oauth.InvalidRequest("the form has expired; reload the page and try again"))
		return
	}
	e := oauth.AsError(err)
	h.errorPageStatus(w, r, statusFor(e.Code), e)
}

func (h *Handler) errorPageStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	e := oauth.AsError(err)
	noteError(r.Context(), e)
	heading := "This sign-in request cannot continue"
	if status >= 500 {
		heading = "Something went wrong on our side"
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", defaultRetryAfterS)
	}
	h.render(w, r, status, pageError, errorData{
		Title: heading, Brand: brand, CSS: template.CSS(loadPages().css),
		Heading: heading, Message: pageMessage(status, e), Code: e.Code,
	})
}

// pageMessage is what an error page says: fixed words chosen by the status and the
// error code, never the error's description. A description is a developer's message
// and may quote request values (a redirect_uri, a parameter name), and an error page
// is on the server's own origin: /authorize?redirect_uri=https://evil/%20YOUR%20ACCOUNT
// %20IS%20LOCKED would otherwise put the attacker's words there. The error code is
// shown beside it; the reason, where the core attached one, is on the access line.
func pageMessage(status int, e *oauth.Error) string {
	switch {
	case status == statusFormExpired:
		return "The form has expired. Reload the page and try again."
	case status == http.StatusMethodNotAllowed:
		return "This address cannot be used that way."
	case e.Description == oauth.RedirectURINotRegistered:
		return "The redirect address is not registered for this application."
	}
	if m, ok := pageMessages[e.Code]; ok {
		return m
	}
	return "This sign-in request is not valid."
}

// pageMessages are the fixed words of the error page per error code.
var pageMessages = map[string]string{
	oauth.CodeInvalidRequest:              "The application sent a sign-in request that cannot be accepted.",
	oauth.CodeInvalidClient:               "The application is not known here.",
	oauth.CodeUnauthorizedClient:          "The application may not use this kind of sign-in.",
	oauth.CodeUnsupportedResponseType:     "The application asked for a kind of sign-in this server does not offer.",
	oauth.CodeInvalidScope:                "The application asked for permissions it may not request.",
	oauth.CodeAccessDenied:                "The request was denied.",
	oauth.CodeInvalidRequestURI:           "This sign-in link has expired or has already been used.",
	oauth.CodeInvalidRequestObject:        "The application's signed request cannot be accepted.",
	oauth.CodeLoginRequired:               "You need to sign in again.",
	oauth.CodeRequestNotSupported:         "The application sent a kind of request this server does not accept.",
	oauth.CodeInvalidAuthorizationDetails: "The application's description of what it asks for cannot be accepted.",
	oauth.CodeServerError:                 "Something went wrong on our side.",
	oauth.CodeTemporarilyUnavailable:      "The service is temporarily unavailable.",
}
