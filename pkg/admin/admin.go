// Package admin is the operator's command line (cmd/pargate): it registers clients
// and users in the table the functions read, imports seed files, and rotates and shows
// the signing keys in their Secrets Manager secret, through the same stores, seed
// validation and rotation steps the server uses. It prints results as JSON on stdout
// and messages on stderr, and exits 0 on success, 1 when an operation fails and 2 on
// a usage error.
//
// Secrets: a client secret is generated here (256 bits from crypto/rand), printed
// once and stored only as its SHA-256; user passwords are read from the terminal or
// stdin, never from arguments, and stored as argon2id. Nothing else secret is ever
// printed: client and user output leaves out the stored hashes, and keys show prints
// only the public JWKS.
package admin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// Environment variables read when the matching flag is not given. AWS_REGION and
// AWS_ENDPOINT_URL are the SDK's own names; TABLE_NAME and KEYS_SECRET_ID are the
// functions' (template.yaml), so a shell with the functions' environment works as is.
const (
	EnvTable      = "TABLE_NAME"
	EnvKeysSecret = "KEYS_SECRET_ID"
	EnvRegion     = "AWS_REGION"
	EnvEndpoint   = "AWS_ENDPOINT_URL"
	EnvKeyAlg     = "KEY_ALG"
	// EnvPublicKeysSecret is the discovery function's public key set
	// (template.yaml PublicKeysSecret).
	EnvPublicKeysSecret = "PUBLIC_KEYS_SECRET_ID"
)

// TagPublicKeysSecret is the tag of the signing-key secret that names the public key
// set's secret (template.yaml KeysSecret): keys revoke and an in-process keys rotate
// publish to it when --public-keys-secret is not given, so an operator cannot leave
// discovery serving a revoked key by forgetting a flag.
const TagPublicKeysSecret = "pargate:public-keys-secret"

// Settings say where the table and the secret are.
type Settings struct {
	Table      string
	KeysSecret string
	// PublicKeysSecret is the secret of the public JWK Set discovery serves; empty
	// means the keys secret's TagPublicKeysSecret tag, if it has one.
	PublicKeysSecret string
	Region           string
	// Endpoint overrides the AWS endpoint of every service, e.g. a local moto_server.
	Endpoint string
	// IDPSecretPrefix is the prefix of the upstream identity providers' secrets
	// (template.yaml IDP_SECRET_PREFIX, "pargate/<stack>/idp/").
	IDPSecretPrefix string
	// KmsKey encrypts the providers' new secrets (the stack's KmsKey); empty is the
	// AWS managed key.
	KmsKey string
	// ReplicaRegions get a replica of each new provider secret (comma-separated).
	ReplicaRegions string
}

// CLI is one run of the command line, with its streams and environment.
type CLI struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Prompt reads a password from the terminal without echoing it. Nil means stdin
	// is not a terminal: a password is then the first line of Stdin.
	Prompt func(prompt string) (string, error)
	// AWSConfig loads the AWS configuration; nil means LoadAWSConfig.
	AWSConfig func(ctx context.Context, s Settings) (aws.Config, error)
	// Now is the clock keys rotate records publication times with and checks the
	// successor's age against (keys.MinPublished); nil means time.Now.
	Now func() time.Time
}

// LoadAWSConfig is the SDK's default configuration (environment, shared config and
// credentials files, the instance or task role) with the region and endpoint of s
// when they are set. With an endpoint but no region anywhere it uses us-east-1: a
// local emulator accepts any.
func LoadAWSConfig(ctx context.Context, s Settings) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, awsconfig.WithRegion(s.Region))
	}
	if s.Endpoint != "" {
		opts = append(opts, awsconfig.WithBaseEndpoint(s.Endpoint))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
	}
	if cfg.Region == "" {
		if s.Endpoint == "" {
			return aws.Config{}, usagef("no AWS region: set --region or %s", EnvRegion)
		}
		cfg.Region = "us-east-1"
	}
	return cfg, nil
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Run runs the command line args (without the program name) and returns the exit code.
func (c *CLI) Run(ctx context.Context, args []string) int {
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.AWSConfig == nil {
		c.AWSConfig = LoadAWSConfig
	}
	err := c.run(ctx, args)
	var usage *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &usage):
		fmt.Fprintf(c.Stderr, "pargate: %v\nRun 'pargate help' for the commands.\n", err)
		return ExitUsage
	default:
		fmt.Fprintf(c.Stderr, "pargate: %v\n", err)
		return ExitError
	}
}

func (c *CLI) run(ctx context.Context, args []string) error {
	var g globals
	root := flag.NewFlagSet("pargate", flag.ContinueOnError)
	root.SetOutput(io.Discard)
	g.register(root)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage()
		}
		return flagError(err)
	}
	rest := root.Args()
	if len(rest) == 0 {
		c.usage()
		return usagef("no command")
	}
	if rest[0] == "help" {
		c.usage()
		return nil
	}
	cmd, n := lookup(rest)
	if cmd == nil {
		if group := groupOf(rest[0]); group != "" && (len(rest) == 1 || rest[1] == "-h" || rest[1] == "--help" || rest[1] == "help") {
			c.groupUsage(group)
			if len(rest) == 1 {
				return usagef("%s needs a command", group)
			}
			return flag.ErrHelp
		}
		return usagef("unknown command %q", strings.Join(rest[:min(2, len(rest))], " "))
	}

	fs := flag.NewFlagSet("pargate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	action := cmd.flags(fs)
	pos, err := parseInterleaved(fs, rest[n:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.commandUsage(cmd)
		}
		return flagError(err)
	}
	if len(pos) < cmd.minArgs || len(pos) > cmd.maxArgs {
		c.commandUsage(cmd)
		return usagef("%s takes %s", cmd.name, cmd.argsWord())
	}

	e := &env{cli: c, settings: g.settings(c.Getenv)}
	if err := e.connect(ctx, cmd.needs); err != nil {
		return err
	}
	err = action(ctx, e, pos)
	// DynamoDB's message names no table; a wrong --table or --region is the usual cause.
	var noTable *dynamodbtypes.ResourceNotFoundException
	if errors.As(err, &noTable) {
		return fmt.Errorf("%w\n(is there a table %q in region %s? check --table and --region)", err, e.settings.Table, e.region)
	}
	return err
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageError{msg: err.Error()}
}

// globals are the flags every command accepts, before or after the command name.
type globals struct {
	table, keysSecret, publicKeysSecret, region, endpoint stringFlag
	idpSecretPrefix, kmsKey, replicaRegions               stringFlag
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.Var(&g.table, "table", "DynamoDB table `name` (default $"+EnvTable+")")
	fs.Var(&g.keysSecret, "keys-secret", "Secrets Manager `secret` id or ARN of the signing keys (default $"+EnvKeysSecret+")")
	fs.Var(&g.publicKeysSecret, "public-keys-secret", "Secrets Manager `secret` of the public key set discovery serves, kept in step by keys revoke\nand in-process keys rotate (default $"+EnvPublicKeysSecret+", else the keys secret's "+TagPublicKeysSecret+" tag)")
	fs.Var(&g.region, "region", "AWS `region` (default $"+EnvRegion+" or the shared config)")
	fs.Var(&g.endpoint, "endpoint", "AWS endpoint `URL` for every service, e.g. a local moto_server (default $"+EnvEndpoint+")")
	fs.Var(&g.idpSecretPrefix, "idp-secret-prefix", "`prefix` of the identity providers' secrets, the stack's IdentityProviderSecretPrefix output (default $"+EnvIDPSecretPrefix+")")
	fs.Var(&g.replicaRegions, "replica-regions", "`regions`, comma-separated, where new identity provider secrets get a replica: the stack's ReplicaRegions\nwithout the witness (default $"+EnvReplicaRegions+")")
	fs.Var(&g.kmsKey, "kms-key", "customer managed `key` ARN new identity provider secrets are encrypted with, the stack's KmsKeyArn output (default $"+EnvKmsKey+")")
}

func (g *globals) settings(getenv func(string) string) Settings {
	pick := func(flag stringFlag, env string) string {
		if flag != "" {
			return string(flag)
		}
		return getenv(env)
	}
	return Settings{
		Table:            pick(g.table, EnvTable),
		KeysSecret:       pick(g.keysSecret, EnvKeysSecret),
		PublicKeysSecret: pick(g.publicKeysSecret, EnvPublicKeysSecret),
		Region:           pick(g.region, EnvRegion),
		Endpoint:         pick(g.endpoint, EnvEndpoint),
		IDPSecretPrefix:  pick(g.idpSecretPrefix, EnvIDPSecretPrefix),
		KmsKey:           pick(g.kmsKey, EnvKmsKey),
		ReplicaRegions:   pick(g.replicaRegions, EnvReplicaRegions),
	}
}

// stringFlag is a string flag that does not reset its variable when registered,
// so the globals can be registered on the root and on a command's flag set alike.
type stringFlag string

func (s *stringFlag) String() string { return string(*s) }

func (s *stringFlag) Set(v string) error {
	*s = stringFlag(v)
	return nil
}

// parseInterleaved parses flags wherever they are among args (the flag package stops
// at the first positional argument) and returns the positional arguments in order.
// "--" ends the flags. A key id that starts with "-" (a base64url RFC 7638
// thumbprint does so one time in 64) is positional, not an unknown flag, so that
// `keys revoke -Xy…` works in an incident without knowing about "--".
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if isDashKeyID(fs, a) && !takesValue(fs, args[:i]) {
			before, err := parseInterleaved(fs, append(slices.Clone(args[:i]), "--"))
			if err != nil {
				return nil, err
			}
			after, err := parseInterleaved(fs, args[i+1:])
			if err != nil {
				return nil, err
			}
			return append(append(before, a), after...), nil
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// isDashKeyID reports whether a is a key id starting with "-" rather than a flag:
// 43 base64url characters (a SHA-256 thumbprint, keys.Set's kids) that name no flag.
func isDashKeyID(fs *flag.FlagSet, a string) bool {
	if len(a) != 43 || a[0] != '-' || fs.Lookup(strings.TrimLeft(a, "-")) != nil {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(a)
	return err == nil
}

// takesValue reports whether the last of args is a flag waiting for its value
// ("--keys-secret" without "="), which the next argument then is, whatever it looks like.
func takesValue(fs *flag.FlagSet, args []string) bool {
	if len(args) == 0 {
		return false
	}
	last := args[len(args)-1]
	name, ok := strings.CutPrefix(strings.TrimPrefix(last, "-"), "-")
	if !ok {
		name = strings.TrimPrefix(last, "-")
	}
	if !strings.HasPrefix(last, "-") || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, isBool := f.Value.(interface{ IsBoolFlag() bool })
	return !isBool || !b.IsBoolFlag()
}

// What a command needs connected.
const (
	needTable = 1 << iota
	needKeys
	// needProviderSecrets: the identity providers' secrets (and their prefix).
	needProviderSecrets
)

// env is what a command runs with.
type env struct {
	cli      *CLI
	settings Settings
	store    Store
	secrets  SecretsAPI
	// providerSecrets writes and deletes the identity providers' secrets.
	providerSecrets secrets.ProviderSecretsAPI
	region          string // as configured, for messages
	awsCfg          aws.Config
}

// connect builds the AWS clients a command needs. Nothing is called yet: a wrong
// endpoint or missing credentials show up on the first request.
func (e *env) connect(ctx context.Context, needs int) error {
	if needs == 0 {
		return nil
	}
	if needs&needTable != 0 && e.settings.Table == "" {
		return usagef("no table: set --table or %s", EnvTable)
	}
	if needs&needKeys != 0 && e.settings.KeysSecret == "" {
		return usagef("no keys secret: set --keys-secret or %s", EnvKeysSecret)
	}
	if needs&needProviderSecrets != 0 && e.settings.IDPSecretPrefix == "" {
		return usagef("no identity provider secret prefix: set --idp-secret-prefix or %s (the stack's IdentityProviderSecretPrefix output)", EnvIDPSecretPrefix)
	}
	cfg, err := e.cli.AWSConfig(ctx, e.settings)
	if err != nil {
		return err
	}
	e.region = cfg.Region
	e.awsCfg = cfg
	if needs&needTable != 0 {
		e.store = dynamo.New(dynamodb.NewFromConfig(cfg), e.settings.Table)
	}
	if needs&needKeys != 0 {
		e.secrets = secretsmanager.NewFromConfig(cfg)
	}
	if needs&needProviderSecrets != 0 {
		e.providerSecrets = secretsmanager.NewFromConfig(cfg)
	}
	return nil
}

// print writes v to stdout as indented JSON.
func (e *env) print(v any) error {
	enc := json.NewEncoder(e.cli.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// note writes a message for the operator to stderr.
func (e *env) note(format string, args ...any) {
	fmt.Fprintf(e.cli.Stderr, format+"\n", args...)
}

// readInput reads a file, or stdin for "-".
func (e *env) readInput(path string) ([]byte, error) {
	if path == "-" {
		data, err := io.ReadAll(io.LimitReader(e.cli.Stdin, maxInput+1))
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		if len(data) > maxInput {
			return nil, fmt.Errorf("stdin is larger than %d bytes", maxInput)
		}
		return data, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read input: %w", err)
	}
	return data, nil
}

// maxInput bounds metadata read from stdin; a JWK set of a few keys is a few KiB.
const maxInput = 1 << 20

// notFound turns a store's ErrNotFound into a message naming what is missing.
func notFound(err error, kind, name string) error {
	if errors.Is(err, oauth.ErrNotFound) {
		return fmt.Errorf("%s %q not found", kind, name)
	}
	return err
}
