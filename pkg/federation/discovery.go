package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// metadata is what the broker reads of an OpenID Provider's discovery document
// (OIDC Discovery §3, RFC 8414 §2, RFC 9126 §5, RFC 9207 §3).
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	PAREndpoint           string   `json:"pushed_authorization_request_endpoint"`
	RequirePAR            bool     `json:"require_pushed_authorization_requests"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
}

// upstream is one issuer's discovery document as the client caches it.
type upstream struct {
	meta      metadata
	authorize *url.URL
	algs      []string // ID token algorithms: the advertised asymmetric ones
	keys      *keySet
	fetched   time.Time
}

// asymmetric are the JWS algorithms an ID token may be signed with: never none,
// never HS* (a MAC keyed with the client secret is not the upstream's signature
// over its JWKS; OIDC Core §3.1.3.7 item 6 lets the client refuse them).
var asymmetric = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true, "EdDSA": true,
}

// checkURL applies the transport rule to an upstream URL: https, or http to a
// loopback host (tests and local demos); no fragment.
func checkURL(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return nil, invalid("%s is not an absolute URL without fragment", what)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		return nil, invalid("%s must be https (http only to a loopback host)", what)
	}
	return u, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// discover returns the issuer's discovery document, from the cache while fresh.
// A failed refresh serves the cached document for staleFor more, so a short outage
// of the discovery endpoint alone does not stop logins. Failures are not cached:
// each Begin or Finish without a usable document tries again (one bounded GET).
func (c *Client) discover(ctx context.Context, issuer string) (*upstream, error) {
	c.mu.Lock()
	cached := c.cache[issuer]
	c.mu.Unlock()
	now := c.now()
	if cached != nil && now.Sub(cached.fetched) < c.ttl {
		return cached, nil
	}
	fresh, err := c.fetchMetadata(ctx, issuer)
	if err != nil {
		// The cached document was validated; whatever the refresh met (an outage,
		// a half-deployed change), it is still the upstream's for a while.
		if cached != nil && now.Sub(cached.fetched) < c.ttl+c.staleFor {
			c.log.WarnContext(ctx, "serving a stale discovery document", "issuer", issuer, "error", err.Error())
			return cached, nil
		}
		return nil, err
	}
	fresh.fetched = now
	if cached != nil && cached.meta.JWKSURI == fresh.meta.JWKSURI {
		fresh.keys = cached.keys // keep the keys fetched so far
	} else {
		fresh.keys = &keySet{c: c, uri: fresh.meta.JWKSURI}
	}
	c.mu.Lock()
	c.cache[issuer] = fresh
	c.mu.Unlock()
	return fresh, nil
}

// fetchMetadata reads Issuer + "/.well-known/openid-configuration" (OIDC Discovery
// §4.1) and validates it (§4.3).
func (c *Client) fetchMetadata(ctx context.Context, issuer string) (*upstream, error) {
	if _, err := checkURL("issuer "+issuer, issuer); err != nil {
		return nil, err
	}
	// §4.1: "If the Issuer value contains a path component, any terminating / MUST
	// be removed before appending /.well-known/openid-configuration."
	target := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, invalid("issuer %s is not a URL", issuer)
	}
	req.Header.Set("Accept", "application/json")
	status, _, body, err := c.do(ctx, "discovery of "+issuer, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, answerError("discovery of "+issuer, status, nil)
	}
	var m metadata
	if err := decodeJSON(body, &m); err != nil {
		return nil, unavailable("discovery of %s answered no JSON object", issuer)
	}
	// §4.3: "The issuer value returned MUST be identical to the Issuer URL that was
	// used as the prefix to /.well-known/openid-configuration" (RFC 9700 §4.4.2:
	// the mix-up defence rests on it).
	if m.Issuer != issuer {
		return nil, invalid("discovery of %s names another issuer", issuer)
	}
	up := &upstream{meta: m}
	if up.authorize, err = checkURL("authorization_endpoint of "+issuer, m.AuthorizationEndpoint); err != nil {
		return nil, err
	}
	for what, raw := range map[string]string{"token_endpoint": m.TokenEndpoint, "jwks_uri": m.JWKSURI} {
		if _, err := checkURL(what+" of "+issuer, raw); err != nil {
			return nil, err
		}
	}
	for what, raw := range map[string]string{"userinfo_endpoint": m.UserinfoEndpoint, "pushed_authorization_request_endpoint": m.PAREndpoint} {
		if raw == "" {
			continue
		}
		if _, err := checkURL(what+" of "+issuer, raw); err != nil {
			return nil, err
		}
	}
	for _, a := range m.IDTokenSigningAlgs {
		if asymmetric[a] {
			up.algs = append(up.algs, a)
		}
	}
	if len(up.algs) == 0 {
		// OIDC Discovery §3: RS256 "MUST be included"; the default when the
		// document lists none the broker accepts.
		up.algs = []string{"RS256"}
	}
	return up, nil
}

// decodeJSON decodes one JSON object from body.
func decodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(body, v)
}
