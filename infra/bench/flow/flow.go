// Package flow drives complete authorization code flows over HTTP, as a client and a
// browser would: push the request to /par, open /authorize, sign in, open the
// consent page, approve, exchange the code at /token and, optionally, redeem the
// refresh token. Every step checks that the server answered what the specs say.
// It runs against pargate and, for the comparison, against node-oidc-provider
// through the interaction routes of infra/bench/node/provider.js. The load
// generator (infra/bench/loadgen) runs it under load, step by step, and
// CountDynamoDBCalls runs it once on the DynamoDB store to count the calls each step
// makes.
package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The steps of one flow, in order.
const (
	StepPush      = "push"      // POST /par
	StepAuthorize = "authorize" // GET /authorize?client_id&request_uri: the login page
	StepLogin     = "login"     // POST /authorize pargate_step=login: 303 to the consent page
	StepConsent   = "consent"   // GET /authorize: the consent page
	StepApprove   = "approve"   // POST /authorize decision=approve: 303 with the code
	// StepSilent is a second flow's GET /authorize in the same browser: its session
	// and the remembered consent answer with the code at once (Again).
	StepSilent  = "silent"
	StepToken   = "token"   // POST /token grant_type=authorization_code
	StepRefresh = "refresh" // POST /token grant_type=refresh_token (Config.Refresh)
)

// Steps lists the steps of an authorization in the order Run takes them; a flow
// with Config.Refresh takes StepRefresh after them.
var Steps = []string{StepPush, StepAuthorize, StepLogin, StepConsent, StepApprove, StepToken}

// PKCE pair of RFC 7636 Appendix B.
const (
	CodeVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// State is the state parameter of every pushed request; the authorization response
// must return it unchanged (RFC 6749 §4.1.2).
const State = "bench-state-5Gh2"

// Server is the kind of server a flow runs against: the steps are the same, the
// pages and the routes that sign in and approve are each server's own.
type Server int

const (
	// Pargate signs in and approves with form posts to /authorize.
	Pargate Server = iota
	// NodeOIDCProvider is node-oidc-provider with the interaction routes of
	// infra/bench/node/provider.js: /authorize redirects to /interaction/<uid>, whose
	// form posts to /interaction/<uid>/login or /confirm, which redirect to the
	// provider's /authorize/<uid> to resume. Its steps take two requests where
	// pargate's take one (authorize, login, approve: the redirect is followed).
	NodeOIDCProvider
)

// Config names the server, the client and the user of a flow.
type Config struct {
	// BaseURL is the server's origin, e.g. http://127.0.0.1:8080 (the issuer).
	BaseURL                string
	ClientID, ClientSecret string
	RedirectURI, Scope     string
	// Prompt, when set, is pushed as the prompt parameter (OIDC Core §3.1.2.1).
	Prompt             string
	Username, Password string
	// Refresh adds StepRefresh: the token response must carry a refresh token
	// (the scope asks for offline_access and the client may refresh), which the
	// flow then redeems.
	Refresh bool
	Server  Server
	// Transport carries the requests; nil means http.DefaultTransport. Each flow gets
	// a cookie jar of its own on top of it.
	Transport http.RoundTripper
}

// PushBody is the form body of the pushed authorization request: the same for every
// server of the comparison.
func (c Config) PushBody() string {
	v := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {c.RedirectURI},
		"scope":                 {c.Scope},
		"state":                 {State},
		"nonce":                 {"bench-nonce-Qm7x"},
		"code_challenge":        {CodeChallenge},
		"code_challenge_method": {"S256"},
	}
	if c.Prompt != "" {
		v.Set("prompt", c.Prompt)
	}
	return v.Encode()
}

// Run runs one complete flow and calls done, when it is not nil, after each step
// succeeded, with the step's name.
func Run(ctx context.Context, c Config, done func(step string)) error {
	f, err := New(c)
	if err != nil {
		return err
	}
	return runFlow(ctx, f, done)
}

// runFlow takes every step of f, calling done, when not nil, after each.
func runFlow(ctx context.Context, f *Flow, done func(step string)) error {
	for !f.Done() {
		step, err := f.Next(ctx)
		if err != nil {
			return err
		}
		if done != nil {
			done(step)
		}
	}
	return nil
}

// Flow is one authorization in progress: the load generator takes the same step of
// many flows at once (Next), so that each step's server CPU can be read on its own.
type Flow struct {
	cfg   Config
	hc    *http.Client
	steps []step
	next  int

	requestURI string     // from the push
	form       url.Values // the hidden fields of the last page
	location   string     // where the last redirect pointed
	code       string     // from the authorization response
	refresh    string     // the refresh token to redeem
}

type step struct {
	name string
	run  func(f *Flow, ctx context.Context) error
}

// New prepares a flow with a cookie jar of its own; it sends nothing yet.
func New(c Config) (*Flow, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	f := &Flow{cfg: c, hc: &http.Client{
		Transport:     c.Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	switch c.Server {
	case Pargate:
		f.steps = []step{{StepPush, (*Flow).push}, {StepAuthorize, (*Flow).authorize}, {StepLogin, (*Flow).login},
			{StepConsent, (*Flow).consent}, {StepApprove, (*Flow).approve}, {StepToken, (*Flow).token}}
	case NodeOIDCProvider:
		f.steps = []step{{StepPush, (*Flow).push}, {StepAuthorize, (*Flow).nodeAuthorize}, {StepLogin, (*Flow).nodeLogin},
			{StepConsent, (*Flow).nodeConsent}, {StepApprove, (*Flow).nodeApprove}, {StepToken, (*Flow).token}}
	default:
		return nil, fmt.Errorf("unknown server %d", c.Server)
	}
	if c.Refresh {
		f.steps = append(f.steps, step{StepRefresh, (*Flow).refreshStep})
	}
	return f, nil
}

// StepsOf lists the steps a flow of c takes, in order.
func StepsOf(c Config) []string {
	if c.Refresh {
		return append(slices.Clone(Steps), StepRefresh)
	}
	return slices.Clone(Steps)
}

// Done reports whether every step has been taken.
func (f *Flow) Done() bool { return f.next >= len(f.steps) }

// Next takes the next step and returns its name; an error names the step. A flow
// whose step failed is not to be continued.
func (f *Flow) Next(ctx context.Context) (string, error) {
	if f.Done() {
		return "", errors.New("the flow is complete")
	}
	s := f.steps[f.next]
	f.next++
	if err := s.run(f, ctx); err != nil {
		return s.name, fmt.Errorf("%s: %w", s.name, err)
	}
	return s.name, nil
}

// push sends the pushed authorization request. RFC 9126 §2.2: "the authorization
// server MUST return ... a 201 HTTP status code" with request_uri and expires_in, "a
// JSON number that represents the lifetime of the request URI in seconds as a
// positive integer".
func (f *Flow) push(ctx context.Context) error {
	body, _, err := f.do(ctx, http.MethodPost, "/par", f.cfg.PushBody(), true, http.StatusCreated)
	if err != nil {
		return err
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &pushed); err != nil || pushed.RequestURI == "" || pushed.ExpiresIn <= 0 {
		return fmt.Errorf("no request_uri or no positive expires_in in %s", truncate(string(body), 300))
	}
	f.requestURI = pushed.RequestURI
	return nil
}

// authorizePath is the authorization request by reference (RFC 9126 §4: client_id
// and request_uri).
func (f *Flow) authorizePath() string {
	return "/authorize?" + url.Values{"client_id": {f.cfg.ClientID}, "request_uri": {f.requestURI}}.Encode()
}

func (f *Flow) authorize(ctx context.Context) error {
	body, _, err := f.do(ctx, http.MethodGet, f.authorizePath(), "", false, http.StatusOK)
	if err != nil {
		return err
	}
	if f.form = hiddenFields(body); f.form.Get("pargate_step") != "login" {
		return errors.New("no login form in the page")
	}
	return nil
}

func (f *Flow) login(ctx context.Context) error {
	f.form.Set("username", f.cfg.Username)
	f.form.Set("password", f.cfg.Password)
	_, hdr, err := f.do(ctx, http.MethodPost, "/authorize", f.form.Encode(), false, http.StatusSeeOther)
	if err != nil {
		return err
	}
	f.location, err = f.local(hdr.Get("Location"))
	return err
}

func (f *Flow) consent(ctx context.Context) error {
	body, _, err := f.do(ctx, http.MethodGet, f.location, "", false, http.StatusOK)
	if err != nil {
		return err
	}
	if f.form = hiddenFields(body); f.form.Get("pargate_step") != "consent" {
		return errors.New("no consent form in the page")
	}
	return nil
}

func (f *Flow) approve(ctx context.Context) error {
	f.form.Set("decision", "approve")
	_, hdr, err := f.do(ctx, http.MethodPost, "/authorize", f.form.Encode(), false, http.StatusSeeOther)
	if err != nil {
		return err
	}
	return f.authorizationResponse(hdr.Get("Location"))
}

// authorizationResponse checks the redirect to the client. RFC 6749 §4.1.2: the
// code, and "state ... REQUIRED if the "state" parameter was present in the client
// authorization request. The exact value received from the client"; RFC 9207 §2: iss,
// the issuer identifier, whose value must be compared to the issuer's.
func (f *Flow) authorizationResponse(location string) error {
	loc, err := url.Parse(location)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(location, f.cfg.RedirectURI+"?") {
		return fmt.Errorf("the authorization response goes to %s, not the redirect URI", loc.Redacted())
	}
	q := loc.Query()
	if q.Get("error") != "" || q.Get("code") == "" || q.Get("state") != State || q.Get("iss") != f.cfg.BaseURL {
		return fmt.Errorf("authorization response %q has an error, no code, the wrong state or the wrong iss", loc.RawQuery)
	}
	f.code = q.Get("code")
	return nil
}

// Again returns a second flow in the same browser (cookie jar) as f, which completed:
// the push, the authorization answered with the code at once by the browser's
// single sign-on session and the user's remembered consent (OIDC Core §3.1.2.1;
// docs/design.md decision 32), no login or consent page, and the token request.
// Pargate only.
func (f *Flow) Again() *Flow {
	return &Flow{cfg: f.cfg, hc: f.hc, steps: []step{{StepPush, (*Flow).push}, {StepSilent, (*Flow).silent}, {StepToken, (*Flow).token}}}
}

// silent is the authorization request of a browser whose session and remembered
// consent cover it: 303 to the redirect URI with the code, no page.
func (f *Flow) silent(ctx context.Context) error {
	_, hdr, err := f.do(ctx, http.MethodGet, f.authorizePath(), "", false, http.StatusSeeOther)
	if err != nil {
		return err
	}
	return f.authorizationResponse(hdr.Get("Location"))
}

// token exchanges the code (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5).
func (f *Flow) token(ctx context.Context) error {
	tok, err := f.tokens(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {f.code},
		"redirect_uri": {f.cfg.RedirectURI}, "code_verifier": {CodeVerifier}})
	if err != nil {
		return err
	}
	// OIDC Core §3.1.3.3: the token response of an openid request carries an ID token.
	if tok.IDToken == "" {
		return errors.New("no id_token in the token response")
	}
	if f.cfg.Refresh && tok.RefreshToken == "" {
		return errors.New("no refresh_token in the token response")
	}
	f.refresh = tok.RefreshToken
	return nil
}

// refreshStep redeems the refresh token (RFC 6749 §6). The servers of the
// comparison rotate refresh tokens (RFC 9700 §4.14.2: "the authorization server
// issues a new refresh token with every access token refresh response"), so the
// same token back is an error here.
func (f *Flow) refreshStep(ctx context.Context) error {
	tok, err := f.tokens(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.refresh}})
	if err != nil {
		return err
	}
	if tok.RefreshToken == f.refresh {
		return errors.New("the refresh token was returned unrotated")
	}
	if tok.RefreshToken != "" {
		f.refresh = tok.RefreshToken
	}
	return nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// tokens posts to /token with client_secret_basic. RFC 6749 §5.1: a 200 with
// access_token and token_type ("bearer", case-insensitive by RFC 6750 §4 and
// RFC 6749 §7.1) and "Cache-Control" "no-store".
func (f *Flow) tokens(ctx context.Context, form url.Values) (*tokenResponse, error) {
	body, hdr, err := f.do(ctx, http.MethodPost, "/token", form.Encode(), true, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		return nil, fmt.Errorf("no access_token or no Bearer token_type in %s", truncate(string(body), 300))
	}
	if !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		return nil, fmt.Errorf("token response with Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
	}
	return &tok, nil
}

// nodeAuthorize opens /authorize, which redirects to the login interaction, and
// opens its page.
func (f *Flow) nodeAuthorize(ctx context.Context) error {
	if err := f.redirect(ctx, http.MethodGet, f.authorizePath(), ""); err != nil {
		return err
	}
	return f.nodePage(ctx, "login")
}

// nodeLogin posts the credentials to the login interaction and follows the
// redirect to /authorize/<uid>, which resumes the authorization and redirects to the
// consent interaction.
func (f *Flow) nodeLogin(ctx context.Context) error {
	form := url.Values{"username": {f.cfg.Username}, "password": {f.cfg.Password}}
	if err := f.redirect(ctx, http.MethodPost, f.location+"/login", form.Encode()); err != nil {
		return err
	}
	return f.redirect(ctx, http.MethodGet, f.location, "")
}

func (f *Flow) nodeConsent(ctx context.Context) error { return f.nodePage(ctx, "consent") }

// nodeApprove confirms the consent interaction and follows the redirect to
// /authorize/<uid>, which answers with the authorization response.
func (f *Flow) nodeApprove(ctx context.Context) error {
	if err := f.redirect(ctx, http.MethodPost, f.location+"/confirm", ""); err != nil {
		return err
	}
	_, hdr, err := f.do(ctx, http.MethodGet, f.location, "", false, http.StatusSeeOther)
	if err != nil {
		return err
	}
	return f.authorizationResponse(hdr.Get("Location"))
}

// nodePage opens the interaction page f.location points to and checks which
// prompt it asks for.
func (f *Flow) nodePage(ctx context.Context, prompt string) error {
	body, _, err := f.do(ctx, http.MethodGet, f.location, "", false, http.StatusOK)
	if err != nil {
		return err
	}
	if f.form = hiddenFields(body); f.form.Get("prompt") != prompt {
		return fmt.Errorf("no %s form in the page", prompt)
	}
	return nil
}

// redirect sends a request that must answer 303 or 302 and keeps where it points.
func (f *Flow) redirect(ctx context.Context, method, path, form string) error {
	_, hdr, err := f.do(ctx, method, path, form, false, http.StatusSeeOther, http.StatusFound)
	if err != nil {
		return err
	}
	f.location, err = f.local(hdr.Get("Location"))
	return err
}

// local turns a Location on the server into a path; any other place is an error.
func (f *Flow) local(location string) (string, error) {
	if p, ok := strings.CutPrefix(location, f.cfg.BaseURL); ok && strings.HasPrefix(p, "/") {
		return p, nil
	}
	if strings.HasPrefix(location, "/") && !strings.HasPrefix(location, "//") {
		return location, nil
	}
	return "", fmt.Errorf("redirect to %q, not to the server", truncate(location, 100))
}

// do sends one request and checks its status against want; path is relative to
// BaseURL.
func (f *Flow) do(ctx context.Context, method, path, form string, clientAuth bool, want ...int) ([]byte, http.Header, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.cfg.BaseURL+path, body)
	if err != nil {
		return nil, nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if clientAuth {
		req.SetBasicAuth(url.QueryEscape(f.cfg.ClientID), url.QueryEscape(f.cfg.ClientSecret))
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(want, resp.StatusCode) {
		return nil, nil, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Want: want[0], Body: truncate(string(b), 300)}
	}
	return b, resp.Header, nil
}

// StatusError is an unexpected response status.
type StatusError struct {
	Method, Path string
	Status, Want int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d, want %d: %s", e.Method, e.Path, e.Status, e.Want, e.Body)
}

// IsStatus reports whether err is an unexpected HTTP status (rather than a transport error).
func IsStatus(err error) bool {
	var se *StatusError
	return errors.As(err, &se)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of the page's form.
func hiddenFields(page []byte) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllSubmatch(page, -1) {
		v.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
