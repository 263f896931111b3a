package admin

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// action runs a command with its positional arguments; its flags are bound already.
type action func(ctx context.Context, e *env, args []string) error

type command struct {
	name             string // "client create"
	args             string // arguments and flags, for the usage line
	pos              string // the positional arguments alone, for errors
	minArgs, maxArgs int
	summary          string
	needs            int
	// flags registers the command's own flags and returns the action bound to them.
	flags func(fs *flag.FlagSet) action
}

func (c *command) argsWord() string {
	switch {
	case c.maxArgs == 0:
		return "no arguments"
	default:
		return "one argument, " + c.pos
	}
}

func noFlags(a action) func(*flag.FlagSet) action {
	return func(*flag.FlagSet) action { return a }
}

// one adapts a method expression of env that takes the one positional argument.
func one(f func(e *env, ctx context.Context, arg string) error) func(*flag.FlagSet) action {
	return noFlags(func(ctx context.Context, e *env, args []string) error { return f(e, ctx, args[0]) })
}

// commands is the command table: the usage text and the dispatch come from it.
func commands() []*command {
	return append(baseCommands(), idpCommands()...)
}

func baseCommands() []*command {
	return []*command{
		{
			name: "client create", args: "--file meta.json", needs: needTable,
			summary: "register a client from RFC 7591 metadata (the seed file's format, without client_secret);\n" +
				"a client_secret_basic/post client gets a generated secret, printed once",
			flags: func(fs *flag.FlagSet) action {
				file := fs.String("file", "", "client metadata `file` (JSON object), or - for stdin")
				return func(ctx context.Context, e *env, _ []string) error {
					if *file == "" {
						return usagef("client create needs --file")
					}
					return e.clientCreate(ctx, *file)
				}
			},
		},
		{name: "client get", args: "ID", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "show a client's metadata", flags: one((*env).clientGet)},
		{name: "client list", needs: needTable,
			summary: "list every client", flags: noFlags(func(ctx context.Context, e *env, _ []string) error { return e.clientList(ctx) })},
		{
			name: "client update", args: "ID --file meta.json [--rotate-secret]", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "replace a client's metadata; the secret stays unless --rotate-secret\n" +
				"(a new secret is printed once)",
			flags: func(fs *flag.FlagSet) action {
				file := fs.String("file", "", "client metadata `file` (JSON object), or - for stdin")
				rotate := fs.Bool("rotate-secret", false, "generate a new client secret; the old one stops working at once")
				return func(ctx context.Context, e *env, args []string) error {
					if *file == "" {
						return usagef("client update needs --file")
					}
					return e.clientUpdate(ctx, args[0], *file, *rotate)
				}
			},
		},
		{name: "client delete", args: "ID", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "delete a client", flags: one((*env).clientDelete)},

		{
			name: "user create", args: "USERNAME [--claims claims.json]", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "create a user; the password is prompted for, or read from the first line of stdin",
			flags: func(fs *flag.FlagSet) action {
				claims := fs.String("claims", "", "the user's claims: a `file` with a JSON object (name, email, sub, …)")
				return func(ctx context.Context, e *env, args []string) error {
					return e.userCreate(ctx, args[0], *claims)
				}
			},
		},
		{name: "user get", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "show a user (never the password hash)", flags: one((*env).userGet)},
		{name: "user list", needs: needTable,
			summary: "list every user", flags: noFlags(func(ctx context.Context, e *env, _ []string) error { return e.userList(ctx) })},
		{name: "user set-password", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "set a user's password (prompted for, or the first line of stdin)", flags: one((*env).userSetPassword)},
		{name: "user disable", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "refuse the user's new logins and cut off its grants", flags: one(func(e *env, ctx context.Context, name string) error {
				return e.userSetDisabled(ctx, name, true)
			})},
		{name: "user enable", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "allow a disabled user's logins again", flags: one(func(e *env, ctx context.Context, name string) error {
				return e.userSetDisabled(ctx, name, false)
			})},
		{name: "user delete", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "delete a user", flags: one((*env).userDelete)},
		{name: "user revoke-grants", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "revoke every live grant of the user (their refresh and access tokens stop working)",
			flags:   one((*env).userRevokeGrants)},
		{name: "grants list", args: "USERNAME", pos: "USERNAME", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "list the user's grants, revoked and expired ones included (never their claims)",
			flags:   one((*env).grantList)},
		{name: "grants revoke", args: "GRANT_ID", pos: "GRANT_ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "revoke one grant", flags: one((*env).grantRevoke)},

		{name: "import", args: "seed.json", pos: "the seed file", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "write a seed file's clients and users, replacing those with the same ids;\n" +
				"the demo seed's published client secret and password are refused without --allow-demo",
			flags: func(fs *flag.FlagSet) action {
				allowDemo := fs.Bool("allow-demo", false, "import the demo seed's published credentials (local or throwaway tables only)")
				return func(ctx context.Context, e *env, args []string) error {
					return e.importSeed(ctx, args[0], *allowDemo)
				}
			}},

		{
			name: "keys rotate", args: "[--in-process] [--alg ALG] [--wait 2m]", needs: needKeys,
			summary: "rotate the signing keys now: through the secret's rotation function when it has one,\n" +
				"else (or with --in-process) by running the same four rotation steps here",
			flags: func(fs *flag.FlagSet) action {
				var o rotateOptions
				fs.BoolVar(&o.InProcess, "in-process", false, "run the rotation steps here even when the secret has a rotation function")
				fs.StringVar(&o.Alg, "alg", "", "`algorithm` of the new key, in-process only: RS256, PS256 or ES256\n(default $"+EnvKeyAlg+", else that of the newest key, else RS256)")
				fs.DurationVar(&o.Wait, "wait", 2*time.Minute, "how long to wait for the rotation function to finish; 0: do not wait")
				return func(ctx context.Context, e *env, _ []string) error {
					o.EnvAlg = e.cli.Getenv(EnvKeyAlg)
					return e.keysRotate(ctx, o)
				}
			},
		},
		{name: "keys revoke", args: "KID", pos: "KID", minArgs: 1, maxArgs: 1, needs: needKeys,
			summary: "remove a compromised signing key from the key set at once (the incident procedure:\n" +
				"tokens it signed stop verifying; if it was active, the published successor signs)",
			flags: one(func(e *env, ctx context.Context, kid string) error {
				return e.keysRevoke(ctx, kid, e.cli.Getenv(EnvKeyAlg))
			})},
		{name: "keys show", needs: needKeys,
			summary: "print the public JWKS of the current key set (what /jwks serves)",
			flags:   noFlags(func(ctx context.Context, e *env, _ []string) error { return e.keysShow(ctx) })},
	}
}

// lookup finds the command that rest starts with and how many words its name has.
func lookup(rest []string) (*command, int) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == c.name {
			return c, len(words)
		}
	}
	return nil, 0
}

// groupOf returns word if it is the first word of multi-word commands.
func groupOf(word string) string {
	for _, c := range commands() {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == word {
			return g
		}
	}
	return ""
}

const globalUsage = `Global flags (before or after the command):
  --table NAME        DynamoDB table                      (default $TABLE_NAME)
  --keys-secret ID    signing keys secret, name or ARN    (default $KEYS_SECRET_ID)
  --region REGION     AWS region                          (default $AWS_REGION, shared config)
  --endpoint URL      AWS endpoint, e.g. a moto_server    (default $AWS_ENDPOINT_URL)
  --idp-secret-prefix PREFIX
                      identity providers' secrets, the stack's IdentityProviderSecretPrefix
                      output                              (default $IDP_SECRET_PREFIX)
  --kms-key ARN       key of new identity provider secrets (default $KMS_KEY_ARN)
  --replica-regions R1,R2
                      replicas of new identity provider secrets (default $REPLICA_REGIONS)
Credentials come from the AWS SDK's default chain (environment, profile, role).
Output is JSON on stdout, messages go to stderr. Exit status: 0 ok, 1 failed, 2 usage.
`

func (c *CLI) usage() {
	w := c.Stderr
	fmt.Fprintln(w, "pargate: the operator's command line for a pargate deployment")
	fmt.Fprintln(w, "\nUsage: pargate [global flags] <command> [flags] [arguments]")
	fmt.Fprintln(w, "\nCommands:")
	writeCommands(w, "")
	fmt.Fprintln(w)
	fmt.Fprint(w, globalUsage)
}

func (c *CLI) groupUsage(group string) {
	fmt.Fprintf(c.Stderr, "Usage: pargate [global flags] %s <command> [flags] [arguments]\n\nCommands:\n", group)
	writeCommands(c.Stderr, group+" ")
	fmt.Fprintln(c.Stderr)
	fmt.Fprint(c.Stderr, globalUsage)
}

func writeCommands(w io.Writer, prefix string) {
	for _, cmd := range commands() {
		if !strings.HasPrefix(cmd.name, prefix) {
			continue
		}
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(cmd.name+" "+cmd.args))
		for line := range strings.SplitSeq(cmd.summary, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
}

// commandUsage prints a command's usage with its own flags; the global flags are
// in the general usage.
func (c *CLI) commandUsage(cmd *command) {
	fmt.Fprintf(c.Stderr, "Usage: pargate [global flags] %s\n", strings.TrimSpace(cmd.name+" "+cmd.args))
	for line := range strings.SplitSeq(cmd.summary, "\n") {
		fmt.Fprintf(c.Stderr, "  %s\n", line)
	}
	own := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(own)
	n := 0
	own.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(c.Stderr, "\nFlags:")
		own.SetOutput(c.Stderr)
		own.PrintDefaults()
	}
	fmt.Fprintln(c.Stderr, "\nGlobal flags: --table, --keys-secret, --region, --endpoint, --idp-secret-prefix, --kms-key, --replica-regions (see pargate help).")
}
