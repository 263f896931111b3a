package stack_test

import (
	"net/http"
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
)

// TestFunctions_OriginGuard: the real par bootstrap with ORIGIN_SECRET (the stack
// behind CloudFront) answers a push sent to the execute-api URL directly - without
// CloudFront's header - as API Gateway answers a refused request, before any AWS
// call, and serves the same push with the header.
func TestFunctions_OriginGuard(t *testing.T) {
	const secret = "0123456789abcdefghijklmnopqrstuvwxyzABCD"
	par := startWith(t, "par", map[string]string{awsapp.OriginSecretEnv: secret})

	direct := send(t, par, request(t, "par.json"))
	wantStatus(t, direct, http.StatusForbidden)
	if direct.Body != `{"message":"Forbidden"}` {
		t.Errorf("refusal body %q, want API Gateway's", direct.Body)
	}
	if calls := par.AWS.Calls(); len(calls) != 0 {
		t.Errorf("a refused request made AWS calls: %v", calls)
	}

	viaCloudFront := request(t, "par.json")
	viaCloudFront.Headers["x-pargate-origin-secret"] = secret
	viaCloudFront.Headers["cloudfront-viewer-address"] = "198.51.100.10:46532"
	wantStatus(t, send(t, par, viaCloudFront), http.StatusCreated)
}
