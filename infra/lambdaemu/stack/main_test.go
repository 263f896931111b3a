package stack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/moto"
)

// What the tests of this binary share, made once on first use and removed in
// TestMain: the bootstraps (built for the host's architecture: they are run here) and
// the AWS resources on one moto_server.
var (
	root    string
	rootErr error

	buildOnce  sync.Once
	buildDir   string
	bootstraps map[string]string
	buildErr   error

	awsOnce sync.Once
	local   *stack.AWS
	awsErr  error
)

func TestMain(m *testing.M) {
	root, rootErr = stack.ModuleRoot()
	code := m.Run()
	if local != nil {
		local.Close()
	}
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func moduleRoot(tb testing.TB) string {
	tb.Helper()
	if rootErr != nil {
		tb.Fatal(rootErr)
	}
	return root
}

func build() {
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "pargate-bootstraps-"); buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		bootstraps, buildErr = stack.Build(ctx, root, buildDir, runtime.GOARCH, stack.HTTPFunctions...)
	})
}

func startAWS() {
	awsOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		local, awsErr = stack.StartAWS(ctx, stack.Options{SeedFile: filepath.Join(root, "infra", "seed.json")})
	})
}

// skipUnlessLinux: the bootstraps are linux executables.
func skipUnlessLinux(tb testing.TB) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skipf("bootstraps are linux/%s executables; this host is %s", runtime.GOARCH, runtime.GOOS)
	}
}

// bootstrap returns the path of the function's bootstrap, building all of them on
// first use.
func bootstrap(tb testing.TB, name string) string {
	tb.Helper()
	skipUnlessLinux(tb)
	moduleRoot(tb)
	build()
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return bootstraps[name]
}

// setup builds the bootstraps and starts moto_server (at the same time, the first
// time). Without moto_server the test is skipped, or fails under CI=true.
func setup(tb testing.TB) *stack.AWS {
	tb.Helper()
	skipUnlessLinux(tb)
	moduleRoot(tb)
	var wg sync.WaitGroup
	wg.Go(build)
	wg.Go(startAWS)
	wg.Wait()
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	if errors.Is(awsErr, moto.ErrNotInstalled) && os.Getenv("CI") != "true" {
		tb.Skip(awsErr)
	}
	if awsErr != nil {
		tb.Fatalf("local AWS (moto_server): %v (CI=true makes a missing moto_server a failure)", awsErr)
	}
	return local
}

// start runs the function's bootstrap against the local AWS resources.
func start(tb testing.TB, name string) *stack.Function {
	tb.Helper()
	a := setup(tb)
	fn, err := a.Start(context.Background(), name, bootstraps[name], nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := fn.Close(); err != nil {
			tb.Error(err)
		}
		if tb.Failed() {
			tb.Logf("%s output:\n%s", name, fn.Logs())
		}
	})
	return fn
}
