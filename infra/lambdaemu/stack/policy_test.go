package stack_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/infra/iampolicy"
	"github.com/pargate/pargate/infra/lambdaemu/stack"
	"github.com/pargate/pargate/pkg/dynamo"
)

// motoAccount is the account moto_server puts in its ARNs.
const motoAccount = "123456789012"

// functionIDs are the logical ids of the HTTP functions in template.yaml.
var functionIDs = map[string]string{
	"par": "ParFunction", "authorize": "AuthorizeFunction", "token": "TokenFunction", "discovery": "DiscoveryFunction",
}

// TestPolicies_AllowEveryCallOfTheFlow: each function's role, as template.yaml writes
// it, allows every DynamoDB and Secrets Manager call its bootstrap makes in a whole
// flow - push, a failed and a good login (the failure counter written, read and
// cleared), consent, the code exchange, a refresh, userinfo, the JWKS and metadata -
// with dynamodb:LeadingKeys compared with the partition keys of the items each call
// touches. moto does not enforce IAM, so the recorded calls are checked against the
// policy document (infra/iampolicy).
func TestPolicies_AllowEveryCallOfTheFlow(t *testing.T) {
	allowEveryCallOfTheFlow(t, nil, nil)
}

// TestPolicies_AllowEveryCallOfTheFlow_SingleItemWrites: the same in a multi-Region
// stack (ReplicaRegions set: IsMultiRegion, the global table), whose functions write
// without transactions (DYNAMODB_SINGLE_ITEM_WRITES=true, docs/multi-region.md).
func TestPolicies_AllowEveryCallOfTheFlow_SingleItemWrites(t *testing.T) {
	a := setup(t)
	allowEveryCallOfTheFlow(t, map[string]string{"DYNAMODB_SINGLE_ITEM_WRITES": "true"}, map[string]string{
		"Condition:IsMultiRegion": "true",
		"GlobalTable.Arn":         tableARN(a.Table),
		"Table.Arn":               tableARN("no-single-region-table"),
	})
}

// TestPolicies_AllowEveryCallOfTheFlow_CustomerManagedKey: the same with KmsKey=create
// (the table and the secrets under the stack's own key): the KMS request the service
// makes for each recorded call - Decrypt of the table's key through DynamoDB for an
// item call; Decrypt through Secrets Manager of the secret read (its ARN in the
// encryption context), GenerateDataKey for a PutSecretValue - is allowed by both the
// function's role and the key policy (the role known by its pargate:function tag).
// moto does not enforce KMS either, so this is what the deployed key would check.
func TestPolicies_AllowEveryCallOfTheFlow_CustomerManagedKey(t *testing.T) {
	allowEveryCallOfTheFlow(t, nil, map[string]string{
		"Condition:UseKmsKey":    "true",
		"Condition:CreateKmsKey": "true",
		"EncryptionKey.Arn":      "arn:aws:kms:" + stack.Region + ":" + motoAccount + ":key/11111111-2222-3333-4444-555555555555",
	})
}

// kmsRequest is the request to the KMS key that Secrets Manager or DynamoDB makes for
// a call of the function's (ok false: none).
func kmsRequest(acc stack.Access, keyARN, region string) (iampolicy.Request, bool) {
	req := iampolicy.Request{Resource: keyARN, Context: map[string]string{}}
	switch {
	case acc.SecretID != "" && strings.EqualFold(acc.Action, "secretsmanager:GetSecretValue"):
		req.Action = "kms:Decrypt"
	case acc.SecretID != "" && strings.EqualFold(acc.Action, "secretsmanager:PutSecretValue"):
		req.Action = "kms:GenerateDataKey"
	case acc.SecretID != "":
		return req, false // metadata: no KMS request
	case acc.Table != "":
		req.Action = "kms:Decrypt" // the table's key
		req.Context["kms:ViaService"] = "dynamodb." + region + ".amazonaws.com"
		return req, true
	default:
		return req, false
	}
	req.Context["kms:ViaService"] = "secretsmanager." + region + ".amazonaws.com"
	req.Context["kms:EncryptionContext:SecretARN"] = acc.SecretID
	return req, true
}

// allowEveryCallOfTheFlow runs the flow with the functions' environment changed by env
// and checks their calls against the policies, resolved with the refs of the local
// stack changed by stackRefs.
func allowEveryCallOfTheFlow(t *testing.T, env, stackRefs map[string]string) {
	a := setup(t)
	policies, err := iampolicy.ReadFile(filepath.Join(moduleRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clientID := refreshClient(t, a)
	par, authorize, token, discovery := startWith(t, "par", env), startWith(t, "authorize", env), startWith(t, "token", env), startWith(t, "discovery", env)
	user := a.Seed.Users[0]
	secret := a.Seed.Clients[0].Secret
	adapt := func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
		if _, ok := ev.Headers["authorization"]; ok {
			ev.Headers["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(clientID+":"+secret))
		}
		if _, ok := ev.QueryStringParameters["client_id"]; ok {
			ev.QueryStringParameters["client_id"] = clientID
		}
		if ev.RawPath == "/par" {
			body, err := url.ParseQuery(ev.Body)
			if err != nil {
				t.Fatal(err)
			}
			body.Set("client_id", clientID)
			body.Set("scope", "openid profile offline_access")
			body.Set("prompt", "consent")
			// A JARM response: the authorize function signs it, with the signing keys
			// its role must be allowed to read (docs/design.md decision 24).
			body.Set("response_mode", "jwt")
			ev.Body = body.Encode()
			delete(ev.Headers, "content-length")
		}
		return ev
	}

	// A wrong password first: the failure counter is written, then cleared by the
	// good login of the same flow.
	failedLogin(t, par, authorize, adapt, user.Username)
	tok, cookies := authorizationWithCookies(t, par, authorize, token, user, adapt)

	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %v", tok)
	}
	refresh := adapt(request(t, "token.json"))
	refresh.Body = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()
	delete(refresh.Headers, "content-length")
	refreshed := send(t, token, refresh)
	wantStatus(t, refreshed, http.StatusOK)

	access, _ := decodeJSON(t, refreshed)["access_token"].(string)
	userinfo := request(t, "token.json")
	userinfo.RouteKey, userinfo.RequestContext.RouteKey = "ANY /userinfo", "ANY /userinfo"
	userinfo.RawPath, userinfo.RequestContext.HTTP.Path = "/userinfo", "/userinfo"
	userinfo.RequestContext.HTTP.Method = http.MethodGet
	userinfo.Body = ""
	delete(userinfo.Headers, "content-type")
	delete(userinfo.Headers, "content-length")
	userinfo.Headers["authorization"] = "Bearer " + access
	wantStatus(t, send(t, token, userinfo), http.StatusOK)

	// The client credentials grant (RFC 6749 §4.4) reads no more than a client, and
	// revoking its token records a revoked grant item under the token's grant_id
	// (Grants.RecordRevocation, docs/design.md decision 29): one UpdateItem of grant#.
	cc := adapt(request(t, "token.json"))
	cc.Body = url.Values{"grant_type": {"client_credentials"}, "scope": {"profile"}}.Encode()
	delete(cc.Headers, "content-length")
	issued := send(t, token, cc)
	wantStatus(t, issued, http.StatusOK)
	ccToken, _ := decodeJSON(t, issued)["access_token"].(string)
	revoke := adapt(request(t, "token.json"))
	revoke.RouteKey, revoke.RequestContext.RouteKey = "ANY /revoke", "ANY /revoke"
	revoke.RawPath, revoke.RequestContext.HTTP.Path = "/revoke", "/revoke"
	revoke.Body = url.Values{"token": {ccToken}}.Encode()
	delete(revoke.Headers, "content-length")
	wantStatus(t, send(t, token, revoke), http.StatusOK)

	wantStatus(t, send(t, discovery, request(t, "jwks.json")), http.StatusOK)
	wantStatus(t, send(t, discovery, request(t, "discovery.json")), http.StatusOK)

	// RP-Initiated Logout (docs/design.md decision 33) with the ID token of the
	// session: the session read and deleted, its grants found by subject (a Query of
	// the by-sub index) - the signed-out page, the client registering no
	// post_logout_redirect_uris.
	idt, _ := tok["id_token"].(string)
	logout := request(t, "authorize.json")
	logout.RouteKey, logout.RequestContext.RouteKey = "GET /logout", "GET /logout"
	logout.RawPath, logout.RequestContext.HTTP.Path = "/logout", "/logout"
	logout.RawQueryString, logout.QueryStringParameters = url.Values{"id_token_hint": {idt}}.Encode(), nil
	logout.Cookies = cookies
	loggedOut := send(t, authorize, logout)
	wantStatus(t, loggedOut, http.StatusOK)
	if !strings.Contains(loggedOut.Body, "You are signed out") {
		t.Fatalf("logout: not the signed-out page:\n%s", loggedOut.Body)
	}

	refs := map[string]string{
		"AWS::Region": stack.Region, "AWS::AccountId": motoAccount, "AWS::Partition": "aws", "AWS::StackName": stack.StackName,
		"Table.Arn":        tableARN(a.Table),
		"KeysSecret":       a.KeysSecretID,
		"CookieSecret":     a.CookieSecretID,
		"DpopNonceSecret":  a.DPoPNonceSecretID,
		"PublicKeysSecret": a.PublicKeysSecretID,
	}
	for k, v := range stackRefs {
		refs[k] = v
	}
	var keyPolicy []iampolicy.Statement
	if refs["Condition:CreateKmsKey"] == "true" {
		if keyPolicy, err = iampolicy.ReadKeyPolicy(filepath.Join(moduleRoot(t), "template.yaml"), "EncryptionKey"); err != nil {
			t.Fatal(err)
		}
	}
	var kmsChecked int
	for name, fn := range map[string]*stack.Function{"par": par, "authorize": authorize, "token": token, "discovery": discovery} {
		stmts, ok := policies[functionIDs[name]]
		if !ok {
			t.Fatalf("template.yaml has no %s", functionIDs[name])
		}
		var seen []string
		for _, call := range fn.AWS.Calls() {
			if len(call.Access) == 0 {
				if strings.HasPrefix(call.Operation, "DynamoDB_") || strings.HasPrefix(call.Operation, "secretsmanager.") {
					t.Errorf("%s: %s: the recording could not read what it accesses", name, call.Operation)
				}
				continue
			}
			for _, acc := range call.Access {
				req := iampolicy.Request{Action: acc.Action, LeadingKeys: acc.Keys}
				switch {
				case acc.SecretID != "":
					req.Resource = acc.SecretID
				case acc.Table != "":
					req.Resource = tableARN(acc.Table)
					if acc.Index != "" {
						req.Resource += "/index/" + acc.Index
					}
					// ForAllValues passes a request without keys: every call the
					// functions make names its items.
					if len(acc.Keys) == 0 {
						t.Errorf("%s: %s touches no partition key the recording could read", name, acc.Action)
					}
				default:
					t.Errorf("%s: %s on no resource", name, acc.Action)
					continue
				}
				allowed, _, err := iampolicy.Allowed(stmts, req, refs)
				if err != nil {
					t.Fatalf("%s: %v", functionIDs[name], err)
				}
				what := fmt.Sprintf("%s %s %v", acc.Action, strings.TrimPrefix(req.Resource, "arn:aws:"), prefixes(acc.Keys))
				if !allowed {
					t.Errorf("%s's policy does not allow %s (in %s)", functionIDs[name], what, call.Operation)
				}
				if !slices.Contains(seen, what) {
					seen = append(seen, what)
				}
				if kreq, ok := kmsRequest(acc, refs["EncryptionKey.Arn"], stack.Region); ok && keyPolicy != nil {
					kmsChecked++
					kreq.Principal = "arn:aws:iam::" + motoAccount + ":root"
					kreq.Context["aws:PrincipalTag/pargate:function"] = stack.StackName + ":" + name
					kreq.Context["kms:CallerAccount"] = motoAccount
					for policy, stmts := range map[string][]iampolicy.Statement{"role": stmts, "key policy": keyPolicy} {
						allowed, _, err := iampolicy.Allowed(stmts, kreq, refs)
						if err != nil {
							t.Fatalf("%s %s: %v", functionIDs[name], policy, err)
						}
						if !allowed {
							t.Errorf("%s: the %s does not allow %s %v for %s", functionIDs[name], policy, kreq.Action, kreq.Context, what)
						}
					}
				}
			}
		}
		if name != "discovery" && len(seen) == 0 {
			t.Errorf("%s made no AWS call the flow could check", name)
		}
		t.Logf("%s: %s", name, strings.Join(seen, "; "))
	}
	if keyPolicy != nil && kmsChecked == 0 {
		t.Error("no call of the flow was checked against the key")
	}
}

func tableARN(table string) string {
	return "arn:aws:dynamodb:" + stack.Region + ":" + motoAccount + ":table/" + table
}

// prefixes turns partition keys into their prefixes (what the policy grants).
func prefixes(keys []string) []string {
	var out []string
	for _, k := range keys {
		p, _, ok := strings.Cut(k, "#")
		if ok {
			p += "#"
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// refreshClient stores a copy of the seed's confidential client that may use refresh
// tokens and the client credentials grant (the seed's own may not), and returns its id.
func refreshClient(tb testing.TB, a *stack.AWS) string {
	tb.Helper()
	db := dynamodb.New(dynamodb.Options{Region: stack.Region, BaseEndpoint: aws.String(a.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	store := dynamo.New(db, a.Table)
	ctx := context.Background()
	c, err := store.GetClient(ctx, a.Seed.Clients[0].ID)
	if err != nil {
		tb.Fatal(err)
	}
	c.ID = "policy-test-client"
	c.GrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}
	c.Scope += " offline_access"
	if err := store.PutClient(ctx, c); err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

// failedLogin pushes a request and posts a wrong password for username.
func failedLogin(t *testing.T, par, authorize *stack.Function, adapt func(events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest, username string) {
	t.Helper()
	login := openLoginPage(t, par, authorize, adapt)
	form := hiddenFields(t, login.Body)
	form.Set("username", username)
	form.Set("password", "not-the-password")
	failed := send(t, authorize, formPost(t, form, cookieJar(t, nil, login)))
	if failed.StatusCode == http.StatusSeeOther {
		t.Fatalf("a wrong password signed in: %v", failed.Headers)
	}
}
