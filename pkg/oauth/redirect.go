package oauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Redirect URIs: which a client may register (CheckRedirectURIs, called by the seed
// and the admin CLI) and which a request may name (redirectAllowed, and under
// PROFILE=fapi2 checkFAPI2RedirectURI).
//
// Web clients (OpenID Connect Registration §2, the default) register https URIs, or
// plain http on loopback for local development, and every request must name one of
// them exactly (RFC 9700 §2.1 and §4.1.3). Native apps (application_type native,
// RFC 8252) may also register private-use URI schemes (§7.1) and their loopback
// redirects match on any port (§7.3); every other part still matches exactly.

// CheckRedirectURIs checks the client's application_type and registered redirect URIs
// (RFC 6749 §3.1.2, RFC 8252 §7 and §8.4, RFC 9700 §2.1).
func CheckRedirectURIs(c *Client) error {
	switch c.ApplicationType {
	case "", ApplicationTypeWeb, ApplicationTypeNative:
	default:
		// OpenID Connect Registration §2: application_type is web or native.
		return fmt.Errorf("application_type %q is not supported (web or native)", c.ApplicationType)
	}
	// RFC 7591 §2: redirect_uris is for "redirect-based flows"; a client that only
	// obtains tokens for itself (client_credentials) has none to register.
	if len(c.RedirectURIs) == 0 && c.AllowsGrant(GrantAuthorizationCode) {
		return errors.New("redirect_uris is required")
	}
	for _, uri := range c.RedirectURIs {
		if err := checkRedirectURI(uri, c.Native()); err != nil {
			return err
		}
	}
	return nil
}

func checkRedirectURI(uri string, native bool) error {
	u, err := url.Parse(uri)
	switch {
	// RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
	case err != nil || !u.IsAbs():
		return fmt.Errorf("redirect_uri %q must be an absolute URI", uri)
	// RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return fmt.Errorf("redirect_uri %q must not have a fragment", uri)
	case u.Scheme == "https":
		// Web clients, and native apps' claimed https URIs (RFC 8252 §7.2).
		return nil
	case u.Scheme == "http":
		// RFC 9700 §2.1 / RFC 8252 §7.3 and §8.3: plain http only on loopback.
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("redirect_uri %q: http is allowed only on loopback", uri)
		}
		return nil
	case !native:
		// RFC 8252 §7.1: private-use URI schemes are a native app's; a web client
		// answered at one could be any app on the device that claims the scheme.
		return fmt.Errorf("redirect_uri %q: a web client's redirect URIs use https (or http on loopback); private-use URI schemes need application_type native (RFC 8252 §7.1)", uri)
	}
	// RFC 8252 §7.1: "apps MUST use a URI scheme based on a domain name under their
	// control, expressed in reverse order"; §8.4: "any private-use URI scheme that
	// doesn't contain a period character (".") SHOULD be rejected."
	if !strings.Contains(u.Scheme, ".") {
		return fmt.Errorf("redirect_uri %q: a private-use URI scheme must be a reverse domain name such as com.example.app (RFC 8252 §7.1, §8.4)", uri)
	}
	// RFC 8252 §7.1: "as there is no naming authority for private-use URI scheme
	// redirects, only a single slash ("/") appears after the scheme component", as in
	// com.example.app:/oauth2redirect/example-provider. pargate holds clients to it:
	// no authority (a host there names nothing) and no opaque form.
	if rest := uri[len(u.Scheme)+1:]; !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return fmt.Errorf("redirect_uri %q: a private-use URI has a single slash after the scheme, as in %s:/callback (RFC 8252 §7.1)", uri, u.Scheme)
	}
	return nil
}

// redirectAllowed reports whether uri may be the redirect URI of a request from
// client: registered exactly; for a native client, a registered loopback IP redirect
// on another port (RFC 8252 §7.3); or — RFC 9126 §2.4 — for a pushed request from a
// client with credentials, under one of its registered prefixes. RFC 9126 §7.2: "The
// authorization server MUST only accept new redirect URIs in the pushed authorization
// request from authenticated clients", so public clients never get this.
func redirectAllowed(client *Client, uri string, pushed bool) bool {
	if slices.Contains(client.RedirectURIs, uri) {
		return true
	}
	if client.Native() && loopbackRedirectAllowed(client, uri) {
		return true
	}
	if !pushed || client.Public() || len(client.PushedRedirectURIPrefixes) == 0 {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(uri, "#") || u.User != nil {
		return false
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())) {
		return false
	}
	for _, prefix := range client.PushedRedirectURIPrefixes {
		if strings.HasPrefix(uri, prefix) {
			return true
		}
	}
	return false
}

// loopbackRedirectAllowed is RFC 8252 §7.3 for a native client: "The authorization
// server MUST allow any port to be specified at the time of the request for loopback
// IP redirect URIs, to accommodate clients that obtain an available ephemeral port
// from the operating system at the time of the request." Only the port is free: the
// scheme (http), the IP literal, the path and the query must be those of a
// registered URI, character for character. §8.3: "the use of localhost is NOT
// RECOMMENDED", so http://localhost redirects match exactly, like https ones.
func loopbackRedirectAllowed(client *Client, uri string) bool {
	want, ok := loopbackWithoutPort(uri)
	if !ok {
		return false
	}
	for _, r := range client.RedirectURIs {
		if got, ok := loopbackWithoutPort(r); ok && got == want {
			return true
		}
	}
	return false
}

// loopbackIPRedirects are the beginnings of RFC 8252 §7.3 loopback IP redirect URIs:
// "http://127.0.0.1:{port}/{path} for IPv4, and http://[::1]:{port}/{path} for IPv6".
var loopbackIPRedirects = [...]string{"http://127.0.0.1", "http://[::1]"}

// loopbackWithoutPort returns uri without its port if it is an RFC 8252 §7.3 loopback
// IP redirect URI: http, the literal 127.0.0.1 or [::1], an optional port of 1 to
// 65535, then nothing, a path or a query — never userinfo, another host that begins
// the same ("http://127.0.0.1.evil.example") or a fragment.
func loopbackWithoutPort(uri string) (string, bool) {
	for _, base := range loopbackIPRedirects {
		rest, ok := strings.CutPrefix(uri, base)
		if !ok {
			continue
		}
		if port, ok := strings.CutPrefix(rest, ":"); ok {
			n := 0
			for n < len(port) && n < 6 && '0' <= port[n] && port[n] <= '9' {
				n++
			}
			if !validPort(port[:n]) {
				return "", false
			}
			rest = port[n:]
		}
		if rest != "" && rest[0] != '/' && rest[0] != '?' || strings.Contains(rest, "#") {
			return "", false
		}
		if _, err := url.Parse(uri); err != nil {
			return "", false
		}
		return base + rest, true
	}
	return "", false
}

// validPort reports whether p is a decimal port from 1 to 65535 without leading zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// checkFAPI2RedirectURI is FAPI 2.0 Security Profile §5.3.2.2 item 8 under
// PROFILE=fapi2: the authorization server "shall not allow redirect URIs that use the
// "http" scheme except for native clients that use loopback interface Redirection as
// described in Section 7.3 of [RFC8252]". A web client's loopback http URI, and a
// native client's http://localhost one (§8.3, not §7.3), are refused; https and a
// native client's private-use schemes are not http and pass.
func checkFAPI2RedirectURI(client *Client, uri string) *Error {
	scheme, _, _ := strings.Cut(uri, ":")
	if !strings.EqualFold(scheme, "http") {
		return nil
	}
	if _, ok := loopbackWithoutPort(uri); ok && client.Native() {
		return nil
	}
	return InvalidRequest(RedirectURIInsecure).WithCause(errors.New("http redirect_uri refused under fapi2"))
}

// RedirectURIInsecure is the description of an http redirect URI refused under
// PROFILE=fapi2; it never quotes the value.
const RedirectURIInsecure = "redirect_uri must use https (FAPI 2.0: http only for a native app's loopback redirect)"

// IsLoopback reports whether host names this machine: a loopback IP literal
// (RFC 8252 §7.3) or "localhost" — never a DNS name that merely starts with "127.".
// Registration accepts all of them for plain http; only the IP literals 127.0.0.1 and
// ::1 get a native client's any-port matching (loopbackWithoutPort).
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webRedirect reports whether uri is an http or https URI, a target a browser can
// post a form to (form_post; a private-use scheme is a native app's, RFC 8252 §7.1).
func webRedirect(uri string) bool {
	scheme, _, ok := strings.Cut(uri, ":")
	return ok && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http"))
}
