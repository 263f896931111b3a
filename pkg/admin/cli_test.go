package admin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pargate/pargate/pkg/admin"
)

func TestRun_UsageErrorsExitTwo(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "no command"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown subcommand", []string{"client", "frobnicate"}, `unknown command "client frobnicate"`},
		{"group alone", []string{"user"}, "user needs a command"},
		{"unknown flag", []string{"client", "list", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{"unknown global flag", []string{"--frobnicate", "client", "list"}, "flag provided but not defined"},
		{"extra argument", []string{"client", "get", "a", "b"}, "client get takes one argument, ID"},
		{"argument to a command without", []string{"client", "list", "x"}, "client list takes no arguments"},
		{"no table", []string{"client", "list"}, "no table: set --table or TABLE_NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.runRaw("", append([]string{"--endpoint", h.endpoint}, tc.args...)...).fails(t, admin.ExitUsage, tc.want)
		})
	}
}

func TestRun_HelpExitsZero(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"client", "--help"}, {"keys", "rotate", "-h"}} {
		r := h.runRaw("", args...)
		if r.code != admin.ExitOK || r.stdout != "" || !strings.Contains(r.stderr, "Usage: pargate") {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	full := h.runRaw("", "help").stderr
	for _, cmd := range []string{"client create", "client get", "client list", "client update", "client delete",
		"user create", "user set-password", "user disable", "user enable", "user list", "import", "keys rotate", "keys show"} {
		if !strings.Contains(full, "  "+cmd) {
			t.Errorf("help does not list %q", cmd)
		}
	}
}

// Global flags work after the command too, and the environment fills in what no
// flag gives.
func TestRun_GlobalFlagsAnywhereAndFromTheEnvironment(t *testing.T) {
	h := newHarness(t)
	createClient(t, h, appMeta)
	h.runRaw("", "client", "get", "app", "--table", h.table, "--endpoint", h.endpoint).ok(t, nil)
	h.runRaw("", "client", "--table", h.table, "get", "--endpoint", h.endpoint, "app").fails(t, admin.ExitUsage, `unknown command "client --table"`)

	h.env[admin.EnvTable] = h.table
	h.env[admin.EnvEndpoint] = h.endpoint
	h.runRaw("", "client", "get", "app").ok(t, nil)
	// A flag wins over the environment.
	h.runRaw("", "--table", "no-such-table", "client", "get", "app").fails(t, admin.ExitError, "no-such-table")
	// "--" ends the flags: an id may start with a dash.
	h.runRaw("", "client", "get", "--", "-app").fails(t, admin.ExitError, `client "-app" not found`)
}

// The default configuration loader takes the endpoint and region from the flags
// and credentials from the SDK's chain.
func TestRun_DefaultAWSConfigurationReachesTheEndpoint(t *testing.T) {
	h := newHarness(t)
	createClient(t, h, appMeta)
	// The SDK reads the process environment: point it at dummy credentials and away
	// from the developer's profile.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	var stdout, stderr bytes.Buffer
	cli := &admin.CLI{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	if code := cli.Run(t.Context(), []string{"--endpoint", h.endpoint, "--table", h.table, "client", "get", "app"}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"client_id": "app"`) {
		t.Errorf("stdout: %s", stdout.String())
	}

	cfg, err := admin.LoadAWSConfig(t.Context(), admin.Settings{Endpoint: h.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" || aws.ToString(cfg.BaseEndpoint) != h.endpoint {
		t.Errorf("with an endpoint and no region: region %q, endpoint %q", cfg.Region, aws.ToString(cfg.BaseEndpoint))
	}
	cfg, err = admin.LoadAWSConfig(t.Context(), admin.Settings{Region: "eu-central-1"})
	if err != nil || cfg.Region != "eu-central-1" || cfg.BaseEndpoint != nil {
		t.Errorf("--region only: %v, region %q, endpoint %v", err, cfg.Region, cfg.BaseEndpoint)
	}
	if _, err := admin.LoadAWSConfig(context.Background(), admin.Settings{}); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Errorf("no region, no endpoint: %v", err)
	}
	// A region missing is a usage error of the command line.
	stderr.Reset()
	if code := cli.Run(t.Context(), []string{"--table", h.table, "client", "list"}); code != admin.ExitUsage {
		t.Errorf("no region: exit %d, want 2: %s", code, stderr.String())
	}
}
