package config

import (
	"fmt"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
)

// clientRateLimit reads CLIENT_RATE_LIMIT, each client's limit at /par, /token,
// /revoke and /introspect: REQUESTS/SECONDS (default 600/60) or off
// (docs/design.md decision 23).
func clientRateLimit(getenv func(string) string) (oauth.RateLimit, error) {
	raw := strings.TrimSpace(getenv("CLIENT_RATE_LIMIT"))
	if raw == "" {
		return oauth.DefaultRateLimit, nil
	}
	l, err := oauth.ParseRateLimit(raw)
	if err != nil {
		return oauth.DefaultRateLimit, fmt.Errorf("CLIENT_RATE_LIMIT: %w", err)
	}
	return l, nil
}
