// Command run-lambda is `make run-lambda`: pargate's real Lambda bootstraps, built for
// this host, behind a local API Gateway HTTP API (infra/apigw) on ADDR (default
// 127.0.0.1:3000), with DynamoDB and Secrets Manager on moto_server - what
// `sam local start-api` does, without Docker. See the README's local-run section.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/pargate/pargate/infra/apigw"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

// Flags for test harnesses that start several servers (infra/browser): -build DIR
// builds the bootstraps once into DIR and exits; -bootstraps DIR then starts
// without building.
var (
	buildDir      = flag.String("build", "", "build the functions' bootstraps for this host into `DIR` and exit")
	bootstrapsDir = flag.String("bootstraps", "", "use the bootstraps that -build wrote into `DIR` instead of building them")
)

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "run-lambda:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if *buildDir != "" {
		root, err := stack.ModuleRoot()
		if err != nil {
			return err
		}
		_, err = stack.Build(ctx, root, *buildDir, runtime.GOARCH, stack.HTTPFunctions...)
		return err
	}
	opts := apigw.Options{Addr: os.Getenv("ADDR")}
	if *bootstrapsDir != "" {
		// Where stack.Build puts them: DIR/<GOARCH>/<function>/bootstrap.
		opts.Bootstraps = map[string]string{}
		for _, name := range stack.HTTPFunctions {
			p := filepath.Join(*bootstrapsDir, runtime.GOARCH, name, "bootstrap")
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("-bootstraps: %w (run-lambda -build %s makes them)", err, *bootstrapsDir)
			}
			opts.Bootstraps[name] = p
		}
		fmt.Fprintln(os.Stderr, "run-lambda: starting moto_server…")
	} else {
		fmt.Fprintln(os.Stderr, "run-lambda: building the functions for this host, starting moto_server…")
	}
	l, err := apigw.Start(ctx, opts)
	if err != nil {
		return err
	}
	defer l.Close()
	walkthrough(os.Stdout, l)
	<-ctx.Done()
	return nil
}

func walkthrough(w io.Writer, l *apigw.Local) {
	fmt.Fprintf(w, "pargate behind a local API Gateway on %s (issuer %s): real bootstraps under the Lambda Runtime API emulator, moto_server %s (table %s)\n",
		l.URL, l.Issuer, l.AWS.MotoEndpoint, l.AWS.Table)
	for _, r := range l.Routes {
		fmt.Fprintf(w, "  %-45s -> %s\n", r.Key, r.Function)
	}
	fmt.Fprintf(w, "discovery: %s/.well-known/openid-configuration\n\n", l.Issuer)
	var client, secret, redirect string
	for _, c := range l.AWS.Seed.Clients {
		if c.Secret != "" && len(c.RedirectURIs) > 0 {
			client, secret, redirect = c.ID, c.Secret, c.RedirectURIs[len(c.RedirectURIs)-1]
			break
		}
	}
	if client == "" {
		fmt.Fprintln(w, "The seed has no confidential client; no walk-through.")
		return
	}
	user := ""
	if len(l.AWS.Seed.Users) > 0 {
		user = fmt.Sprintf(" (user %q, password %q)", l.AWS.Seed.Users[0].Username, l.AWS.Seed.Users[0].Password)
	}
	fmt.Fprintf(w, `Walk-through: the PAR authorization code flow with client %[1]s.

  CLIENT='%[1]s:%[2]s'

1. Push the authorization request (RFC 9126); note the request_uri in the answer:

  curl -s -u "$CLIENT" -d response_type=code -d redirect_uri=%[3]s \
    -d 'scope=openid profile email' -d state=demo-state -d nonce=demo-nonce \
    -d code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM -d code_challenge_method=S256 \
    %[4]s/par

2. Within the expires_in seconds, open this in a browser, sign in%[5]s and allow:

  %[4]s/authorize?client_id=%[1]s&request_uri=<request_uri from step 1>

3. The browser goes to %[3]s?code=…; exchange the code within 60 seconds:

  curl -s -u "$CLIENT" -d grant_type=authorization_code -d code=<code> \
    -d redirect_uri=%[3]s -d code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk \
    %[4]s/token

`, client, secret, redirect, l.Issuer, user)
}
