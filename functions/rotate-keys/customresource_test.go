package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/secrets"
)

// responseURL stands in for the pre-signed S3 URL CloudFormation waits on: it records
// every request made to it.
type responseURL struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []customResourceResponse
	header []http.Header
	status int
}

func newResponseURL(t *testing.T) *responseURL {
	t.Helper()
	r := &responseURL{status: http.StatusOK}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Method != http.MethodPut || req.URL.Path != "/response" || req.URL.Query().Get("X-Amz-Signature") != "sig" {
			t.Errorf("response sent as %s %s, want PUT to the ResponseURL", req.Method, req.URL)
		}
		body, _ := io.ReadAll(req.Body)
		var resp customResourceResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Errorf("response body %q: %v", body, err)
		}
		r.got = append(r.got, resp)
		r.header = append(r.header, req.Header.Clone())
		w.WriteHeader(r.status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *responseURL) url() string { return r.srv.URL + "/response?X-Amz-Signature=sig" }

func (r *responseURL) last(t *testing.T) (customResourceResponse, http.Header) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("no response was sent to the ResponseURL")
	}
	return r.got[len(r.got)-1], r.header[len(r.header)-1]
}

func customResourceEventJSON(requestType, responseURL, secretID, physicalID string) []byte {
	ev := map[string]any{
		"RequestType":        requestType,
		"ServiceToken":       "arn:aws:lambda:us-east-1:123456789012:function:pargate-rotate-keys",
		"ResponseURL":        responseURL,
		"StackId":            "arn:aws:cloudformation:us-east-1:123456789012:stack/pargate/guid",
		"RequestId":          "3f1b7c2e-9a4d-4e0b-8c55-" + fmt.Sprintf("%012d", len(requestType)),
		"ResourceType":       "Custom::FirstSigningKey",
		"LogicalResourceId":  "FirstSigningKey",
		"ResourceProperties": map[string]any{"ServiceToken": "x", "SecretId": secretID},
	}
	if physicalID != "" {
		ev["PhysicalResourceId"] = physicalID
	}
	b, _ := json.Marshal(ev)
	return b
}

func checkEcho(t *testing.T, resp customResourceResponse, h http.Header) {
	t.Helper()
	if resp.StackID != "arn:aws:cloudformation:us-east-1:123456789012:stack/pargate/guid" || resp.LogicalResourceID != "FirstSigningKey" || !strings.HasPrefix(resp.RequestID, "3f1b7c2e-") {
		t.Errorf("response %+v does not echo StackId, RequestId and LogicalResourceId", resp)
	}
	if resp.PhysicalResourceID == "" {
		t.Error("response without PhysicalResourceId")
	}
	// The URL is signed without a Content-Type.
	if ct := h.Get("Content-Type"); ct != "" {
		t.Errorf("response sent with Content-Type %q, want none", ct)
	}
}

// Create writes the first key set synchronously and answers SUCCESS; Update with the
// set in place answers SUCCESS with the same physical id and leaves the keys alone.
func TestFirstSigningKey_CreateWritesTheFirstKeySet(t *testing.T) {
	client := startMoto(t)
	ctx := context.Background()
	arn := newKeysSecret(t, client)
	handle, err := newHandler(client, env(map[string]string{"KEY_ALG": "ES256"}))
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(handle)
	cfn := newResponseURL(t)

	if _, err := h.Invoke(ctx, customResourceEventJSON("Create", cfn.url(), arn, "")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	resp, hdr := cfn.last(t)
	checkEcho(t, resp, hdr)
	if resp.Status != "SUCCESS" {
		t.Fatalf("Create answered %s (%s), want SUCCESS", resp.Status, resp.Reason)
	}
	set, err := secrets.LoadKeySet(ctx, client, arn)
	if err != nil {
		t.Fatalf("key set after Create: %v", err)
	}
	if n := len(set.Keys()); n != 2 {
		t.Errorf("after Create the set has %d keys (%v), want active and successor", n, set.KeyIDs())
	}
	if algs := set.Algorithms(); !slices.Equal(algs, []string{keys.ES256}) {
		t.Errorf("algorithms = %v, want KEY_ALG's [ES256]", algs)
	}
	if resp.Data["ActiveKeyId"] != set.Active().KeyID {
		t.Errorf("Data.ActiveKeyId = %q, want %q", resp.Data["ActiveKeyId"], set.Active().KeyID)
	}

	physical := resp.PhysicalResourceID
	if _, err := h.Invoke(ctx, customResourceEventJSON("Update", cfn.url(), arn, physical)); err != nil {
		t.Fatalf("Update: %v", err)
	}
	resp, hdr = cfn.last(t)
	checkEcho(t, resp, hdr)
	if resp.Status != "SUCCESS" || resp.PhysicalResourceID != physical {
		t.Errorf("Update answered %s %q (%s), want SUCCESS with the physical id %q", resp.Status, resp.PhysicalResourceID, resp.Reason, physical)
	}
	after, err := secrets.LoadKeySet(ctx, client, arn)
	if err != nil || !slices.Equal(after.KeyIDs(), set.KeyIDs()) {
		t.Errorf("key set after Update: %v (%v), want it unchanged: %v", after.KeyIDs(), err, set.KeyIDs())
	}
}

// A first key that cannot be written fails the deployment: FAILED with a reason and a
// physical id (CloudFormation then rolls back with a Delete naming it).
func TestFirstSigningKey_CreateFailsWhenTheKeyCannotBeWritten(t *testing.T) {
	client := startMoto(t)
	handle, err := newHandler(client, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfn := newResponseURL(t)
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:pargate-missing-" + randomHex(t)
	if _, err := lambda.NewHandler(handle).Invoke(context.Background(), customResourceEventJSON("Create", cfn.url(), missing, "")); err != nil {
		t.Fatalf("Create: %v, want the failure reported to CloudFormation, not to Lambda", err)
	}
	resp, hdr := cfn.last(t)
	checkEcho(t, resp, hdr)
	if resp.Status != "FAILED" || resp.Reason == "" {
		t.Errorf("Create of a key in a missing secret answered %s (%q), want FAILED with a reason", resp.Status, resp.Reason)
	}
}

// Delete touches nothing and always succeeds, with the physical id it was given -
// also the rollback of a Create that failed.
func TestFirstSigningKey_DeleteIsANoOp(t *testing.T) {
	// No Secrets Manager at all: a Delete must not call it.
	handle, err := newHandler(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfn := newResponseURL(t)
	ev := customResourceEventJSON("Delete", cfn.url(), "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone", "first-signing-key:gone")
	if _, err := lambda.NewHandler(handle).Invoke(context.Background(), ev); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	resp, hdr := cfn.last(t)
	checkEcho(t, resp, hdr)
	if resp.Status != "SUCCESS" || resp.PhysicalResourceID != "first-signing-key:gone" {
		t.Errorf("Delete answered %s %q, want SUCCESS with the physical id it was given", resp.Status, resp.PhysicalResourceID)
	}
}

// A response CloudFormation did not receive is an error of the invocation, so that
// Lambda retries it.
func TestFirstSigningKey_UndeliveredResponseIsAnError(t *testing.T) {
	handle, err := newHandler(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfn := newResponseURL(t)
	cfn.status = http.StatusForbidden
	ev := customResourceEventJSON("Delete", cfn.url(), "x", "first-signing-key:x")
	if _, err := lambda.NewHandler(handle).Invoke(context.Background(), ev); err == nil {
		t.Fatal("Delete whose response was refused (403) returned no error")
	}
}

// With PUBLIC_KEYS_SECRET_ID, Create publishes the first set's public JWK Set, so a
// new stack's discovery serves the first key; and an existing stack updated to this
// version (a key set in place, the public secret still the template's empty
// placeholder) gets it filled by the custom resource's Update.
func TestFirstSigningKey_PublishesThePublicKeySet(t *testing.T) {
	client := startMoto(t)
	ctx := context.Background()
	cfn := newResponseURL(t)
	for _, tc := range []struct {
		name, requestType string
		existing          bool
	}{
		{"new stack", "Create", false},
		{"existing stack's first update", "Update", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arn := newKeysSecret(t, client)
			public := newKeysSecret(t, client) // {"keys":[]}, as template.yaml creates it
			var existing *keys.Set
			if tc.existing {
				// What the previous version's FirstSigningKey wrote (no public secret then).
				old, err := newHandler(client, env(map[string]string{"KEY_ALG": "ES256"}))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := lambda.NewHandler(old).Invoke(ctx, customResourceEventJSON("Create", cfn.url(), arn, "")); err != nil {
					t.Fatal(err)
				}
				if existing, err = secrets.LoadKeySet(ctx, client, arn); err != nil {
					t.Fatal(err)
				}
			}
			handle, err := newHandler(client, env(map[string]string{"KEY_ALG": "ES256", "PUBLIC_KEYS_SECRET_ID": public}))
			if err != nil {
				t.Fatal(err)
			}
			physical := ""
			if tc.existing {
				physical = "first-signing-key:" + arn
			}
			if _, err := lambda.NewHandler(handle).Invoke(ctx, customResourceEventJSON(tc.requestType, cfn.url(), arn, physical)); err != nil {
				t.Fatalf("%s: %v", tc.requestType, err)
			}
			if resp, _ := cfn.last(t); resp.Status != "SUCCESS" {
				t.Fatalf("%s answered %s (%s)", tc.requestType, resp.Status, resp.Reason)
			}
			set, err := secrets.LoadKeySet(ctx, client, arn)
			if err != nil {
				t.Fatal(err)
			}
			if existing != nil && !slices.Equal(set.KeyIDs(), existing.KeyIDs()) {
				t.Errorf("Update changed the key set: %v, was %v", set.KeyIDs(), existing.KeyIDs())
			}
			jwks, err := secrets.NewPublicKeys(client, public).PublicJWKS(ctx)
			if err != nil {
				t.Fatalf("discovery's public key set after %s: %v", tc.requestType, err)
			}
			if string(jwks) != string(set.PublicJSON()) {
				t.Errorf("public secret holds\n%s\nwant the key set's JWKS\n%s", jwks, set.PublicJSON())
			}
			// Deploying again writes nothing new.
			before := versions(t, client, public)
			if _, err := lambda.NewHandler(handle).Invoke(ctx, customResourceEventJSON("Update", cfn.url(), arn, "first-signing-key:"+arn)); err != nil {
				t.Fatal(err)
			}
			if after := versions(t, client, public); after != before {
				t.Errorf("a second Update wrote the public secret again (%d versions, was %d)", after, before)
			}
		})
	}
}

// versions counts the secret's versions.
func versions(t *testing.T, client *secretsmanager.Client, id string) int {
	t.Helper()
	out, err := client.ListSecretVersionIds(t.Context(), &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(id), IncludeDeprecated: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Versions)
}
