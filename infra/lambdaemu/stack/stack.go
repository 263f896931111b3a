// Package stack runs pargate's Lambda functions locally as template.yaml deploys them,
// without Docker or an AWS account: it builds the real bootstrap binaries with the
// Makefile's flags, creates what they need in AWS - the DynamoDB table seeded from
// infra/seed.json, the signing key set and the cookie key in Secrets Manager - on
// moto_server, and starts a function under the local Lambda Runtime API
// (infra/lambdaemu) with the environment template.yaml gives it, its AWS endpoint
// pointing at moto through a proxy that records every call the function makes.
package stack

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/infra/lambdaemu"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
	"github.com/pargate/pargate/pkg/seed"
)

// clientsAndUsers is the table store as seed.Import sees it: clients and users (and
// the users' reads), not the identity providers, whose secrets never reach the table.
type clientsAndUsers struct{ registryAndUsers }

type registryAndUsers interface {
	oauth.Registry
	oauth.Users
}

// HTTPFunctions are the functions behind the HTTP API (functions/<name>), the ones
// events/*.json are for.
var HTTPFunctions = []string{"par", "authorize", "token", "discovery"}

// BuildFlags are the flags of the Makefile's GO_BUILD (after `go build`), which sam
// build uses: static (CGO_ENABLED=0), stripped, reproducible, without the RPC mode.
var BuildFlags = []string{"-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc"}

// EventsIssuer is the API Gateway URL events/*.json were recorded against: their Host.
const EventsIssuer = "https://abc123.execute-api.us-east-1.amazonaws.com"

// Region is where the local resources live and the functions run.
const Region = "us-east-1"

// StackName is the local stack's name (!Ref AWS::StackName in template.yaml).
const StackName = "pargate"

// ModuleRoot finds the directory of go.mod from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above")
		}
		dir = parent
	}
}

// Build builds functions/<name> of the module at root for linux/goarch with
// [BuildFlags] into outDir/<goarch>/<name>/bootstrap, all in one `go build` (which
// compiles the shared packages once, in parallel), and returns the paths by name.
func Build(ctx context.Context, root, outDir, goarch string, names ...string) (map[string]string, error) {
	tmp := filepath.Join(outDir, goarch, ".build") + string(filepath.Separator)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", tmp)
	for _, name := range names {
		args = append(args, "./functions/"+name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s (GOARCH=%s): %w\n%s", strings.Join(args, " "), goarch, err, out.String())
	}
	paths := make(map[string]string, len(names))
	for _, name := range names {
		dir := filepath.Join(outDir, goarch, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		// `go build -o dir/` names each binary after its package directory.
		p := filepath.Join(dir, "bootstrap")
		if err := os.Rename(filepath.Join(tmp, name), p); err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		paths[name] = p
	}
	return paths, os.Remove(tmp)
}

// AWS is the local stand-in for the stack's AWS resources, on moto_server.
type AWS struct {
	// MotoEndpoint is moto_server's URL (DynamoDB and Secrets Manager).
	MotoEndpoint string
	// Issuer is the functions' ISSUER.
	Issuer string
	// Table is the DynamoDB table; KeysSecretID, CookieSecretID and
	// DPoPNonceSecretID are the ARNs of the secrets, which is what !Ref gives the
	// functions in template.yaml.
	Table             string
	KeysSecretID      string
	CookieSecretID    string
	DPoPNonceSecretID string
	// PublicKeysSecretID is the public JWK set of Keys, as the rotation function
	// publishes it for discovery (template.yaml PublicKeysSecret).
	PublicKeysSecretID string
	// IDPSecretPrefix is the prefix of the seed's identity providers' secrets
	// (IDP_SECRET_PREFIX): template.yaml's for the local stack name, made unique per
	// stack (several share one moto_server) within what the authorize role may read.
	IDPSecretPrefix string
	// Keys is the signing key set stored in the keys secret.
	Keys *keys.Set
	// Seed is what the table was seeded with.
	Seed *seed.File
	// Template is how template.yaml runs the functions.
	Template *Template

	// Overrides replace the values of the functions' template variables they name,
	// as `sam local --env-vars` does (e.g. PROFILE, REQUIRE_PAR, ISSUER); a name the
	// template does not give a function is not added to it.
	Overrides map[string]string

	moto      *moto.Server
	mu        sync.Mutex
	endpoints []*Endpoint
}

// Options configure [StartAWS].
type Options struct {
	// Root is the module's directory, with template.yaml, the Makefile and
	// infra/seed.json (default: found from the working directory).
	Root string
	// Endpoint is a running moto_server to use; empty starts one (and Close stops it).
	Endpoint string
	// SeedFile is the seed of the table (default: Root/infra/seed.json).
	SeedFile string
	// Issuer is the functions' ISSUER (default [EventsIssuer]).
	Issuer string
}

// StartAWS reads template.yaml, starts moto_server (unless opts.Endpoint names one)
// and creates in it a table with the store's schema, seeded from the seed file, and the three secrets: a
// new RS256 signing key set, a random cookie secret and a random DPoP nonce secret. Names are unique, so several
// stacks may share one moto_server. It returns moto.ErrNotInstalled when moto_server
// is needed and missing.
func StartAWS(ctx context.Context, opts Options) (a *AWS, err error) {
	a = &AWS{MotoEndpoint: opts.Endpoint, Issuer: opts.Issuer}
	if a.Issuer == "" {
		a.Issuer = EventsIssuer
	}
	if opts.Root == "" {
		if opts.Root, err = ModuleRoot(); err != nil {
			return nil, err
		}
	}
	if opts.SeedFile == "" {
		opts.SeedFile = filepath.Join(opts.Root, "infra", "seed.json")
	}
	if a.Template, err = LoadTemplate(opts.Root); err != nil {
		return nil, err
	}
	if a.Seed, err = seed.ReadFile(opts.SeedFile); err != nil {
		return nil, err
	}
	if a.MotoEndpoint == "" {
		srv, err := moto.Start(ctx)
		if err != nil {
			return nil, err
		}
		a.moto, a.MotoEndpoint = srv, srv.Endpoint
	}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	suffix := strings.ToLower(rand.Text()[:8])
	creds := credentials.NewStaticCredentialsProvider("local", "local", "")

	db := dynamodb.New(dynamodb.Options{Region: Region, BaseEndpoint: aws.String(a.MotoEndpoint), Credentials: creds})
	a.Table = "pargate-" + suffix
	if err := dynamo.CreateTable(ctx, db, a.Table); err != nil {
		return nil, err
	}
	store := dynamo.New(db, a.Table)
	// Clients and users; the identity providers below, with their secrets apart.
	if err := seed.Import(ctx, clientsAndUsers{store}, a.Seed); err != nil {
		return nil, fmt.Errorf("seed %s: %w", a.Table, err)
	}
	a.IDPSecretPrefix = "pargate/" + StackName + "/idp/" + suffix + "-"

	k, err := keys.Generate(keys.RS256)
	if err != nil {
		return nil, err
	}
	if a.Keys, err = keys.NewSet(k); err != nil {
		return nil, err
	}
	keySet, err := a.Keys.MarshalJSON()
	if err != nil {
		return nil, err
	}
	sm := secretsmanager.New(secretsmanager.Options{Region: Region, BaseEndpoint: aws.String(a.MotoEndpoint), Credentials: creds})
	if a.KeysSecretID, err = createSecret(ctx, sm, "pargate-keys-"+suffix, string(keySet)); err != nil {
		return nil, err
	}
	// What CloudFormation's GenerateSecretString (64 characters, no punctuation) makes.
	if a.CookieSecretID, err = createSecret(ctx, sm, "pargate-cookie-"+suffix, alphanumeric(64)); err != nil {
		return nil, err
	}
	// The DPoP nonce key's own secret, generated the same way (template.yaml
	// DpopNonceSecret).
	if a.DPoPNonceSecretID, err = createSecret(ctx, sm, "pargate-dpop-nonce-"+suffix, alphanumeric(64)); err != nil {
		return nil, err
	}
	// What the rotation function's finishSecret publishes for discovery.
	if a.PublicKeysSecretID, err = createSecret(ctx, sm, "pargate-public-keys-"+suffix, string(a.Keys.PublicJSON())); err != nil {
		return nil, err
	}
	// The seed's upstream identity providers as `pargate import` writes them: each
	// secret to Secrets Manager, then its item (issue 13).
	providers := &secrets.ProviderWriter{Secrets: sm, Items: store, Prefix: a.IDPSecretPrefix}
	for i := range a.Seed.IdentityProviders {
		p := a.Seed.IdentityProviders[i]
		if err := providers.PutIdentityProvider(ctx, &p); err != nil {
			return nil, fmt.Errorf("seed %s: %w", a.Table, err)
		}
	}
	return a, nil
}

// UseKeyAlgorithm replaces the signing key set with a new one of a key of alg (a
// KEY_ALG value: RS256, PS256, ES256, EdDSA), in the keys secret and the published
// public set, unless the set's key is of alg already.
func (a *AWS) UseKeyAlgorithm(ctx context.Context, alg string) error {
	if a.Keys.Active().Algorithm == alg {
		return nil
	}
	k, err := keys.Generate(alg)
	if err != nil {
		return err
	}
	set, err := keys.NewSet(k)
	if err != nil {
		return err
	}
	private, err := set.MarshalJSON()
	if err != nil {
		return err
	}
	sm := secretsmanager.New(secretsmanager.Options{Region: Region, BaseEndpoint: aws.String(a.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	for id, value := range map[string]string{a.KeysSecretID: string(private), a.PublicKeysSecretID: string(set.PublicJSON())} {
		if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String(value)}); err != nil {
			return fmt.Errorf("signing keys %s: %w", alg, err)
		}
	}
	a.Keys = set
	return nil
}

func createSecret(ctx context.Context, sm *secretsmanager.Client, name, value string) (string, error) {
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

func alphanumeric(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		b[i] = chars[j.Int64()]
	}
	return string(b)
}

// Function is the configuration of functions/<dir> as template.yaml deploys it
// ([Template.Function]), with these resources and AWS_ENDPOINT_URL set to endpoint,
// which the AWS SDK for Go v2 uses for every service.
// AWS_EC2_METADATA_SERVICE_ENDPOINT points there too, so an instance-metadata lookup
// (Lambda has none; it would stall a cold start) shows up as a recorded call.
func (a *AWS) Function(dir, endpoint string) (lambdaemu.Function, error) {
	supplied := map[string]string{
		"ISSUER":                            a.Issuer,
		"TABLE_NAME":                        a.Table,
		"KEYS_SECRET_ID":                    a.KeysSecretID,
		"COOKIE_SECRET_ID":                  a.CookieSecretID,
		"DPOP_NONCE_SECRET_ID":              a.DPoPNonceSecretID,
		"AWS_ENDPOINT_URL":                  endpoint,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint,
	}
	// Only the functions template.yaml gives it (discovery, key rotation): with it, a
	// function serves the JWKS from the public key set.
	if _, ok := a.Template.Functions[a.Template.LogicalIDs[dir]].Env["PUBLIC_KEYS_SECRET_ID"]; ok {
		supplied["PUBLIC_KEYS_SECRET_ID"] = a.PublicKeysSecretID
	}
	// Only the authorize function: the identity providers' secrets of this stack.
	if _, ok := a.Template.Functions[a.Template.LogicalIDs[dir]].Env["IDP_SECRET_PREFIX"]; ok {
		supplied["IDP_SECRET_PREFIX"] = a.IDPSecretPrefix
	}
	fn, err := a.Template.Function(dir, supplied)
	for name, v := range a.Overrides {
		if _, ok := fn.Env[name]; ok {
			fn.Env[name] = v
		}
	}
	return fn, err
}

// Function is a function started by [AWS.Start]: the running bootstrap and the
// endpoint recording its AWS calls.
type Function struct {
	*lambdaemu.Runtime
	AWS *Endpoint
}

// Start runs bootstrap, the build of functions/<dir>, under the local Runtime API as
// [AWS.Function] configures it, with its own recording endpoint. logs (may be nil)
// receives its output. Close the Function when done.
func (a *AWS) Start(ctx context.Context, dir, bootstrap string, logs io.Writer) (*Function, error) {
	ep, err := a.NewEndpoint()
	if err != nil {
		return nil, err
	}
	fn, err := a.Function(dir, ep.URL)
	if err != nil {
		_ = ep.srv.Close()
		return nil, err
	}
	fn.Bootstrap, fn.Logs = bootstrap, logs
	rt, err := lambdaemu.Start(ctx, fn)
	if err != nil {
		_ = ep.srv.Close()
		return nil, err
	}
	return &Function{Runtime: rt, AWS: ep}, nil
}

// Close stops the function and its endpoint.
func (f *Function) Close() error {
	err := f.Runtime.Close()
	_ = f.AWS.srv.Close()
	return err
}

// Close stops the endpoints and the moto_server StartAWS started.
func (a *AWS) Close() {
	a.mu.Lock()
	eps := a.endpoints
	a.endpoints = nil
	a.mu.Unlock()
	for _, ep := range eps {
		_ = ep.srv.Close()
	}
	if a.moto != nil {
		a.moto.Stop()
		a.moto = nil
	}
}

// Call is one request a function made to AWS.
type Call struct {
	// Operation is the X-Amz-Target (e.g. DynamoDB_20120810.GetItem,
	// secretsmanager.GetSecretValue), or the method and path of anything else.
	Operation string
	At        time.Time
	// Access is what the call asks IAM for, for the DynamoDB and Secrets Manager
	// calls (from the request body); empty for anything else.
	Access []Access
}

// Access is one authorization a call needs: the IAM action, the resource and, for
// DynamoDB, the partition key values of the items it touches (what IAM compares with
// dynamodb:LeadingKeys). A TransactWriteItems needs one Access per item, with the
// action of that item (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), as IAM
// authorizes it.
type Access struct {
	Action string
	// Table is the DynamoDB table's name and Index the index a Query reads (if any);
	// SecretID is the Secrets Manager secret's id.
	Table, Index, SecretID string
	Keys                   []string
}

// Endpoint is a proxy to moto_server for one function that records its calls.
type Endpoint struct {
	URL   string
	srv   *http.Server
	mu    sync.Mutex
	calls []Call
}

// NewEndpoint starts a recording proxy to moto_server on a free 127.0.0.1 port.
func (a *AWS) NewEndpoint() (*Endpoint, error) {
	target, err := url.Parse(a.MotoEndpoint)
	if err != nil {
		return nil, fmt.Errorf("moto endpoint: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	ep := &Endpoint{URL: "http://" + ln.Addr().String()}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	ep.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			op := r.Header.Get("X-Amz-Target")
			if op == "" {
				op = r.Method + " " + r.URL.Path
			}
			call := Call{Operation: op, At: time.Now()}
			if r.Body != nil {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
				call.Access = accessOf(op, body)
			}
			ep.mu.Lock()
			ep.calls = append(ep.calls, call)
			ep.mu.Unlock()
			proxy.ServeHTTP(w, r)
		}),
	}
	go func() { _ = ep.srv.Serve(ln) }()
	a.mu.Lock()
	a.endpoints = append(a.endpoints, ep)
	a.mu.Unlock()
	return ep, nil
}

// Calls returns the calls so far, in order.
func (e *Endpoint) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// Operations returns the operations of the calls so far, in order.
func (e *Endpoint) Operations() []string {
	var ops []string
	for _, c := range e.Calls() {
		ops = append(ops, c.Operation)
	}
	return ops
}
