package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/oauth"
)

// openDynamo uses the DynamoDB API at DYNAMODB_ENDPOINT, or starts moto_server when
// it is unset, and creates the table (TABLE_NAME, default pargate-local) if needed.
// The store has the functions' retries and per-call deadlines (awsapp.Retryer,
// awstable.Store); the registry, for the seed import, is the plain store.
func openDynamo(ctx context.Context, getenv func(string) string, singleItemWrites bool) (oauth.Store, oauth.Registry, func(), error) {
	endpoint, stop := getenv("DYNAMODB_ENDPOINT"), func() {}
	if endpoint == "" {
		srv, err := moto.Start(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		endpoint, stop = srv.Endpoint, srv.Stop
		fmt.Printf("moto_server started at %s\n", endpoint)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx,
		awsconfig.WithRegion("us-east-1"),
		awsconfig.WithRetryer(awsapp.Retryer),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("aws configuration: %w", err)
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	table := getenv("TABLE_NAME")
	if table == "" {
		table = "pargate-local"
	}
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		stop()
		return nil, nil, nil, err
	}
	return awstable.Store(client, table, awstable.Options(singleItemWrites)...), dynamo.New(client, table), stop, nil
}
