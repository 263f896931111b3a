// Command authorize is the Lambda function serving the authorization endpoint with the login and consent pages: GET|POST /authorize.
package main

import (
	"log/slog"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/federation"
	"github.com/pargate/pargate/pkg/oauth"
)

func main() {
	awsapp.Start(awsapp.Authorize, awstable.Table, awsapp.WithIdentityProviders(awstable.Providers), awsapp.WithUpstream(upstream))
}

// upstream is the relying party of brokered login (issue 13): the authorize function
// alone links pkg/federation.
func upstream(log *slog.Logger) oauth.Upstream {
	return federation.New(federation.Options{Logger: log})
}
