// Command invoke runs one function's real bootstrap on an event, as `sam local invoke
// -e` does but without Docker: it builds functions/<fn> for this host (the Makefile's
// flags), starts moto_server with the seeded table and the secrets, runs the bootstrap
// under the local Lambda Runtime API (infra/lambdaemu) and prints the response
// payload. The function's output, Lambda's REPORT line and the AWS calls it made go
// to stderr.
//
//	go run ./infra/lambdaemu/cmd/invoke -fn par -event events/par.json
//	make invoke FN=par EVENT=events/par.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var fe *lambdaemu.FunctionError
		if errors.As(err, &fe) {
			// As sam local invoke: the error document is the output.
			fmt.Println(indent(fe.Payload))
		}
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("invoke", flag.ContinueOnError)
	flags.SetOutput(stderr)
	fnName := flags.String("fn", "", "function: a directory under functions/ (par, authorize, token, discovery)")
	eventFile := flags.String("event", "", "event JSON file, e.g. events/par.json (- for stdin)")
	times := flags.Int("n", 1, "invoke the event this many times: one cold start, then warm")
	endpoint := flags.String("endpoint", "", "a running moto_server to use (default: start one)")
	issuer := flags.String("issuer", stack.EventsIssuer, "ISSUER of the function")
	seedFile := flags.String("seed", "", "seed file of the table (default infra/seed.json)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *fnName == "" || *eventFile == "" || flags.NArg() > 0 {
		flags.Usage()
		return errors.New("-fn and -event are required")
	}
	event, err := readEvent(*eventFile)
	if err != nil {
		return err
	}
	root, err := stack.ModuleRoot()
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "pargate-invoke-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	begin := time.Now()
	bootstraps, err := stack.Build(ctx, root, dir, runtime.GOARCH, *fnName)
	if err != nil {
		return err
	}
	info, err := os.Stat(bootstraps[*fnName])
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "built functions/%s for linux/%s in %v: %.1f MB\n", *fnName, runtime.GOARCH, time.Since(begin).Round(time.Millisecond), float64(info.Size())/1e6)

	aws, err := stack.StartAWS(ctx, stack.Options{Endpoint: *endpoint, Issuer: *issuer, SeedFile: *seedFile})
	if err != nil {
		return fmt.Errorf("local AWS: %w", err)
	}
	defer aws.Close()
	fmt.Fprintf(stderr, "moto_server %s: table %s seeded, secrets created\n", aws.MotoEndpoint, aws.Table)

	fn, err := aws.Start(ctx, *fnName, bootstraps[*fnName], stderr)
	if err != nil {
		return err
	}
	defer fn.Close()
	for i := 0; i < *times; i++ {
		resp, err := fn.Invoke(ctx, event)
		if err != nil {
			return err
		}
		if i == *times-1 {
			fmt.Fprintln(stdout, indent(resp))
		}
	}
	s := fn.Stats()
	fmt.Fprintf(stderr, "cold start: exec to init done %v, exec to first response %v, peak RSS %.1f MiB\n",
		s.Init.Round(10*time.Microsecond), s.FirstResponse.Round(10*time.Microsecond), float64(s.PeakRSS)/(1<<20))
	fmt.Fprintf(stderr, "AWS calls: %s\n", strings.Join(fn.AWS.Operations(), " "))
	return nil
}

func readEvent(path string) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%s is not JSON", path)
	}
	return data, nil
}

func indent(data []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, data, "", "  ") != nil {
		return string(data)
	}
	return b.String()
}
