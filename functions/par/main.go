// Command par is the Lambda function serving the pushed authorization request endpoint (RFC 9126 §2): POST /par.
package main

import (
	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
)

func main() { awsapp.Start(awsapp.PAR, awstable.Table) }
