package config

import (
	"errors"
	"fmt"
	"strings"
)

// jwksURIAllowLoopback reads JWKS_URI_ALLOW_LOOPBACK: "true" lets jwks_uri fetches
// connect to loopback addresses, for a local run whose clients serve their keys on
// 127.0.0.1; default "false". It is refused in Lambda (AWS_LAMBDA_FUNCTION_NAME set),
// where a loopback jwks_uri can only be an attempt to reach the function's own
// environment (docs/design.md "Input, oracles and fetches").
func jwksURIAllowLoopback(getenv func(string) string) (bool, error) {
	switch v := strings.TrimSpace(getenv("JWKS_URI_ALLOW_LOOPBACK")); v {
	case "", "false":
		return false, nil
	case "true":
		if strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_NAME")) != "" {
			return false, errors.New("JWKS_URI_ALLOW_LOOPBACK=true is for local runs only, not in Lambda")
		}
		return true, nil
	default:
		return false, fmt.Errorf("JWKS_URI_ALLOW_LOOPBACK=%q: want true or false", v)
	}
}
