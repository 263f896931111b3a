// Command token is the Lambda function serving the endpoints that hold tokens: POST /token
// (RFC 6749 §3.2), POST /revoke (RFC 7009), POST /introspect (RFC 7662) and GET|POST
// /userinfo (OIDC Core §5.3).
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
	lambda.Start(httpadapter.NewV2(h.TokenEndpoints()).ProxyWithContext)
}
