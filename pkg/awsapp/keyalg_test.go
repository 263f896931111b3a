package awsapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pargate/pargate/pkg/awsapp"
	"github.com/pargate/pargate/pkg/awsapp/awstable"
	"github.com/pargate/pargate/pkg/httpapi/httpapitest"
	"github.com/pargate/pargate/pkg/keys"
)

// FAPI 2.0 Security Profile §5.4.1: a Lambda function under fapi2 whose key secret
// holds an RS256 key refuses the set at its first load (a function's start reads no
// secret): /jwks answers 500 server_error without the key's kid in the body, and
// nothing is signed or published with it. The default profile serves the same set.
func TestLambda_FAPI2_5_4_1_RefusesAnRS256KeySet(t *testing.T) {
	set := httpapitest.KeySet(t, keys.RS256)
	secret, err := set.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	endpoint, _ := fakeAWS(t, func(w http.ResponseWriter, r *http.Request, _ int32) {
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), "GetSecretValue") {
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:keys",
			"Name": "keys", "VersionId": "v1", "SecretString": string(secret), "VersionStages": []string{"AWSCURRENT"}})
	})
	for _, tc := range []struct {
		profile string
		status  int
	}{
		{"default", http.StatusOK},
		{"fapi2", http.StatusInternalServerError},
	} {
		base := lambdaEnv(t, endpoint)
		getenv := func(k string) string {
			if k == "PROFILE" {
				return tc.profile
			}
			return base(k)
		}
		h, err := awsapp.Lambda(t.Context(), getenv, awstable.Table)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.Discovery().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != tc.status {
			t.Errorf("%s: GET /jwks %d %s, want %d", tc.profile, rec.Code, body, tc.status)
		}
		if tc.status != http.StatusOK && strings.Contains(string(body), set.Active().KeyID) {
			t.Errorf("%s: the body names the key: %s", tc.profile, body)
		}
	}
}
