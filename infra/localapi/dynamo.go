package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/awsapp/awsretry"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/moto"
	"github.com/pargate/pargate/pkg/oauth"
)

// openDynamo uses the DynamoDB API at DYNAMODB_ENDPOINT, or starts moto_server when
// it is unset, and creates the table (TABLE_NAME, default pargate-local) if needed.
// The store has the functions' retries and per-call deadlines (awsretry.New,
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
	// The client from its options, not from awsconfig.LoadDefaultConfig: a local
	// endpoint, a fixed region and static credentials need no configuration loader,
	// and without it the binary links no credential chain (SSO, STS, IMDS), whose
	// package initialization every start of `make run` paid, the in-memory store's
	// included (issue 15: exec to first 201).
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Retryer:      awsretry.New(),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	})
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
