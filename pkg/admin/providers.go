package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

// The upstream identity providers of brokered logins (issue 13; docs/design.md
// decision 36): `pargate idp add|list|update|disable|enable|remove`. The table item
// holds every field but the provider's client secret or private key, which go to
// their own Secrets Manager secret under the stack's prefix (--idp-secret-prefix,
// $IDP_SECRET_PREFIX: the stack's IdentityProviderSecretPrefix output). A secret
// is read from a file, stdin or the terminal, never from an argument, and never
// printed. Writes put the secret first, then the item; remove deletes the item, then
// the secret.

// Environment variables of the providers' secrets.
const (
	// EnvIDPSecretPrefix is the prefix of the providers' secrets (the authorize
	// function's IDP_SECRET_PREFIX).
	EnvIDPSecretPrefix = "IDP_SECRET_PREFIX"
	// EnvKmsKey is the customer managed key new secrets are encrypted with (the
	// stack's KmsKeyArn output, KmsKey); empty is the AWS managed key.
	EnvKmsKey = "KMS_KEY_ARN"
	// EnvReplicaRegions are the Regions new secrets get a replica in (the stack's
	// ReplicaRegions parameter without the witness): "eu-west-1,eu-central-1".
	EnvReplicaRegions = "REPLICA_REGIONS"
)

// maxProviderSecretInput bounds a secret read from stdin or a file.
const maxProviderSecretInput = 16 << 10

// providerView is a provider as the CLI prints it: never a secret, and where the
// secret is.
type providerView struct {
	oauth.IdentityProvider
	SecretID string `json:"secret_id,omitempty"`
}

func viewProvider(p *oauth.IdentityProvider) providerView {
	v := providerView{IdentityProvider: *p, SecretID: p.SecretID}
	v.ClientSecret, v.PrivateKey = "", ""
	return v
}

// providerFlags are the flags of every field of a provider; update changes only
// those given.
type providerFlags struct {
	displayName, issuer, clientID, method, scope string
	claims                                       claimFlags
	clearClaims, trustEmail, enabled             bool
	secretFile                                   string
	newSecret                                    bool
}

func (f *providerFlags) register(fs *flag.FlagSet, update bool) {
	fs.StringVar(&f.displayName, "display-name", "", "the login page's button says \"Continue with `NAME`\" (default: the id)")
	fs.StringVar(&f.issuer, "issuer", "", "the upstream's issuer `URL` (https; http only on loopback), its discovery at ISSUER/.well-known/openid-configuration")
	fs.StringVar(&f.clientID, "client-id", "", "pargate's client `id` at the upstream")
	fs.StringVar(&f.method, "token-endpoint-auth-method", "", "client_secret_basic (the default), client_secret_post or private_key_jwt")
	fs.StringVar(&f.scope, "scope", "", "`scopes` asked of the upstream (default \"openid email profile\")")
	fs.Var(&f.claims, "claim", "map an upstream claim to a local one, `upstream=local`; repeat for more"+map[bool]string{true: " (replaces the mapping)", false: ""}[update])
	fs.BoolVar(&f.trustEmail, "trust-email", false, "link a first login to the local user of the same email, when the upstream says email_verified")
	fs.BoolVar(&f.enabled, "enabled", true, "offer the provider on the login page")
	fs.StringVar(&f.secretFile, "secret-file", "", "`file` with the client secret (its first line) or, for private_key_jwt, the private JWK; - for stdin")
	if update {
		fs.BoolVar(&f.clearClaims, "clear-claims", false, "remove the claim mapping")
		fs.BoolVar(&f.newSecret, "new-secret", false, "replace the secret: read it from the terminal or stdin (or give --secret-file)")
	}
}

// apply sets on p the fields whose flags fs saw; all of them for a new provider.
func (f *providerFlags) apply(fs *flag.FlagSet, p *oauth.IdentityProvider, all bool) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	given := func(name string) bool { return all || set[name] }
	if given("display-name") {
		p.DisplayName = f.displayName
	}
	if given("issuer") {
		p.Issuer = f.issuer
	}
	if given("client-id") {
		p.ClientID = f.clientID
	}
	if given("token-endpoint-auth-method") {
		p.TokenEndpointAuthMethod = f.method
	}
	if given("scope") {
		p.Scope = f.scope
	}
	if f.clearClaims {
		p.Claims = nil
	}
	if set["claim"] {
		p.Claims = map[string]string(f.claims)
	}
	if given("trust-email") {
		p.TrustEmail = f.trustEmail
	}
	if given("enabled") {
		p.Enabled = f.enabled
	}
}

// claimFlags collects --claim upstream=local.
type claimFlags map[string]string

func (c *claimFlags) String() string { return "" }

func (c *claimFlags) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want upstream=local, got %q", v)
	}
	if *c == nil {
		*c = map[string]string{}
	}
	(*c)[from] = to
	return nil
}

// checkProvider is what a provider must be before its secret is asked for: the
// domain's checks (oauth.CheckProviderSettings, which the seed's entries get too),
// with the flags named when a required one is missing. The whole provider, secret
// included, is checked by oauth.CheckIdentityProvider once the secret is read.
func checkProvider(p *oauth.IdentityProvider) error {
	switch {
	case p.Issuer == "":
		return errors.New("--issuer is required")
	case p.ClientID == "":
		return errors.New("--client-id is required")
	}
	if err := oauth.CheckProviderSettings(p); err != nil {
		return fmt.Errorf("identity provider %s: %w", p.ID, err)
	}
	return nil
}

// usesKey reports whether the provider authenticates with a private key.
func usesKey(p *oauth.IdentityProvider) bool {
	return p.TokenEndpointAuthMethod == oauth.AuthPrivateKeyJWT
}

// readProviderSecret reads p's client secret or private key from path ("-":
// stdin), or, without a path, from the terminal (a client secret) or stdin.
func (e *env) readProviderSecret(p *oauth.IdentityProvider, path string) error {
	var data []byte
	switch {
	case path != "":
		var err error
		if data, err = e.readInput(path); err != nil {
			return err
		}
	case e.cli.Prompt != nil && !usesKey(p):
		s, err := e.cli.Prompt("Client secret at " + p.Issuer + ": ")
		if err != nil {
			return fmt.Errorf("read client secret: %w", err)
		}
		data = []byte(s)
	case e.cli.Prompt != nil:
		return usagef("a private_key_jwt provider's private JWK comes from a file: give --secret-file")
	default:
		var err error
		if data, err = io.ReadAll(io.LimitReader(e.cli.Stdin, maxProviderSecretInput+1)); err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	if len(data) > maxProviderSecretInput {
		return fmt.Errorf("the secret is larger than %d bytes", maxProviderSecretInput)
	}
	p.ClientSecret, p.PrivateKey = "", ""
	if usesKey(p) {
		p.PrivateKey = strings.TrimSpace(string(data))
		if p.PrivateKey == "" {
			return errors.New("no private key: give the private JWK in --secret-file or on stdin")
		}
		return nil
	}
	line, _, _ := strings.Cut(string(data), "\n")
	p.ClientSecret = strings.TrimSuffix(line, "\r")
	if p.ClientSecret == "" || strings.TrimSpace(p.ClientSecret) != p.ClientSecret {
		return errors.New("no client secret (or one with white space around it): give it at the prompt, as the first line of stdin or of --secret-file")
	}
	return nil
}

// providerSecretOptions are the key and the replica Regions of new provider secrets.
func (e *env) providerSecretOptions() secrets.ProviderSecretOptions {
	o := secrets.ProviderSecretOptions{KmsKeyID: e.settings.KmsKey}
	for r := range strings.SplitSeq(e.settings.ReplicaRegions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.ReplicaRegions = append(o.ReplicaRegions, r)
		}
	}
	return o
}

// writeProvider writes p's secret (when it carries one), then its item with write.
func (e *env) writeProvider(ctx context.Context, p *oauth.IdentityProvider, write func(context.Context, *oauth.IdentityProvider) error) error {
	item := *p
	if p.ClientSecret != "" || p.PrivateKey != "" {
		value, err := secrets.ProviderSecretValue(p)
		if err != nil {
			return err
		}
		name := secrets.ProviderSecretName(e.settings.IDPSecretPrefix, p.ID)
		if err := secrets.WriteProviderSecret(ctx, e.providerSecrets, name, p.ID, value, e.providerSecretOptions()); err != nil {
			return err
		}
		item.SecretID = name
	}
	item.ClientSecret, item.PrivateKey = "", ""
	if err := write(ctx, &item); err != nil {
		return err
	}
	*p = item
	return nil
}

func (e *env) idpAdd(ctx context.Context, id string, f *providerFlags, fs *flag.FlagSet) error {
	p := &oauth.IdentityProvider{ID: id}
	f.apply(fs, p, true)
	if err := checkProvider(p); err != nil {
		return err
	}
	// Refuse a taken id before asking for the secret; the create still checks.
	if _, err := e.store.GetIdentityProvider(ctx, id); err == nil {
		return fmt.Errorf("identity provider %q already exists (use idp update to change it)", id)
	} else if !errors.Is(err, oauth.ErrNotFound) {
		return err
	}
	if err := e.readProviderSecret(p, f.secretFile); err != nil {
		return err
	}
	if err := oauth.CheckIdentityProvider(p); err != nil {
		return fmt.Errorf("identity provider %s: %w", p.ID, err)
	}
	if err := e.writeProvider(ctx, p, e.store.CreateIdentityProvider); err != nil {
		if errors.Is(err, oauth.ErrConflict) {
			return fmt.Errorf("identity provider %q already exists (use idp update to change it)", id)
		}
		return err
	}
	if err := e.print(viewProvider(p)); err != nil {
		return err
	}
	e.note("Added identity provider %q; its secret is in %s. Register %s at the upstream as the redirect URI: ISSUER/federation/callback.", id, p.SecretID, p.ClientID)
	return nil
}

func (e *env) idpList(ctx context.Context) error {
	list, err := e.store.ListIdentityProviders(ctx)
	if err != nil {
		return err
	}
	out := make([]providerView, 0, len(list))
	for _, p := range list {
		out = append(out, viewProvider(p))
	}
	return e.print(out)
}

func (e *env) idpUpdate(ctx context.Context, id string, f *providerFlags, fs *flag.FlagSet) error {
	old, err := e.store.GetIdentityProvider(ctx, id)
	if err != nil {
		return notFound(err, "identity provider", id)
	}
	p := *old
	f.apply(fs, &p, false)
	if err := checkProvider(&p); err != nil {
		return err
	}
	// A change between a client secret and a private key needs the new one.
	if f.newSecret || f.secretFile != "" || usesKey(&p) != usesKey(old) {
		if err := e.readProviderSecret(&p, f.secretFile); err != nil {
			return err
		}
		if err := oauth.CheckIdentityProvider(&p); err != nil {
			return fmt.Errorf("identity provider %s: %w", p.ID, err)
		}
	}
	if err := e.writeProvider(ctx, &p, e.store.ReplaceIdentityProvider); err != nil {
		return notFound(err, "identity provider", id)
	}
	if err := e.print(viewProvider(&p)); err != nil {
		return err
	}
	e.note("Updated identity provider %q; the functions use the change within %s.", id, providerTTL)
	return nil
}

// providerTTL is awsapp.IdentityProviderTTL, as the operator reads it (pkg/admin
// links no Lambda wiring).
const providerTTL = "30 seconds"

func (e *env) idpSetEnabled(ctx context.Context, id string, enabled bool) error {
	p, err := e.store.SetIdentityProviderEnabled(ctx, id, enabled)
	if err != nil {
		return notFound(err, "identity provider", id)
	}
	if err := e.print(viewProvider(p)); err != nil {
		return err
	}
	if enabled {
		e.note("Enabled identity provider %q; the login pages offer it within %s.", id, providerTTL)
	} else {
		e.note("Disabled identity provider %q; within %s no login starts or finishes through it.", id, providerTTL)
	}
	return nil
}

// idpRemove deletes the item, then the secret - only the provider's own secret
// under the prefix, whatever the item names.
func (e *env) idpRemove(ctx context.Context, id string) error {
	p, err := e.store.GetIdentityProvider(ctx, id)
	if err != nil {
		return notFound(err, "identity provider", id)
	}
	if err := e.store.DeleteIdentityProvider(ctx, id); err != nil {
		return notFound(err, "identity provider", id)
	}
	name := secrets.ProviderSecretName(e.settings.IDPSecretPrefix, id)
	if err := secrets.DeleteProviderSecret(ctx, e.providerSecrets, name); err != nil {
		return fmt.Errorf("removed identity provider %q, but not its secret: %w", id, err)
	}
	if p.SecretID != "" && p.SecretID != name {
		e.note("The item named secret %q, not %q; that one was left alone.", p.SecretID, name)
	}
	e.note("Removed identity provider %q and its secret %s.", id, name)
	return e.print(map[string]any{"id": id, "removed": true})
}

// idpCommands are the idp group of the command table.
func idpCommands() []*command {
	adder := func(update bool) func(fs *flag.FlagSet) action {
		return func(fs *flag.FlagSet) action {
			f := &providerFlags{}
			f.register(fs, update)
			return func(ctx context.Context, e *env, args []string) error {
				if update {
					return e.idpUpdate(ctx, args[0], f, fs)
				}
				return e.idpAdd(ctx, args[0], f, fs)
			}
		}
	}
	return []*command{
		{name: "idp add", args: "ID --issuer URL --client-id ID [flags]", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable | needProviderSecrets,
			summary: "add an upstream OpenID Provider users may sign in with; its client secret (prompted for,\n" +
				"or the first line of stdin or --secret-file) or private JWK (--secret-file) goes to Secrets Manager",
			flags: adder(false)},
		{name: "idp list", needs: needTable,
			summary: "list the upstream identity providers (never their secrets)",
			flags:   noFlags(func(ctx context.Context, e *env, _ []string) error { return e.idpList(ctx) })},
		{name: "idp update", args: "ID [flags]", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable | needProviderSecrets,
			summary: "change the fields whose flags are given; the secret stays unless --new-secret or --secret-file",
			flags:   adder(true)},
		{name: "idp disable", args: "ID", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "stop offering the provider and refuse its logins (within 30 seconds)", flags: one(func(e *env, ctx context.Context, id string) error {
				return e.idpSetEnabled(ctx, id, false)
			})},
		{name: "idp enable", args: "ID", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable,
			summary: "offer a disabled provider again", flags: one(func(e *env, ctx context.Context, id string) error {
				return e.idpSetEnabled(ctx, id, true)
			})},
		{name: "idp remove", args: "ID", pos: "ID", minArgs: 1, maxArgs: 1, needs: needTable | needProviderSecrets,
			summary: "delete the provider and its secret (accounts linked through it can no longer sign in by it)",
			flags:   one((*env).idpRemove)},
	}
}
