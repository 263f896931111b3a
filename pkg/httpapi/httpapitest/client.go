package httpapitest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// PostForm posts form to target as a client of the back channel does, with the
// header fields of header that are not empty (Authorization, DPoP, ...), and returns
// the response for the caller to read and close.
func PostForm(tb testing.TB, target string, form url.Values, header map[string]string) *http.Response {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}
