package oauth_test

import (
	"testing"

	"github.com/pargate/pargate/pkg/oauth"
)

// TestClient_AllowsOrigin_BrowserBasedApps: a client's browser origins are its
// allowed_origins and the origins of its http(s) redirect URIs, compared with the
// Origin header as the browser serializes it (Fetch §3.1); the opaque origin "null"
// and a private-use scheme's URI are never one.
func TestClient_AllowsOrigin_BrowserBasedApps(t *testing.T) {
	c := &oauth.Client{
		RedirectURIs:   []string{"https://app.example.com:443/cb", "https://App.Example.org/cb?x=1", "http://127.0.0.1:8080/cb", "com.example.app:/cb"},
		AllowedOrigins: []string{"https://spa.example.net"},
	}
	for origin, want := range map[string]bool{
		"https://app.example.com":      true, // the default port is not in an origin
		"https://app.example.org":      true, // the host in lower case, no path or query
		"http://127.0.0.1:8080":        true,
		"https://spa.example.net":      true,
		"https://app.example.com:443":  false, // never sent by a browser
		"http://app.example.com":       false, // another scheme is another origin
		"https://evil.example.com":     false,
		"https://app.example.com.evil": false,
		"http://127.0.0.1:8081":        false, // another port is another origin
		"com.example.app:":             false,
		"null":                         false,
		"":                             false,
	} {
		if got := c.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
}
