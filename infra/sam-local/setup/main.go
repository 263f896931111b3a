// Command setup creates, in a running moto_server, what the stack would create in AWS -
// the seeded table and the two secrets - and writes the `sam local --env-vars` file
// that points the functions at them. It reuses infra/lambdaemu/stack, which does the
// same for the local Lambda emulator, so the two cannot drift apart.
//
//	go run ./infra/sam-local/setup -endpoint http://127.0.0.1:5000 -out infra/sam-local/env.local.json
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:5000", "moto_server URL, as the functions in Docker reach it")
	issuer := flag.String("issuer", "http://127.0.0.1:3000", "ISSUER of the functions (sam local start-api's address)")
	envEndpoint := flag.String("env-endpoint", "", "AWS_ENDPOINT_URL written for the functions (default -endpoint; e.g. http://host.docker.internal:5000 without --docker-network host)")
	out := flag.String("out", "infra/sam-local/env.local.json", "env-vars file to write")
	flag.Parse()
	if *envEndpoint == "" {
		*envEndpoint = *endpoint
	}
	if err := run(*endpoint, *envEndpoint, *issuer, *out); err != nil {
		fmt.Fprintln(os.Stderr, "sam-local setup:", err)
		os.Exit(1)
	}
}

func run(endpoint, envEndpoint, issuer, out string) error {
	a, err := stack.StartAWS(context.Background(), stack.Options{Endpoint: endpoint, Issuer: issuer})
	if err != nil {
		return fmt.Errorf("create the table and secrets in %s: %w", endpoint, err)
	}
	defer a.Close()
	env := map[string]map[string]string{"Parameters": {
		"ISSUER":           a.Issuer,
		"TABLE_NAME":       a.Table,
		"KEYS_SECRET_ID":   a.KeysSecretID,
		"COOKIE_SECRET_ID": a.CookieSecretID,
		"SERVICE_NAME":     "pargate-local",
		"AWS_ENDPOINT_URL": envEndpoint,
		// DPOP_NONCE_SECRET_ID is a variable of every function (read with DPOP_NONCE=true).
		"DPOP_NONCE_SECRET_ID": a.DPoPNonceSecretID,
	},
		// Discovery serves the public key set, which the rotation function publishes.
		"DiscoveryFunction":   {"PUBLIC_KEYS_SECRET_ID": a.PublicKeysSecretID},
		"KeyRotationFunction": {"PUBLIC_KEYS_SECRET_ID": a.PublicKeysSecretID},
	}
	data, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("table %s, secrets %s, %s and %s in %s; env vars in %s\n", a.Table, a.KeysSecretID, a.CookieSecretID, a.DPoPNonceSecretID, endpoint, out)
	return nil
}
