// Command pargate is the operator's command line: clients, users, seed import and
// signing keys of a deployment, in the DynamoDB table and Secrets Manager secret the
// functions use. `pargate help` lists the commands; pkg/admin implements them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pargate/pargate/pkg/admin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cli := &admin.CLI{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if isTerminal(os.Stdin) {
		cli.Prompt = promptNoEcho
	}
	code := cli.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
