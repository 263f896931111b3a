// Command discovery is the Lambda function serving the metadata (RFC 8414, OIDC Discovery) and the JWKS: GET /.well-known/*, GET /jwks.
package main

import "github.com/pargate/pargate/pkg/awsapp"

func main() { awsapp.Start(awsapp.Discovery) }
