// Command discovery is the Lambda function serving the metadata (RFC 8414, OIDC Discovery) and the JWKS: GET /.well-known/*, GET /jwks.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/pargate/pargate/pkg/awsapp"
)

func main() {
	h, err := awsapp.Lambda(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h.Discovery()).ProxyWithContext)
}
