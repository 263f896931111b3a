// Command token is the Lambda function serving the endpoints that hold tokens: POST /token
// (RFC 6749 §3.2), POST /revoke (RFC 7009), POST /introspect (RFC 7662) and GET|POST
// /userinfo (OIDC Core §5.3).
package main

import (
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
)

func main() { awsapp.Start(awsapp.TokenEndpoints, awstable.Table) }
