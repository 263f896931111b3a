package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
)

// The test binary doubles as the pargate binary: with PARGATE_RUN_MAIN=1 it runs
// main, so the tests see real exit codes, real stdout and stderr, and a real pipe on
// stdin.
func TestMain(m *testing.M) {
	if os.Getenv("PARGATE_RUN_MAIN") == "1" {
		main()
		return
	}
	dynamotest.Main(m)
}

type process struct {
	code           int
	stdout, stderr string
}

func pargate(tb testing.TB, stdin string, args ...string) process {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	// Dummy credentials and no shared config: the process can reach only the
	// endpoint it is given.
	cmd.Env = []string{
		"PARGATE_RUN_MAIN=1",
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tb.TempDir(),
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		tb.Fatalf("run pargate: %v", err)
	}
	return process{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestPargate_ExitCodesAndStreams(t *testing.T) {
	endpoint := dynamotest.Endpoint(t)
	client := dynamotest.Client(t, endpoint)
	table := dynamotest.NewTable(t, client)
	global := []string{"--endpoint", endpoint, "--table", table}

	// 2: usage.
	if p := pargate(t, ""); p.code != 2 || p.stdout != "" || !strings.Contains(p.stderr, "Usage: pargate") {
		t.Errorf("no arguments: exit %d, stdout %q, stderr %q", p.code, p.stdout, p.stderr)
	}
	if p := pargate(t, "", "user", "create"); p.code != 2 {
		t.Errorf("user create without a username: exit %d", p.code)
	}

	// 0: a client created, its metadata on stdout as JSON, the notes on stderr.
	meta := filepath.Join(t.TempDir(), "app.json")
	if err := os.WriteFile(meta, []byte(`{"client_id":"app","redirect_uris":["https://app.example.com/cb"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	p := pargate(t, "", append(global, "client", "create", "--file", meta)...)
	var created struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
	}
	if p.code != 0 || json.Unmarshal([]byte(p.stdout), &created) != nil || created.Secret == "" {
		t.Fatalf("client create: exit %d\nstdout: %s\nstderr: %s", p.code, p.stdout, p.stderr)
	}
	if !strings.Contains(p.stderr, "only this once") || strings.Contains(p.stderr, created.Secret) {
		t.Errorf("client create stderr: %s", p.stderr)
	}

	// A password from a pipe (not a terminal: no prompt, no stty).
	p = pargate(t, "pipe-password-123\n", append(global, "user", "create", "alice")...)
	if p.code != 0 || strings.Contains(p.stdout+p.stderr, "pipe-password-123") {
		t.Fatalf("user create: exit %d\nstdout: %s\nstderr: %s", p.code, p.stdout, p.stderr)
	}
	u, err := dynamo.New(client, table).GetUser(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := oauth.VerifyPassword(u.PasswordHash, "pipe-password-123"); !ok {
		t.Error("the piped password does not verify")
	}

	// 1: an operation that fails, with nothing on stdout.
	p = pargate(t, "", append(global, "client", "get", "nobody")...)
	if p.code != 1 || p.stdout != "" || !strings.Contains(p.stderr, `client "nobody" not found`) {
		t.Errorf("client get nobody: exit %d, stdout %q, stderr %q", p.code, p.stdout, p.stderr)
	}
}
