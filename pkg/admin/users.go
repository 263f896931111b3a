package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pargate/pargate/pkg/oauth"
)

// Bounds of usernames and passwords. The maxima are what Service.Login accepts, so
// no user is created who could never sign in; the minimum password length is NIST
// SP 800-63B §3.1.1.2's for passwords a user chose.
const (
	MaxUsernameBytes  = oauth.MaxUsernameBytes
	MinPasswordLength = 8
	MaxPasswordBytes  = oauth.MaxPasswordBytes
)

// userView is a user as the CLI prints it: never the password hash.
type userView struct {
	Username string         `json:"username"`
	Sub      string         `json:"sub"`
	Claims   map[string]any `json:"claims,omitempty"`
	Disabled bool           `json:"disabled"`
}

func viewUser(u *oauth.User) userView {
	return userView{Username: u.Username, Sub: u.Subject(), Claims: u.Claims, Disabled: u.Disabled}
}

func checkUsername(name string) error {
	switch {
	case name == "":
		return errors.New("the username is empty")
	case len(name) > MaxUsernameBytes:
		return fmt.Errorf("the username is longer than %d bytes", MaxUsernameBytes)
	case !utf8.ValidString(name):
		return errors.New("the username is not valid UTF-8")
	case strings.TrimSpace(name) != name:
		return errors.New("the username starts or ends with white space")
	case strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("the username contains control characters")
	case oauth.ReservedUsername(name):
		// The key space of users created by brokered logins (issue 13).
		return fmt.Errorf("usernames starting with %q are reserved for users of identity providers", oauth.BrokeredUsernamePrefix)
	}
	return nil
}

func checkPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	case len(p) > MaxPasswordBytes:
		return fmt.Errorf("the password must not be longer than %d bytes", MaxPasswordBytes)
	}
	return nil
}

// readPassword reads a new password: twice from the terminal prompt, or once from
// the first line of stdin (without its line ending) when stdin is not a terminal.
// Passwords are never taken from arguments, where ps and shell history would see
// them.
func (e *env) readPassword() (string, error) {
	var password string
	if prompt := e.cli.Prompt; prompt != nil {
		p, err := prompt("New password: ")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		again, err := prompt("Repeat the password: ")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if p != again {
			return "", errors.New("the passwords do not match")
		}
		password = p
	} else {
		r := bufio.NewReader(io.LimitReader(e.cli.Stdin, MaxPasswordBytes+2))
		line, err := r.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		if !strings.HasSuffix(line, "\n") && len(line) > MaxPasswordBytes {
			return "", fmt.Errorf("the password must not be longer than %d bytes", MaxPasswordBytes)
		}
		password = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if password == "" {
			return "", errors.New("no password: type it at the prompt, or give it as the first line of stdin")
		}
	}
	if err := checkPassword(password); err != nil {
		return "", err
	}
	return password, nil
}

// readPasswordHash reads a new password as readPassword does and returns its hash,
// the only form in which it is stored.
func (e *env) readPasswordHash() (string, error) {
	password, err := e.readPassword()
	if err != nil {
		return "", err
	}
	return oauth.HashPassword(password)
}

// readClaims reads a JSON object of claims from a file.
func (e *env) readClaims(path string) (map[string]any, error) {
	data, err := e.readInput(path)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil {
		return nil, fmt.Errorf("claims in %s: %w", path, err)
	}
	if claims == nil {
		return nil, fmt.Errorf("claims in %s: want a JSON object", path)
	}
	return claims, nil
}

func (e *env) userCreate(ctx context.Context, username, claimsPath string) error {
	if err := checkUsername(username); err != nil {
		return err
	}
	var claims map[string]any
	if claimsPath != "" {
		if claimsPath == "-" {
			return usagef("--claims - would compete with the password for stdin: give a file")
		}
		var err error
		if claims, err = e.readClaims(claimsPath); err != nil {
			return err
		}
	}
	// Refuse a taken name before asking for a password; CreateUser still checks.
	if _, err := e.store.GetUser(ctx, username); err == nil {
		return fmt.Errorf("user %q already exists (use user set-password to change the password)", username)
	} else if !errors.Is(err, oauth.ErrNotFound) {
		return err
	}
	hash, err := e.readPasswordHash()
	if err != nil {
		return err
	}
	// OIDC Core §2: a random sub, never the username, so a re-created name is a new
	// identity; a `sub` claim pins it, as it does in a seed file.
	sub, _ := claims["sub"].(string)
	if sub == "" {
		if sub, err = oauth.NewSubject(); err != nil {
			return err
		}
	}
	u := &oauth.User{Username: username, PasswordHash: hash, Claims: claims, Sub: sub}
	if err := e.store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, oauth.ErrConflict) {
			return fmt.Errorf("user %q already exists (use user set-password to change the password)", username)
		}
		return err
	}
	e.note("Created user %q.", username)
	return e.print(viewUser(u))
}

func (e *env) userGet(ctx context.Context, username string) error {
	u, err := e.store.GetUser(ctx, username)
	if err != nil {
		return notFound(err, "user", username)
	}
	return e.print(viewUser(u))
}

func (e *env) userList(ctx context.Context) error {
	users, err := e.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, viewUser(u))
	}
	return e.print(out)
}

func (e *env) userSetPassword(ctx context.Context, username string) error {
	// Fail on a wrong name before asking for a password.
	if _, err := e.store.GetUser(ctx, username); err != nil {
		return notFound(err, "user", username)
	}
	hash, err := e.readPasswordHash()
	if err != nil {
		return err
	}
	u, err := e.store.SetUserPassword(ctx, username, hash)
	if err != nil {
		return notFound(err, "user", username)
	}
	e.note("Set the password of user %q.", username)
	return e.print(viewUser(u))
}

func (e *env) userSetDisabled(ctx context.Context, username string, disabled bool) error {
	u, err := e.store.SetUserDisabled(ctx, username, disabled)
	if err != nil {
		return notFound(err, "user", username)
	}
	if disabled {
		e.note("Disabled user %q: new logins are refused.", username)
	} else {
		e.note("Enabled user %q.", username)
	}
	return e.print(viewUser(u))
}

func (e *env) userDelete(ctx context.Context, username string) error {
	if err := e.store.DeleteUser(ctx, username); err != nil {
		return notFound(err, "user", username)
	}
	e.note("Deleted user %q.", username)
	return e.print(map[string]any{"username": username, "deleted": true})
}
