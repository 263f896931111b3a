package config

import (
	"fmt"
	"strings"
)

// jwksURIAllowLoopback reads JWKS_URI_ALLOW_LOOPBACK: "true" lets jwks_uri fetches
// connect to loopback addresses, for a local run whose clients serve their keys on
// 127.0.0.1; default "false". It is refused in Lambda (AWS_LAMBDA_FUNCTION_NAME set),
// where a loopback jwks_uri can only be an attempt to reach the function's own
// environment (docs/design.md "Input, oracles and fetches").
func jwksURIAllowLoopback(getenv func(string) string) (bool, error) {
	return allowLoopback(getenv, "JWKS_URI_ALLOW_LOOPBACK")
}

// backchannelLogoutAllowLoopback reads BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK: "true" lets
// back-channel logout POSTs connect to loopback addresses, for a local run whose
// relying parties listen on 127.0.0.1; default "false", refused in Lambda, where
// loopback is the function's own runtime API (docs/design.md decision 34).
func backchannelLogoutAllowLoopback(getenv func(string) string) (bool, error) {
	return allowLoopback(getenv, "BACKCHANNEL_LOGOUT_ALLOW_LOOPBACK")
}

func allowLoopback(getenv func(string) string, name string) (bool, error) {
	switch v := strings.TrimSpace(getenv(name)); v {
	case "", "false":
		return false, nil
	case "true":
		if strings.TrimSpace(getenv("AWS_LAMBDA_FUNCTION_NAME")) != "" {
			return false, fmt.Errorf("%s=true is for local runs only, not in Lambda", name)
		}
		return true, nil
	default:
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
}
