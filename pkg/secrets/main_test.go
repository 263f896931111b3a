package secrets_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/moto"
)

// One moto_server per test binary, started by the first test that needs it and
// stopped by TestMain.
var motoServer struct {
	once sync.Once
	srv  *moto.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	motoServer.srv.Stop()
	os.Exit(code)
}

// motoClient returns a Secrets Manager client of the shared moto_server. Without
// moto_server the test is skipped, except under CI=true, where that is a failure.
func motoClient(tb testing.TB) *secretsmanager.Client {
	tb.Helper()
	motoServer.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		motoServer.srv, motoServer.err = moto.Start(ctx)
	})
	if err := motoServer.err; err != nil {
		if errors.Is(err, moto.ErrNotInstalled) && os.Getenv("CI") != "true" {
			tb.Skipf("Secrets Manager tests need moto_server: %v", err)
		}
		tb.Fatalf("start moto_server: %v", err)
	}
	return newClient(motoServer.srv.Endpoint)
}

func newClient(endpoint string) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
}

// newSecret creates a secret with a name unique to the test and returns its ARN.
func newSecret(tb testing.TB, client *secretsmanager.Client, value string) string {
	tb.Helper()
	name := strings.NewReplacer("/", "-", " ", "-").Replace(tb.Name()) + "-" + randomHex(tb, 4)
	out, err := client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String(name),
		SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatalf("create secret: %v", err)
	}
	return aws.ToString(out.ARN)
}

func randomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}
