package awsapp

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Environment variables LoadConfig reads: those Lambda sets for every function (the
// execution role's credentials and the Region), and AWS_ENDPOINT_URL, which points
// the clients at another endpoint (moto_server under the emulator or `sam local`).
const (
	envAccessKeyID     = "AWS_ACCESS_KEY_ID"
	envSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	envSessionToken    = "AWS_SESSION_TOKEN"
	envRegion          = "AWS_REGION"
	envDefaultRegion   = "AWS_DEFAULT_REGION"
	envEndpointURL     = "AWS_ENDPOINT_URL"
)

// LoadConfig is the AWS configuration every function builds its clients from: the
// credentials and Region Lambda puts in the function's environment, AWS_ENDPOINT_URL
// if set, and Retryer, so that no AWS call of any function retries beyond its bounds.
//
// It is not the SDK's config.LoadDefaultConfig: that chain (shared files, SSO, STS
// web identity, IMDS, the container endpoint) serves no Lambda function, whose
// role's keys are always in its environment, and linking it made every bootstrap
// about 1.8 MB larger (docs/design.md decision 25). Missing keys are a configuration
// error at the cold start rather than unsigned calls later.
func LoadConfig(context.Context) (aws.Config, error) {
	return configFromEnv(os.Getenv)
}

func configFromEnv(getenv func(string) string) (aws.Config, error) {
	id, secret := getenv(envAccessKeyID), getenv(envSecretAccessKey)
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("aws configuration: " + envAccessKeyID + " and " + envSecretAccessKey + " are required (Lambda sets them from the function's role)")
	}
	region := getenv(envRegion)
	if region == "" {
		region = getenv(envDefaultRegion)
	}
	if region == "" {
		return aws.Config{}, errors.New("aws configuration: " + envRegion + " is required (Lambda sets it)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv(envSessionToken)),
		Retryer:     Retryer,
	}
	if u := getenv(envEndpointURL); u != "" {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}
