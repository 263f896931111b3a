// Command authorize is the Lambda function serving the authorization endpoint with the login and consent pages: GET|POST /authorize.
package main

import (
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
)

func main() {
	awsapp.Start(awsapp.Authorize, awstable.Table, awsapp.WithIdentityProviders(awstable.Providers))
}
