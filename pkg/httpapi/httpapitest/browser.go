package httpapitest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is a user agent with a cookie jar that reads the HTML forms of the login
// and consent pages. It follows no redirect by itself, so that every hop, and every
// Location header, is visible to the test.
type Browser struct {
	// Client is the browser's client: its Jar holds the cookies.
	Client *http.Client
	base   *url.URL
}

// NewBrowser is a browser with an empty cookie jar that resolves relative targets
// against base, the server's URL (the issuer).
func NewBrowser(tb testing.TB, base string) *Browser {
	tb.Helper()
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
	if err != nil {
		tb.Fatalf("browser base %q: %v", base, err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatalf("cookie jar: %v", err)
	}
	return &Browser{Client: NoRedirect(jar), base: u}
}

// NoRedirect is a client with jar (none when nil) that does not follow redirects.
func NoRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Page is one response as the browser saw it.
type Page struct {
	Status int
	Header http.Header
	Body   string
	URL    *url.URL // the request's URL, against which Location and form actions resolve
}

// Location is the page's Location header resolved against its URL; the test fails
// when there is none.
func (p Page) Location(tb testing.TB) *url.URL {
	tb.Helper()
	loc, err := p.URL.Parse(p.Header.Get("Location"))
	if err != nil || p.Header.Get("Location") == "" {
		tb.Fatalf("no Location (%d): %v\n%s", p.Status, err, p.Body)
	}
	return loc
}

// Do sends req with the browser's cookies and reads the whole response.
func (b *Browser) Do(tb testing.TB, req *http.Request) Page {
	tb.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return Page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), URL: req.URL}
}

// Get loads target, absolute or relative to the browser's base.
func (b *Browser) Get(tb testing.TB, target string) Page {
	tb.Helper()
	u := b.resolve(tb, target)
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		tb.Fatalf("GET %s: %v", u, err)
	}
	return b.Do(tb, req)
}

// Post posts fields as a form to target, absolute or relative to the browser's base.
func (b *Browser) Post(tb testing.TB, target string, fields url.Values) Page {
	tb.Helper()
	u := b.resolve(tb, target)
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, u.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(tb, req)
}

func (b *Browser) resolve(tb testing.TB, target string) *url.URL {
	tb.Helper()
	u, err := b.base.Parse(target)
	if err != nil {
		tb.Fatalf("target %q: %v", target, err)
	}
	return u
}

var (
	formTag     = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// Form is what a browser would post from p: its form's action and hidden fields. The
// test fails when p has no form.
func Form(tb testing.TB, p Page) (action string, fields url.Values) {
	tb.Helper()
	m := formTag.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no form on the page (%d):\n%s", p.Status, p.Body)
	}
	return HTMLUnescape(m[1]), HiddenFields(p.Body)
}

// HiddenFields are the hidden inputs of the page body, unescaped.
func HiddenFields(body string) url.Values {
	fields := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		fields.Set(m[1], HTMLUnescape(m[2]))
	}
	return fields
}

// HTMLUnescape undoes what html/template does to an attribute value.
func HTMLUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// Submit posts p's form to its action with its hidden fields, then extra (an empty
// value deletes a field).
func (b *Browser) Submit(tb testing.TB, p Page, extra url.Values) Page {
	tb.Helper()
	action, fields := Form(tb, p)
	for k, vs := range extra {
		if len(vs) == 1 && vs[0] == "" {
			fields.Del(k)
		} else {
			fields[k] = vs
		}
	}
	target, err := p.URL.Parse(action)
	if err != nil {
		tb.Fatalf("form action %q: %v", action, err)
	}
	return b.Post(tb, target.String(), fields)
}

// IsLoginPage reports whether p is the login page: 200 with a username and a
// password field.
func IsLoginPage(p Page) bool {
	return p.Status == http.StatusOK && strings.Contains(p.Body, `name="username"`) && strings.Contains(p.Body, `name="password"`)
}

// IsConsentPage reports whether p is the consent page: 200 with the approve and deny
// buttons.
func IsConsentPage(p Page) bool {
	return p.Status == http.StatusOK && strings.Contains(p.Body, `name="decision" value="approve"`) &&
		strings.Contains(p.Body, `name="decision" value="deny"`)
}

// SignIn submits the login page with username and password and follows the
// Post/Redirect/Get hop to the consent page, which it returns. The test fails on any
// other page.
func (b *Browser) SignIn(tb testing.TB, login Page, username, password string) Page {
	tb.Helper()
	if !IsLoginPage(login) {
		tb.Fatalf("want the login page, got %d:\n%s", login.Status, login.Body)
	}
	r := b.Submit(tb, login, url.Values{"username": {username}, "password": {password}})
	if r.Status != http.StatusSeeOther {
		tb.Fatalf("login: want 303, got %d:\n%s", r.Status, r.Body)
	}
	consent := b.Get(tb, r.Location(tb).String())
	if !IsConsentPage(consent) {
		tb.Fatalf("want the consent page, got %d:\n%s", consent.Status, consent.Body)
	}
	return consent
}
