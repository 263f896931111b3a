// Package flow drives one complete authorization code flow of pargate over HTTP,
// as a client and a browser would: push the request to /par, open /authorize, sign
// in, open the consent page, approve, and exchange the code at /token. The load
// generator (infra/bench/loadgen) runs it under load, and CountDynamoDBCalls runs it
// once on the DynamoDB store to count the calls each step makes.
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
	"strings"
)

// The steps of one flow, in order.
const (
	StepPush      = "push"      // POST /par
	StepAuthorize = "authorize" // GET /authorize?client_id&request_uri: the login page
	StepLogin     = "login"     // POST /authorize pargate_step=login: 303 to the consent page
	StepConsent   = "consent"   // GET /authorize: the consent page
	StepApprove   = "approve"   // POST /authorize decision=approve: 303 with the code
	StepToken     = "token"     // POST /token
)

// Steps lists the steps in the order Run takes them.
var Steps = []string{StepPush, StepAuthorize, StepLogin, StepConsent, StepApprove, StepToken}

// PKCE pair of RFC 7636 Appendix B.
const (
	CodeVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	CodeChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// Config names the server, the client and the user of a flow.
type Config struct {
	// BaseURL is the server's origin, e.g. http://127.0.0.1:8080 (the issuer).
	BaseURL                string
	ClientID, ClientSecret string
	RedirectURI, Scope     string
	Username, Password     string
	// Transport carries the requests; nil means http.DefaultTransport. Each flow gets
	// a cookie jar of its own on top of it.
	Transport http.RoundTripper
}

// PushBody is the form body of the pushed authorization request: the same for every
// server of the comparison.
func (c Config) PushBody() string {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {c.RedirectURI},
		"scope":                 {c.Scope},
		"state":                 {"bench-state-5Gh2"},
		"nonce":                 {"bench-nonce-Qm7x"},
		"code_challenge":        {CodeChallenge},
		"code_challenge_method": {"S256"},
	}.Encode()
}

// Run runs one complete flow and calls done, when it is not nil, after each step
// succeeded, with the step's name.
func Run(ctx context.Context, c Config, done func(step string)) error {
	if done == nil {
		done = func(string) {}
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	f := &runner{cfg: c, ctx: ctx, hc: &http.Client{
		Transport:     c.Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}

	body, _, err := f.do(http.MethodPost, "/par", c.PushBody(), true, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("%s: %w", StepPush, err)
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(body, &pushed); err != nil || pushed.RequestURI == "" {
		return fmt.Errorf("%s: no request_uri in %s", StepPush, body)
	}
	done(StepPush)

	authz := "/authorize?" + url.Values{"client_id": {c.ClientID}, "request_uri": {pushed.RequestURI}}.Encode()
	body, _, err = f.do(http.MethodGet, authz, "", false, http.StatusOK)
	if err != nil {
		return fmt.Errorf("%s: %w", StepAuthorize, err)
	}
	form := hiddenFields(body)
	if form.Get("pargate_step") != "login" {
		return fmt.Errorf("%s: no login form in the page", StepAuthorize)
	}
	done(StepAuthorize)

	form.Set("username", c.Username)
	form.Set("password", c.Password)
	_, hdr, err := f.do(http.MethodPost, "/authorize", form.Encode(), false, http.StatusSeeOther)
	if err != nil {
		return fmt.Errorf("%s: %w", StepLogin, err)
	}
	done(StepLogin)

	body, _, err = f.do(http.MethodGet, hdr.Get("Location"), "", false, http.StatusOK)
	if err != nil {
		return fmt.Errorf("%s: %w", StepConsent, err)
	}
	form = hiddenFields(body)
	if form.Get("pargate_step") != "consent" {
		return fmt.Errorf("%s: no consent form in the page", StepConsent)
	}
	done(StepConsent)

	form.Set("decision", "approve")
	_, hdr, err = f.do(http.MethodPost, "/authorize", form.Encode(), false, http.StatusSeeOther)
	if err != nil {
		return fmt.Errorf("%s: %w", StepApprove, err)
	}
	loc, err := url.Parse(hdr.Get("Location"))
	if err != nil {
		return fmt.Errorf("%s: %w", StepApprove, err)
	}
	q := loc.Query()
	if q.Get("code") == "" || q.Get("iss") != c.BaseURL {
		return fmt.Errorf("%s: authorization response %q has no code or the wrong iss", StepApprove, loc.RawQuery)
	}
	done(StepApprove)

	tok := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
		"redirect_uri": {c.RedirectURI}, "code_verifier": {CodeVerifier}}
	body, _, err = f.do(http.MethodPost, "/token", tok.Encode(), true, http.StatusOK)
	if err != nil {
		return fmt.Errorf("%s: %w", StepToken, err)
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := json.Unmarshal(body, &tokens); err != nil || tokens.AccessToken == "" {
		return fmt.Errorf("%s: no access_token in %s", StepToken, body)
	}
	done(StepToken)
	return nil
}

type runner struct {
	cfg Config
	ctx context.Context
	hc  *http.Client
}

// do sends one request and checks its status; path is relative to BaseURL.
func (f *runner) do(method, path, form string, clientAuth bool, want int) ([]byte, http.Header, error) {
	var body io.Reader
	if form != "" {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequestWithContext(f.ctx, method, f.cfg.BaseURL+path, body)
	if err != nil {
		return nil, nil, err
	}
	if form != "" {
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
	if resp.StatusCode != want {
		return nil, nil, &StatusError{Method: method, Path: path, Status: resp.StatusCode, Want: want, Body: truncate(string(b), 300)}
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
