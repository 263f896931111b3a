package oauth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Browser origins of a client (docs/design.md decision 30). A browser-based app
// (draft-ietf-oauth-browser-based-apps) calls the token endpoint and others from
// its page with fetch, and the browser names the page's origin in the Origin header
// (Fetch §3.1, "`Origin` header"). Which origins a client's pages have is client
// metadata: the origins of its registered redirect URIs, where its pages are, and
// allowed_origins for pages elsewhere. The HTTP edge decides where CORS applies;
// this file only says whether an origin is the client's.

// CheckAllowedOrigins checks the client's allowed_origins: each is an origin as a
// browser serializes it (HTML "ASCII serialization of an origin", which Fetch §3.1
// sends in Origin): scheme "://" host [":" port], lower case, no default port, no
// path, query or fragment; https, or http on loopback as for redirect URIs
// (RFC 9700 §2.1, RFC 8252 §8.3).
func CheckAllowedOrigins(c *Client) error {
	for _, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("allowed_origins entry %q must be an origin: scheme://host[:port]", o)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return fmt.Errorf("allowed_origins entry %q: http is allowed only on loopback (RFC 9700 §2.1)", o)
		}
	default:
		return fmt.Errorf("allowed_origins entry %q must be an https origin (or http on loopback)", o)
	}
	if canon, ok := originOf(u); !ok || canon != o {
		// A browser sends exactly the serialization; anything else would never match.
		return fmt.Errorf("allowed_origins entry %q must be written as a browser sends it: scheme://host[:port] in lower case, without a path, a trailing slash, a default port, user information, a query or a fragment", o)
	}
	return nil
}

// originOf is the ASCII serialization of the origin of an http or https URL (HTML
// Standard, "Origins": scheme, "://", host, and ":" port unless it is the scheme's
// default), and whether u has nothing but an origin. A host in Unicode is not an
// origin as browsers send it (they send the A-label).
func originOf(u *url.URL) (string, bool) {
	host := strings.ToLower(u.Host)
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		host = strings.TrimSuffix(host, ":"+port)
	}
	for _, r := range host {
		if r > 0x7e {
			return "", false
		}
	}
	bare := u.User == nil && u.Path == "" && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" &&
		!strings.HasSuffix(u.Host, ":")
	return u.Scheme + "://" + host, bare
}

// AllowsOrigin reports whether origin, as a browser sent it in Origin, is one of
// the client's: among its allowed_origins or the origin of one of its registered
// http(s) redirect URIs. The opaque origin "null" (sandboxed frames, file: pages,
// redirects across origins; Fetch §3.2) is never a client's.
func (c *Client) AllowsOrigin(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	if slices.Contains(c.AllowedOrigins, origin) {
		return true
	}
	for _, uri := range c.RedirectURIs {
		if !webRedirect(uri) {
			continue
		}
		u, err := url.Parse(uri)
		if err != nil {
			continue
		}
		u.Scheme = strings.ToLower(u.Scheme)
		if o, _ := originOf(u); o == origin {
			return true
		}
	}
	return false
}
