package apigw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/config"
)

// Options configure [Start]. Zero values are the defaults of `make run-lambda`.
type Options struct {
	// Root is the module directory (default: found from the working directory).
	Root string
	// Listener serves the API; nil listens on Addr (default 127.0.0.1:3000).
	Listener net.Listener
	Addr     string
	// Getenv reads the settings (default os.Getenv): ISSUER (default the local URL),
	// SEED_FILE, DYNAMODB_ENDPOINT or AWS_ENDPOINT_URL (a running moto_server or
	// DynamoDB Local; default: start moto_server), LAMBDA_CONCURRENCY,
	// PARAMETER_OVERRIDES ("Name=value ...", after samconfig.toml's default
	// environment's), and any variable template.yaml gives the functions, which then
	// overrides the template's value.
	Getenv func(string) string
	// Bootstraps are built functions by directory (default: built for this host
	// into a temporary directory).
	Bootstraps map[string]string
	// Logs receives the functions' output, the cold starts and failed integrations
	// (default os.Stderr).
	Logs io.Writer
}

// Local is a running `make run-lambda`: the HTTP API, the function instances and
// the local AWS resources.
type Local struct {
	URL    string
	Issuer string
	AWS    *stack.AWS
	Pool   *Pool
	Routes []Route
	srv    *http.Server
	tmp    string
}

// DefaultAddr is where `make run-lambda` listens, as `sam local start-api` does.
const DefaultAddr = "127.0.0.1:3000"

// Start builds the bootstraps (unless given), starts the local AWS resources and
// serves the HTTP API of template.yaml in front of the functions.
func Start(ctx context.Context, opts Options) (l *Local, err error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	logs := opts.Logs
	if logs == nil {
		logs = os.Stderr
	}
	if opts.Root == "" {
		if opts.Root, err = stack.ModuleRoot(); err != nil {
			return nil, err
		}
	}
	concurrency := DefaultConcurrency
	if v := getenv("LAMBDA_CONCURRENCY"); v != "" {
		if _, err := fmt.Sscan(v, &concurrency); err != nil || concurrency < 1 || concurrency > 1000 {
			return nil, fmt.Errorf("LAMBDA_CONCURRENCY=%q: want a number from 1 to 1000", v)
		}
	}
	routes, err := LoadRoutes(opts.Root)
	if err != nil {
		return nil, err
	}
	ln := opts.Listener
	if ln == nil {
		addr := opts.Addr
		if addr == "" {
			addr = DefaultAddr
		}
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, err
		}
	}
	l = &Local{URL: "http://" + ln.Addr().String(), Routes: routes}
	defer func() {
		if err != nil {
			_ = ln.Close()
			l.Close()
		}
	}()
	l.Issuer = getenv("ISSUER")
	if l.Issuer == "" {
		l.Issuer = l.URL
	}

	bootstraps := opts.Bootstraps
	if bootstraps == nil {
		if l.tmp, err = os.MkdirTemp("", "pargate-run-lambda-"); err != nil {
			return nil, err
		}
		if bootstraps, err = stack.Build(ctx, opts.Root, l.tmp, runtime.GOARCH, stack.HTTPFunctions...); err != nil {
			return nil, err
		}
	}
	endpoint := getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if l.AWS, err = stack.StartAWS(ctx, stack.Options{Root: opts.Root, Endpoint: endpoint, Issuer: l.Issuer, SeedFile: getenv("SEED_FILE")}); err != nil {
		return nil, fmt.Errorf("local AWS: %w", err)
	}
	overrides, err := parameterOverrides(opts.Root, getenv("PARAMETER_OVERRIDES"))
	if err != nil {
		return nil, err
	}
	for name, v := range overrides {
		if _, ok := l.AWS.Template.Parameters[name]; !ok {
			return nil, fmt.Errorf("parameter override %s: template.yaml has no such parameter", name)
		}
		l.AWS.Template.Parameters[name] = v
	}
	for name, v := range envParameters(l.AWS.Template, getenv) {
		l.AWS.Template.Parameters[name] = v
	}
	l.AWS.Overrides = envOverrides(l.AWS.Template, getenv)
	// The signing keys are of the algorithm the functions' KEY_ALG and PROFILE give
	// (RS256 unless set, ES256 under fapi2), as the rotation function generates them.
	fn, err := l.AWS.Function(stack.HTTPFunctions[0], "")
	if err != nil {
		return nil, err
	}
	alg, err := config.KeyAlgorithm(func(name string) string { return fn.Env[name] })
	if err != nil {
		return nil, err
	}
	if err := l.AWS.UseKeyAlgorithm(ctx, alg); err != nil {
		return nil, err
	}

	dirs := map[string]string{} // LogicalId → functions/<dir>
	for dir, id := range l.AWS.Template.LogicalIDs {
		dirs[id] = dir
	}
	for _, r := range routes {
		dir, ok := dirs[r.Function]
		if !ok || bootstraps[dir] == "" {
			return nil, fmt.Errorf("route %s: function %s is not one of the built functions", r.Key, r.Function)
		}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logs, "run-lambda: "+format+"\n", args...) }
	l.Pool = &Pool{
		Concurrency: concurrency,
		Log:         logf,
		Start: func(ctx context.Context, function string) (Instance, error) {
			dir := dirs[function]
			return l.AWS.Start(ctx, dir, bootstraps[dir], logs)
		},
	}
	gw := &Gateway{Routes: routes, Invoker: l.Pool, Log: logf}
	l.srv = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// Close stops the API, the instances and the local AWS resources.
func (l *Local) Close() {
	if l.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = l.srv.Shutdown(ctx)
		cancel()
	}
	if l.Pool != nil {
		_ = l.Pool.Close()
	}
	if l.AWS != nil {
		l.AWS.Close()
	}
	if l.tmp != "" {
		_ = os.RemoveAll(l.tmp)
	}
}

// envOverrides are the variables template.yaml gives any function that getenv has
// a value for: `sam local --env-vars`, so that the settings of `make run` work here.
func envOverrides(t *stack.Template, getenv func(string) string) map[string]string {
	out := map[string]string{}
	for _, spec := range append([]stack.FunctionSpec{t.Global}, specs(t)...) {
		for name := range spec.Env {
			if v := getenv(name); v != "" {
				out[name] = v
			}
		}
	}
	return out
}

// envParameters are the parameters behind the variables of envOverrides whose
// template value is a plain !Ref: PROFILE=fapi2 in the environment sets Profile too,
// so that what the template derives from it (REQUIRE_PAR under IsFapi2) follows, as
// it does for `make run` with the same setting.
func envParameters(t *stack.Template, getenv func(string) string) map[string]string {
	out := map[string]string{}
	for _, spec := range append([]stack.FunctionSpec{t.Global}, specs(t)...) {
		for name, raw := range spec.Env {
			param, ok := strings.CutPrefix(raw, "!Ref ")
			if _, known := t.Parameters[param]; ok && known {
				if v := getenv(name); v != "" {
					out[param] = v
				}
			}
		}
	}
	return out
}

func specs(t *stack.Template) []stack.FunctionSpec {
	var ids []string
	for id := range t.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []stack.FunctionSpec
	for _, id := range ids {
		out = append(out, t.Functions[id])
	}
	return out
}

var samconfigOverrides = regexp.MustCompile(`(?m)^parameter_overrides\s*=\s*"([^"]*)"`)

// parameterOverrides are samconfig.toml's default environment's parameter_overrides
// ([default.deploy.parameters]), then extra ("Name=value ..."), as
// `sam local --parameter-overrides` takes them.
func parameterOverrides(root, extra string) (map[string]string, error) {
	out := map[string]string{}
	toml, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	section := ""
	var defaults string
	for _, line := range strings.Split(string(toml), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if section == "[default.deploy.parameters]" {
			if m := samconfigOverrides.FindStringSubmatch(line); m != nil {
				defaults = m[1]
			}
		}
	}
	for _, list := range []string{defaults, extra} {
		for _, pair := range strings.Fields(list) {
			name, v, ok := strings.Cut(pair, "=")
			if !ok || name == "" {
				return nil, fmt.Errorf("parameter override %q is not Name=value", pair)
			}
			out[name] = v
		}
	}
	return out, nil
}
