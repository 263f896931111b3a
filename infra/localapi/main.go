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
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localapi:", err)
		os.Exit(1)
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
