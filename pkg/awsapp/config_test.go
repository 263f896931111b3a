package awsapp_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pargate/pargate/pkg/awsapp"
)

// Every function's clients (rotate-keys' too) come from LoadConfig, so its retryer
// is the one that keeps an AWS call within the functions' deadlines.
func TestLoadConfig_HasTheBoundedRetryer(t *testing.T) {
	setLambdaCredentials(t)
	cfg, err := awsapp.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retryer == nil {
		t.Fatal("no retryer")
	}
	r := cfg.Retryer()
	if got := r.MaxAttempts(); got != awsapp.MaxAttempts {
		t.Errorf("MaxAttempts = %d, want %d", got, awsapp.MaxAttempts)
	}
	for attempt := 1; attempt <= 10; attempt++ {
		d, err := r.RetryDelay(attempt, errors.New("throttled"))
		if err != nil || d <= 0 || d > awsapp.MaxBackoff {
			t.Errorf("RetryDelay(%d) = %v, %v; want within (0, %v]", attempt, d, err, awsapp.MaxBackoff)
		}
	}
}

// setLambdaCredentials sets what Lambda puts in every function's environment.
func setLambdaCredentials(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "session",
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "", "AWS_ENDPOINT_URL": "",
	} {
		t.Setenv(k, v)
	}
}

// The configuration is Lambda's environment: the role's keys and session token, the
// Region, and AWS_ENDPOINT_URL when set (moto under the emulator and sam local).
func TestLoadConfig_ReadsLambdaEnvironment(t *testing.T) {
	setLambdaCredentials(t)
	cfg, err := awsapp.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDTEST" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials = %+v, want the environment's", creds)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("Region = %q, want eu-west-1", cfg.Region)
	}
	if cfg.BaseEndpoint != nil {
		t.Errorf("BaseEndpoint = %q without AWS_ENDPOINT_URL, want none", *cfg.BaseEndpoint)
	}

	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-2")
	cfg, err = awsapp.LoadConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(cfg.BaseEndpoint); got != "http://127.0.0.1:5000" {
		t.Errorf("BaseEndpoint = %q, want AWS_ENDPOINT_URL's", got)
	}
	if cfg.Region != "us-east-2" {
		t.Errorf("Region = %q, want AWS_DEFAULT_REGION's when AWS_REGION is unset", cfg.Region)
	}
}

// Without the keys a function fails at its cold start, rather than sending unsigned
// calls; without a Region too.
func TestLoadConfig_MissingCredentialsOrRegionIsAnError(t *testing.T) {
	for _, unset := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		t.Run(unset, func(t *testing.T) {
			setLambdaCredentials(t)
			t.Setenv(unset, "")
			if _, err := awsapp.LoadConfig(context.Background()); err == nil {
				t.Errorf("LoadConfig without %s: no error", unset)
			}
		})
	}
}
