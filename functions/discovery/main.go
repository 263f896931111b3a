// Command discovery is the Lambda function serving the metadata (RFC 8414, OIDC Discovery) and the JWKS: GET /.well-known/*, GET /jwks.
package main

import "github.com/pargate/pargate/pkg/awsapp"

// No table store: discovery reads no table, and links no DynamoDB client.
func main() { awsapp.Start(awsapp.Discovery, nil) }
