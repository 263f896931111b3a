package config

import (
	"fmt"
	"net/url"
	"strings"
)

// mtlsBaseURL checks MTLS_BASE_URL: an https origin (scheme and host, no path, query
// or fragment), because mutual TLS needs TLS and the endpoint aliases are the
// endpoints' paths under it (RFC 8705 §5). MTLS_DOMAIN_NAME is the same as
// https://<name>; template.yaml sets it from the MtlsDomainName parameter.
func mtlsBaseURL(raw, domain string) (string, error) {
	switch {
	case raw != "" && domain != "":
		return "", fmt.Errorf("MTLS_BASE_URL and MTLS_DOMAIN_NAME name the same thing: set one")
	case domain != "":
		if strings.ContainsAny(domain, "/:@?#") {
			return "", fmt.Errorf("MTLS_DOMAIN_NAME=%q: want a host name such as mtls.auth.example.com", domain)
		}
		raw = "https://" + domain
	case raw == "":
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("MTLS_BASE_URL=%q: want an https origin such as https://mtls.auth.example.com", raw)
	}
	return "https://" + u.Host, nil
}
