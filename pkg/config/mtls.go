package config

import (
	"fmt"
	"net/url"
)

// mtlsBaseURL checks MTLS_BASE_URL: an https origin (scheme and host, no path, query
// or fragment), because mutual TLS needs TLS and the endpoint aliases are the
// endpoints' paths under it (RFC 8705 §5).
func mtlsBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("MTLS_BASE_URL=%q: want an https origin such as https://mtls.auth.example.com", raw)
	}
	return "https://" + u.Host, nil
}
