package main

import (
	"fmt"
	"io"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// The RFC 7636 Appendix B example pair, good enough for a walk-through.
const (
	demoVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	demoChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

// demoClient is the first confidential client of the seed with a redirect URI on
// this server's /callback.
func demoClient(f *seed.File, issuer string) (*seed.Client, string) {
	for i, c := range f.Clients {
		if c.TokenEndpointAuthMethod == oauth.AuthNone {
			continue
		}
		for _, uri := range c.RedirectURIs {
			if uri == issuer+"/callback" {
				return &f.Clients[i], uri
			}
		}
	}
	return nil, ""
}

func tokenCurl(curl, issuer, redirect, code string) string {
	return fmt.Sprintf("%s -u \"$CLIENT\" -d grant_type=authorization_code -d code=%s \\\n  -d redirect_uri=%s -d code_verifier=%s \\\n  %s/token", curl, code, redirect, demoVerifier, issuer)
}

// curlCommand is curl as the walk-through runs it: trusting the local CA under TLS=true.
func curlCommand(caFile string) string {
	if caFile == "" {
		return "curl -s"
	}
	return fmt.Sprintf("curl -s --cacert '%s'", caFile)
}

func printWalkthrough(w io.Writer, s *Server) {
	fmt.Fprintf(w, "pargate local API listening on %s (issuer %s)\n", s.Addr, s.Issuer)
	curl := curlCommand(s.CAFile)
	if s.CAFile != "" {
		fmt.Fprintf(w, "HTTPS with the local CA %s: clients trust it (curl --cacert, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE)\n", s.CAFile)
	}
	fmt.Fprintf(w, "discovery: %s/.well-known/openid-configuration\n\n", s.Issuer)
	c, redirect := demoClient(s.Seed, s.Issuer)
	if c == nil {
		fmt.Fprintf(w, "The seed has no confidential client with redirect URI %s/callback; no walk-through.\n", s.Issuer)
		return
	}
	user := ""
	if len(s.Seed.Users) > 0 {
		user = fmt.Sprintf(" (user %q, password %q)", s.Seed.Users[0].Username, s.Seed.Users[0].Password)
	}
	fmt.Fprintf(w, `Walk-through: the PAR authorization code flow with client %[1]s.

  CLIENT='%[1]s:%[2]s'

1. Push the authorization request (RFC 9126); note the request_uri in the answer:

  %[8]s -u "$CLIENT" -d response_type=code -d redirect_uri=%[3]s \
    -d 'scope=openid profile email' -d state=demo-state -d nonce=demo-nonce \
    -d code_challenge=%[4]s -d code_challenge_method=S256 \
    %[5]s/par

2. Within the expires_in seconds, open this in a browser, sign in%[6]s and allow:

  %[5]s/authorize?client_id=%[1]s&request_uri=<request_uri from step 1>

3. The browser lands on %[3]s with the code; exchange it within 60 seconds:

  %[8]s -u "$CLIENT" -d grant_type=authorization_code -d code=<code> \
    -d redirect_uri=%[3]s -d code_verifier=%[7]s \
    %[5]s/token

`, c.ID, c.Secret, redirect, demoChallenge, s.Issuer, user, demoVerifier, curl)
	if svc := serviceClient(s.Seed); svc != nil {
		fmt.Fprintf(w, `4. A machine-to-machine token (RFC 6749 §4.4) for client %[1]s, no user or browser:

  %[3]s -u '%[1]s:%[2]s' -d grant_type=client_credentials \
    %[4]s/token

`, svc.ID, svc.Secret, curl, s.Issuer)
	}
}

// serviceClient is the first client of the seed registered for client_credentials.
func serviceClient(f *seed.File) *seed.Client {
	for i, c := range f.Clients {
		if c.AllowsGrant(oauth.GrantClientCredentials) {
			return &f.Clients[i]
		}
	}
	return nil
}
