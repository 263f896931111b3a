package admin_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/oauth"
)

type userOut struct {
	Username     string         `json:"username"`
	Claims       map[string]any `json:"claims"`
	Disabled     bool           `json:"disabled"`
	PasswordHash string         `json:"password_hash"`
}

const password = "correct horse battery staple"

func TestUserCreate_HashesThePasswordFromStdinWithArgon2id(t *testing.T) {
	h := newHarness(t)
	claims := writeFile(t, "claims.json", `{"name":"Alice Liddell","email":"alice@example.com","sub":"u-1"}`)
	r := h.run(password+"\n", "user", "create", "alice", "--claims", claims)
	var out userOut
	r.ok(t, &out)
	if out.Username != "alice" || out.Disabled || out.Claims["email"] != "alice@example.com" {
		t.Errorf("user create printed %+v", out)
	}
	if strings.Contains(r.stdout+r.stderr, password) || strings.Contains(r.stdout, "argon2id") || out.PasswordHash != "" {
		t.Errorf("user create printed the password or its hash:\n%s\n%s", r.stdout, r.stderr)
	}

	stored, err := h.store.GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Errorf("stored hash %q is not argon2id", stored.PasswordHash)
	}
	if ok, err := oauth.VerifyPassword(stored.PasswordHash, password); !ok || err != nil {
		t.Errorf("VerifyPassword(stored, password) = %v, %v", ok, err)
	}
	if want := map[string]any{"name": "Alice Liddell", "email": "alice@example.com", "sub": "u-1"}; !reflect.DeepEqual(stored.Claims, want) {
		t.Errorf("stored claims = %v, want %v", stored.Claims, want)
	}
	u, err := h.service().Login(t.Context(), "alice", password)
	if err != nil {
		t.Fatalf("Login with the password: %v", err)
	}
	if u.Subject() != "u-1" {
		t.Errorf("subject %q", u.Subject())
	}
	if _, err := h.service().Login(t.Context(), "alice", password+"!"); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Errorf("Login with a wrong password = %v, want ErrBadCredentials", err)
	}
}

func TestUserCreate_StdinLineEndingIsNotPartOfThePassword(t *testing.T) {
	h := newHarness(t)
	h.run(password+"\r\nsecond line ignored\n", "user", "create", "bob").ok(t, nil)
	if _, err := h.service().Login(t.Context(), "bob", password); err != nil {
		t.Errorf("Login: %v", err)
	}
	h.run(password, "user", "create", "carol").ok(t, nil) // no final newline
	if _, err := h.service().Login(t.Context(), "carol", password); err != nil {
		t.Errorf("Login: %v", err)
	}
}

func TestUserCreate_PromptsTwiceOnATerminal(t *testing.T) {
	h := newHarness(t)
	var prompts []string
	answers := []string{password, password}
	h.prompt = func(p string) (string, error) {
		prompts = append(prompts, p)
		a := answers[0]
		answers = answers[1:]
		return a, nil
	}
	h.run("stdin is not read when there is a terminal\n", "user", "create", "dora").ok(t, nil)
	if len(prompts) != 2 {
		t.Errorf("prompted %d times (%q), want twice", len(prompts), prompts)
	}
	if _, err := h.service().Login(t.Context(), "dora", password); err != nil {
		t.Errorf("Login: %v", err)
	}

	answers = []string{password, password + "typo"}
	h.run("", "user", "create", "erin").fails(t, admin.ExitError, "the passwords do not match")
	if _, err := h.store.GetUser(t.Context(), "erin"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("a mistyped password created the user: %v", err)
	}
}

func TestUserCreate_Errors(t *testing.T) {
	h := newHarness(t)
	h.run(password+"\n", "user", "create", "alice").ok(t, nil)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"taken username", "another password\n", []string{"alice"}, admin.ExitError, `user "alice" already exists`},
		{"no password", "", []string{"bob"}, admin.ExitError, "no password"},
		{"short password", "short\n", []string{"bob"}, admin.ExitError, "at least 8 characters"},
		{"long password", strings.Repeat("p", 1025) + "\n", []string{"bob"}, admin.ExitError, "not be longer than 1024 bytes"},
		{"username with spaces around", password, []string{" bob"}, admin.ExitError, "white space"},
		{"username too long", password, []string{strings.Repeat("b", 257)}, admin.ExitError, "longer than 256 bytes"},
		{"claims not an object", password, []string{"bob", "--claims", writeFile(t, "c.json", `["x"]`)}, admin.ExitError, "claims in"},
		{"claims from stdin", password, []string{"bob", "--claims", "-"}, admin.ExitUsage, "give a file"},
		{"no username", password, nil, admin.ExitUsage, "takes one argument, USERNAME"},
		{"password as an argument", password, []string{"bob", password}, admin.ExitUsage, "takes one argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.run(tc.stdin, append([]string{"user", "create"}, tc.args...)...).fails(t, tc.code, tc.want)
		})
	}
	users, err := h.store.ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Errorf("%d users after refused creates, want 1", len(users))
	}
	if _, err := h.service().Login(t.Context(), "alice", password); err != nil {
		t.Errorf("a refused duplicate changed alice's password: %v", err)
	}
}

func TestUserSetPassword_ReplacesThePassword(t *testing.T) {
	h := newHarness(t)
	claims := writeFile(t, "claims.json", `{"name":"Alice"}`)
	h.run(password+"\n", "user", "create", "alice", "--claims", claims).ok(t, nil)

	var out userOut
	r := h.run("a brand new password\n", "user", "set-password", "alice")
	r.ok(t, &out)
	if strings.Contains(r.stdout+r.stderr, "a brand new password") || strings.Contains(r.stdout, "argon2id") {
		t.Errorf("set-password printed the password or its hash:\n%s", r.stdout)
	}
	if out.Claims["name"] != "Alice" {
		t.Errorf("set-password lost the claims: %+v", out)
	}
	svc := h.service()
	if _, err := svc.Login(t.Context(), "alice", "a brand new password"); err != nil {
		t.Errorf("Login with the new password: %v", err)
	}
	if _, err := svc.Login(t.Context(), "alice", password); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Errorf("Login with the old password = %v, want ErrBadCredentials", err)
	}

	h.run("a brand new password\n", "user", "set-password", "nobody").fails(t, admin.ExitError, `user "nobody" not found`)
	h.run("short\n", "user", "set-password", "alice").fails(t, admin.ExitError, "at least 8 characters")
}

func TestUserDisable_LoginIsRefusedUntilEnabled(t *testing.T) {
	h := newHarness(t)
	svc := h.service()
	h.run(password+"\n", "user", "create", "alice").ok(t, nil)

	var out userOut
	h.run("", "user", "disable", "alice").ok(t, &out)
	if !out.Disabled {
		t.Errorf("user disable printed %+v", out)
	}
	if _, err := svc.Login(t.Context(), "alice", password); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Errorf("Login of a disabled user = %v, want ErrBadCredentials", err)
	}
	if u, err := h.store.GetUser(t.Context(), "alice"); err != nil || !u.Disabled {
		t.Errorf("stored user = %+v, %v", u, err)
	}

	h.run("", "user", "enable", "alice").ok(t, &out)
	if out.Disabled {
		t.Errorf("user enable printed %+v", out)
	}
	if _, err := svc.Login(t.Context(), "alice", password); err != nil {
		t.Errorf("Login after enable: %v", err)
	}

	h.run("", "user", "disable", "nobody").fails(t, admin.ExitError, `user "nobody" not found`)
	h.run("", "user", "enable", "nobody").fails(t, admin.ExitError, `user "nobody" not found`)
	if _, err := h.store.GetUser(t.Context(), "nobody"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("disabling a missing user created it: %v", err)
	}
}

func TestUserGetListDelete(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"zed", "amy"} {
		h.run(password+"\n", "user", "create", name).ok(t, nil)
	}
	var one userOut
	h.run("", "user", "get", "amy").ok(t, &one)
	if one.Username != "amy" || one.PasswordHash != "" {
		t.Errorf("user get = %+v", one)
	}
	var list []userOut
	r := h.run("", "user", "list").ok(t, &list)
	if len(list) != 2 || list[0].Username != "amy" || list[1].Username != "zed" {
		t.Errorf("user list = %+v", list)
	}
	if strings.Contains(r.stdout, "argon2id") || strings.Contains(r.stdout, "password") {
		t.Errorf("user list prints password material:\n%s", r.stdout)
	}

	h.run("", "user", "delete", "amy").ok(t, nil)
	h.run("", "user", "get", "amy").fails(t, admin.ExitError, `user "amy" not found`)
	h.run("", "user", "delete", "amy").fails(t, admin.ExitError, `user "amy" not found`)
	if _, err := h.service().Login(t.Context(), "amy", password); !errors.Is(err, oauth.ErrBadCredentials) {
		t.Errorf("Login of a deleted user = %v", err)
	}
}
