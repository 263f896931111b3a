package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// SecretBytes is the entropy of a generated client secret: 256 bits, which is what
// makes the fast SHA-256 hash safe (docs/design.md decision 7). Base64url without
// padding, it is 43 characters, seed.MinSecretLength.
const SecretBytes = 32

// GenerateSecret returns a new client secret: SecretBytes from crypto/rand,
// base64url without padding.
func GenerateSecret() string {
	b := make([]byte, SecretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientView is a client as the CLI prints it: its RFC 7591 metadata without the
// stored hash, and, once, the secret just generated with the RFC 7591 §3.2.1
// client_secret_expires_at (0: it does not expire).
type clientView struct {
	oauth.Client
	Secret          string `json:"client_secret,omitempty"`
	SecretExpiresAt *int   `json:"client_secret_expires_at,omitempty"`
}

func viewClient(c *oauth.Client, secret string) clientView {
	v := clientView{Client: *c}
	v.SecretHash = nil
	if secret != "" {
		never := 0
		v.Secret, v.SecretExpiresAt = secret, &never
	}
	return v
}

// hasSecret reports whether a client of this token_endpoint_auth_method has a
// client secret; empty is RFC 7591's default, client_secret_basic.
func hasSecret(method string) bool {
	switch method {
	case "", oauth.AuthClientSecretBasic, oauth.AuthClientSecretPost:
		return true
	}
	return false
}

// readMetadata reads and parses client metadata in the seed file's format. The
// secret is the server's to make, so neither client_secret nor a hash may be given.
func (e *env) readMetadata(path string) (*seed.Client, error) {
	data, err := e.readInput(path)
	if err != nil {
		return nil, err
	}
	c, err := seed.ParseClient(data)
	if err != nil {
		return nil, err
	}
	if c.Secret != "" {
		return nil, errors.New("invalid client metadata: client_secret must not be given: pargate generates it (256 bits) and prints it once")
	}
	if len(c.SecretHash) > 0 {
		return nil, errors.New("invalid client metadata: client_secret_sha256 is not client metadata")
	}
	return c, nil
}

func (e *env) clientCreate(ctx context.Context, path string) error {
	c, err := e.readMetadata(path)
	if err != nil {
		return err
	}
	var secret string
	if hasSecret(c.TokenEndpointAuthMethod) {
		secret = GenerateSecret()
		c.Secret = secret
	}
	// The seed's own validation: defaults, redirect URIs, keys, policy flags, and
	// the secret hashed into SecretHash.
	if err := c.Normalize(); err != nil {
		return fmt.Errorf("invalid client metadata: %w", err)
	}
	if err := e.store.CreateClient(ctx, &c.Client); err != nil {
		if errors.Is(err, oauth.ErrConflict) {
			return fmt.Errorf("client %q already exists (use client update to change it)", c.ID)
		}
		return err
	}
	if err := e.print(viewClient(&c.Client, secret)); err != nil {
		return err
	}
	e.note("Created client %q.", c.ID)
	if secret != "" {
		e.note("Its client_secret is shown only this once and stored only as a hash: give it to the client's owner now.")
	}
	return nil
}

func (e *env) clientGet(ctx context.Context, id string) error {
	c, err := e.store.GetClient(ctx, id)
	if err != nil {
		return notFound(err, "client", id)
	}
	return e.print(viewClient(c, ""))
}

func (e *env) clientList(ctx context.Context) error {
	clients, err := e.store.ListClients(ctx)
	if err != nil {
		return err
	}
	out := make([]clientView, 0, len(clients))
	for _, c := range clients {
		out = append(out, viewClient(c, ""))
	}
	return e.print(out)
}

// clientUpdate replaces the client's metadata. A client that has a secret keeps its
// hash unless rotate is set; one that gets a secret for the first time (it was
// public or used private_key_jwt) gets a generated one, printed once.
func (e *env) clientUpdate(ctx context.Context, id, path string, rotate bool) error {
	c, err := e.readMetadata(path)
	if err != nil {
		return err
	}
	switch c.ID {
	case "":
		c.ID = id
	case id:
	default:
		return fmt.Errorf("client_id %q in %s is not the client being updated, %q", c.ID, path, id)
	}
	old, err := e.store.GetClient(ctx, id)
	if err != nil {
		return notFound(err, "client", id)
	}

	var secret string
	keep := false
	switch {
	case !hasSecret(c.TokenEndpointAuthMethod) && rotate:
		return fmt.Errorf("--rotate-secret: a client with token_endpoint_auth_method %s has no client secret", c.TokenEndpointAuthMethod)
	case !hasSecret(c.TokenEndpointAuthMethod):
	case rotate || len(old.SecretHash) == 0:
		secret = GenerateSecret()
		c.Secret = secret
	default:
		// Validation wants a secret; the stored hash replaces this one's below.
		c.Secret = strings.Repeat("x", seed.MinSecretLength)
		keep = true
	}
	if err := c.Normalize(); err != nil {
		return fmt.Errorf("invalid client metadata: %w", err)
	}
	if keep {
		c.SecretHash = old.SecretHash
	}
	if err := e.store.ReplaceClient(ctx, &c.Client); err != nil {
		return notFound(err, "client", id)
	}
	if err := e.print(viewClient(&c.Client, secret)); err != nil {
		return err
	}
	switch {
	case secret != "" && len(old.SecretHash) > 0:
		e.note("Updated client %q with a new client_secret, shown only this once; the old one no longer works.", id)
	case secret != "":
		e.note("Updated client %q; it now has a client_secret, shown only this once.", id)
	default:
		e.note("Updated client %q.", id)
	}
	return nil
}

func (e *env) clientDelete(ctx context.Context, id string) error {
	if err := e.store.DeleteClient(ctx, id); err != nil {
		return notFound(err, "client", id)
	}
	e.note("Deleted client %q.", id)
	return e.print(map[string]any{"client_id": id, "deleted": true})
}
