package awsapp_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
)

// Every function's clients (rotate-keys' too) come from LoadConfig, so its retryer
// is the one that keeps an AWS call within the functions' deadlines.
func TestLoadConfig_HasTheBoundedRetryer(t *testing.T) {
	// No developer's AWS profile may take part: the files named here do not exist.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
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
