package stack_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
)

// Symbols a function must not link (docs/design.md decision 25). The pages and
// their template engine belong to authorize: the page renderer and the engine's
// parser and (reflective) executor, named exactly, as the template packages' own init
// is linked wherever package httpapi is. The DynamoDB client and store (by prefix)
// belong to the functions of the table; the SDK's default configuration chain
// (shared files, SSO, STS, IMDS) to none, as every function reads its credentials
// from Lambda's environment (awsapp.LoadConfig).
var (
	pagesSymbols = []string{
		"github.com/pargate/pargate/pkg/httpapi.mustParsePages", "github.com/pargate/pargate/pkg/httpapi.(*Handler).render",
		"html/template.(*Template).ExecuteTemplate", "text/template.(*state).evalField", "text/template/parse.Parse",
	}
	dynamodbSymbols = []string{"github.com/aws/aws-sdk-go-v2/service/dynamodb.", "github.com/pargate/pargate/pkg/dynamo."}
	// Brokered login (issue 13) belongs to authorize: the relying party of the
	// upstream identity providers and their cached source with the secrets.
	federationSymbols = []string{
		"github.com/pargate/pargate/pkg/federation.", "github.com/pargate/pargate/pkg/awsapp.(*providerCache)",
		"github.com/pargate/pargate/pkg/secrets.ReadProviderSecret",
	}
	configSymbols = []string{
		"github.com/aws/aws-sdk-go-v2/config.", "github.com/aws/aws-sdk-go-v2/service/sts.",
		"github.com/aws/aws-sdk-go-v2/service/sso.", "github.com/aws/aws-sdk-go-v2/service/ssooidc.",
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds.",
	}
	// Operations of the clients that no HTTP function calls: linked only if a client
	// itself becomes an interface value, which keeps all its methods in a binary that
	// reflects on methods (authorize's html/template does).
	unusedOperations = []string{
		"github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).CreateTable",
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager.(*Client).RotateSecret",
	}
)

// sizeBudget is each bootstrap's largest stripped linux/arm64 size (what Lambda
// loads; BuildFlags), in bytes: the 10 MB where it is met, and for authorize
// and discovery the measured size with a margin, so that growth is a decision and
// not an accident (docs/design.md decision 25 says what the rest is).
var sizeBudget = map[string]int64{
	"par":       10_000_000,
	"token":     10_000_000,
	"discovery": 8_200_000,
	"authorize": 11_800_000,
}

// TestFunctions_DecisionLinkOnlyTheirRoute builds each HTTP function for Lambda
// (linux/arm64), once with symbols to read its symbol table (`go tool nm`) and once
// as deployed to weigh it, and checks that it links its own route's code and none of
// another's: par, token and discovery no pages and no brokered login, discovery no
// DynamoDB, none the SDK's default configuration chain, and each stays within its
// size budget. The positive rows (authorize has the pages and the identity
// providers, par the store) show the check reads the right names.
func TestFunctions_DecisionLinkOnlyTheirRoute(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	symbols := buildWithSymbols(t, ctx, dir, stack.HTTPFunctions...)
	stripped, err := stack.Build(ctx, moduleRoot(t), dir, "arm64", stack.HTTPFunctions...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                     string
		pages, table, federation bool
	}{
		{name: "par", table: true},
		{name: "authorize", pages: true, table: true, federation: true},
		{name: "token", table: true},
		{name: "discovery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			syms := symbols[tc.name]
			if got := linksExactly(syms, pagesSymbols); got != tc.pages {
				t.Errorf("links the pages (html/template): %v, want %v", got, tc.pages)
			}
			if got := linksAny(syms, dynamodbSymbols); got != tc.table {
				t.Errorf("links the DynamoDB client and store: %v, want %v", got, tc.table)
			}
			if got := linksAny(syms, federationSymbols); got != tc.federation {
				t.Errorf("links brokered login (pkg/federation, the identity providers' source): %v, want %v", got, tc.federation)
			}
			for _, s := range configSymbols {
				if linksAny(syms, []string{s}) {
					t.Errorf("links %s*", s)
				}
			}
			for _, s := range unusedOperations {
				if syms[s] {
					t.Errorf("links %s", s)
				}
			}
			info, err := os.Stat(stripped[tc.name])
			if err != nil {
				t.Fatal(err)
			}
			if budget := sizeBudget[tc.name]; info.Size() > budget {
				t.Errorf("bootstrap is %d bytes, over its budget of %d (go tool nm -size -sort size on a build without -s -w shows what grew)", info.Size(), budget)
			}
		})
	}
}

// buildWithSymbols builds functions/<name> for linux/arm64 with BuildFlags but the
// symbol table kept (no -ldflags=-s -w: the linker's choices are the same), and
// returns each binary's symbol names.
func buildWithSymbols(t *testing.T, ctx context.Context, dir string, names ...string) map[string]map[string]bool {
	t.Helper()
	out := filepath.Join(dir, "symbols") + string(filepath.Separator)
	args := []string{"build"}
	for _, f := range stack.BuildFlags {
		if !strings.HasPrefix(f, "-ldflags=") {
			args = append(args, f)
		}
	}
	args = append(args, "-o", out)
	for _, n := range names {
		args = append(args, "./functions/"+n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	syms := map[string]map[string]bool{}
	for _, n := range names {
		nm := exec.CommandContext(ctx, "go", "tool", "nm", filepath.Join(out, n))
		b, err := nm.Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", n, err)
		}
		syms[n] = map[string]bool{}
		for line := range bytes.Lines(b) {
			// address type name
			if f := strings.Fields(string(line)); len(f) >= 3 {
				syms[n][strings.Join(f[2:], " ")] = true
			}
		}
	}
	return syms
}

// linksExactly reports whether one of names is a symbol.
func linksExactly(syms map[string]bool, names []string) bool {
	for _, n := range names {
		if syms[n] {
			return true
		}
	}
	return false
}

// linksAny reports whether a symbol starts with one of prefixes.
func linksAny(syms map[string]bool, prefixes []string) bool {
	for s := range syms {
		for _, p := range prefixes {
			if strings.HasPrefix(s, p) {
				return true
			}
		}
	}
	return false
}
