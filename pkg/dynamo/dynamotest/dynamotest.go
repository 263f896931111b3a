// Package dynamotest gives tests in any package a DynamoDB to run against: the
// endpoint named by DYNAMODB_ENDPOINT if set, otherwise a moto_server started once per
// test binary on a free 127.0.0.1 port. Each test gets its own freshly created table,
// so tests and packages may run in parallel without seeing each other's items. When
// moto_server is not installed the tests are skipped, except under CI=true, where
// a skipped store test would hide a broken build and is a failure instead
// (docs/design.md, "Tests, in layers").
//
// Typical use, in a package's tests:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) } // stops moto_server at the end
//
//	func TestSomething(t *testing.T) {
//		store := dynamotest.NewStore(t) // *dynamo.Store on a new table
//		…
//	}
package dynamotest

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/moto"
)

// EnvEndpoint names the environment variable with an existing DynamoDB endpoint
// (e.g. http://127.0.0.1:5000 for a moto_server you run yourself); when it is set no
// moto_server is started.
const EnvEndpoint = "DYNAMODB_ENDPOINT"

// Endpoint returns the DynamoDB endpoint for tests: $DYNAMODB_ENDPOINT, or the URL
// of this test binary's moto_server, which it starts on first use and waits for.
// Without moto_server on PATH it skips the test, or fails it when CI=true.
//
// The moto_server it starts (pkg/moto) is reached through a proxy that passes one
// write at a time, because moto does not isolate concurrent requests. An endpoint
// from DYNAMODB_ENDPOINT is used as it is: if that is a moto_server, the concurrency
// tests of the store contract may fail spuriously.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	if ep := os.Getenv(EnvEndpoint); ep != "" {
		return ep
	}
	endpoint, err := shared.start()
	if errors.Is(err, moto.ErrNotInstalled) {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("DynamoDB tests cannot run: %s is not on PATH and %s is not set (CI=true makes this a failure, not a skip)", moto.Command, EnvEndpoint)
		}
		tb.Skipf("skipping DynamoDB test: %s is not on PATH and %s is not set", moto.Command, EnvEndpoint)
	}
	if err != nil {
		tb.Fatalf("start %s: %v", moto.Command, err)
	}
	return endpoint
}

// Client returns a DynamoDB client for endpoint with static dummy credentials in
// us-east-1. It reads no environment or shared config, so a developer's AWS profile
// can never point a test at a real account.
func Client(tb testing.TB, endpoint string) *dynamodb.Client {
	tb.Helper()
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// NewTable creates a table with a name unique to this test and run, with the
// store's schema (dynamo.CreateTable), and deletes it when the test ends.
func NewTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := tableName(tb.Name())
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	defer cancel()
	if err := dynamo.CreateTable(ctx, client, name); err != nil {
		tb.Fatalf("create test table: %v", err)
	}
	tb.Cleanup(func() {
		// The test's context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name}); err != nil {
			tb.Errorf("delete test table %s: %v", name, err)
		}
	})
	return name
}

// NewStore returns a DynamoDB store on a new table of the test endpoint.
func NewStore(tb testing.TB) *dynamo.Store {
	tb.Helper()
	client := Client(tb, Endpoint(tb))
	return dynamo.New(client, NewTable(tb, client))
}

// Main runs the tests and then stops the moto_server that Endpoint started, if
// any, before exiting with the tests' status. Call it from TestMain. On Linux the
// server dies with the test binary even without it (it is started with a parent-death
// signal), so a crashed or timed-out test run leaves no moto_server behind either.
func Main(m *testing.M) {
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// tableName derives a valid table name ([A-Za-z0-9_.-], at most 255) from the test
// name, with a random suffix: repeated runs against one long-lived endpoint
// (DYNAMODB_ENDPOINT) never meet a leftover table.
func tableName(testName string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, testName)
	if len(clean) > 180 {
		clean = clean[:180]
	}
	return "test-" + clean + "-" + strings.ToLower(rand.Text()[:10])
}
