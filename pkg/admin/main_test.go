package admin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/admin"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// Every test runs the CLI against moto_server: dynamotest's, which speaks Secrets
// Manager as well as DynamoDB. Without moto_server the tests skip, and under CI=true
// they fail (dynamotest.Endpoint).
func TestMain(m *testing.M) { dynamotest.Main(m) }

// harness is one test's table and CLI runner.
type harness struct {
	tb       testing.TB
	endpoint string
	table    string
	store    *dynamo.Store
	// env is the CLI's environment: empty unless a test sets something, so the
	// developer's own TABLE_NAME or KEY_ALG cannot leak in.
	env map[string]string
	// prompt, when set, stands in for the terminal.
	prompt func(string) (string, error)
	// now is the CLI's clock (CLI.Now): oauthtest.DaysApart unless a test sets another.
	now func() time.Time
}

func newHarness(tb testing.TB) *harness {
	tb.Helper()
	endpoint := dynamotest.Endpoint(tb)
	client := dynamotest.Client(tb, endpoint)
	table := dynamotest.NewTable(tb, client)
	return &harness{tb: tb, endpoint: endpoint, table: table, store: dynamo.New(client, table), env: map[string]string{}, now: oauthtest.DaysApart()}
}

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with the test's table and endpoint as global flags, stdin as its
// standard input, and static dummy credentials (the AWS configuration never reads
// the developer's profile).
func (h *harness) run(stdin string, args ...string) result {
	h.tb.Helper()
	return h.runRaw(stdin, append([]string{"--endpoint", h.endpoint, "--table", h.table}, args...)...)
}

// runRaw runs the CLI with exactly args.
func (h *harness) runRaw(stdin string, args ...string) result {
	h.tb.Helper()
	var stdout, stderr bytes.Buffer
	cli := &admin.CLI{
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return h.env[k] },
		Prompt: h.prompt,
		Now:    h.now,
		AWSConfig: func(_ context.Context, s admin.Settings) (aws.Config, error) {
			region := s.Region
			if region == "" {
				region = "us-east-1"
			}
			return aws.Config{
				Region:       region,
				BaseEndpoint: aws.String(s.Endpoint),
				Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			}, nil
		},
	}
	code := cli.Run(h.tb.Context(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// ok fails the test unless the run succeeded with JSON on stdout, and decodes it.
func (r result) ok(tb testing.TB, out any) result {
	tb.Helper()
	if r.code != admin.ExitOK {
		tb.Fatalf("exit %d, want 0\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
			tb.Fatalf("stdout is not the JSON expected: %v\n%s", err, r.stdout)
		}
	}
	return r
}

// fails checks that the run failed with code, printed nothing on stdout and said
// want on stderr.
func (r result) fails(tb testing.TB, code int, want string) {
	tb.Helper()
	if r.code != code {
		tb.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	if r.stdout != "" {
		tb.Errorf("a failed command printed on stdout: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, want) {
		tb.Errorf("stderr does not say %q:\n%s", want, r.stderr)
	}
}

// writeFile writes content to a file in the test's temporary directory.
func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// storedClient is the client id as the store holds it.
func (h *harness) storedClient(tb testing.TB, id string) *oauth.Client {
	tb.Helper()
	c, err := h.store.GetClient(tb.Context(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// service is the protocol core over the test's table, as the functions build it.
func (h *harness) service() *oauth.Service {
	return oauth.NewService(oauth.Config{Issuer: "https://auth.example.com"}, h.store, nil)
}

// newSecret creates a Secrets Manager secret with value, named for the test.
func (h *harness) newSecret(value string) (*secretsmanager.Client, string) {
	h.tb.Helper()
	sm := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(h.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "-", " ", "-").Replace(h.tb.Name()) + "-" + hex.EncodeToString(b)
	_, err := sm.CreateSecret(h.tb.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		h.tb.Fatalf("create secret: %v", err)
	}
	return sm, name
}
