// Command localapi serves every route of template.yaml in one process on
// 127.0.0.1 — the same handlers the Lambda functions run — over the in-memory store
// or a local DynamoDB endpoint, seeded from a seed file. It stands in for
// `sam local start-api` where Docker is not available.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, withDefaults(os.Getenv), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localapi:", err)
		os.Exit(1)
	}
}

// withDefaults gives `make run` a local state folder unless LOCAL_STATE_DIR is set
// (to a path, or to "-" for none): a restart reuses the key and the password hashes.
func withDefaults(getenv func(string) string) func(string) string {
	return func(name string) string {
		v := getenv(name)
		if name == "LOCAL_STATE_DIR" {
			switch v {
			case "":
				return ".local"
			case "-":
				return ""
			}
		}
		return v
	}
}

func run(ctx context.Context, getenv func(string) string, out *os.File) error {
	srv, err := Start(ctx, getenv)
	if err != nil {
		return err
	}
	defer srv.Close()
	printWalkthrough(out, srv)
	<-ctx.Done()
	return nil
}
