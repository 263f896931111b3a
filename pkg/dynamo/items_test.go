package dynamo_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// TestItems_AreReadableWithConditionAttributesOnTop pins the table layout that the
// conditions, TTL and operators rely on: hashed keys with a kind prefix, one
// attribute per field, times as epoch milliseconds, ttl in epoch seconds an hour
// after the last deadline, consumed_at, revoked_at and used_at absent until set, and
// authorization_details as the JSON text.
func TestItems_AreReadableWithConditionAttributesOnTop(t *testing.T) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	table := dynamotest.NewTable(t, client)
	s := dynamo.New(client, table)
	now := time.Date(2031, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

	r := oauthtest.PushedRequest(t, now)
	if err := s.CreatePushedRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	par := rawItem(t, client, table, "par#"+r.Key)
	wantN(t, par, "deadline", r.Deadline.UnixMilli())
	wantN(t, par, "redeem_by", r.RedeemBy.UnixMilli())
	wantN(t, par, "created_at", now.UnixMilli())
	wantN(t, par, "ttl", r.Deadline.Add(time.Hour).Unix())
	wantS(t, par, "client_id", oauthtest.ClientID)
	wantAbsent(t, par, "consumed_at", "unconsumed pushed request")
	req, ok := par["request"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("request = %T, want a map", par["request"])
	}
	wantS(t, req.Value, "redirect_uri", r.Request.RedirectURI)
	wantS(t, req.Value, "code_challenge", r.Request.CodeChallenge)

	code := oauthtest.Code(t, now)
	grant := oauthtest.Grant(t, now)
	grant.ID = code.GrantID
	if err := s.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant); err != nil {
		t.Fatal(err)
	}
	wantN(t, rawItem(t, client, table, "par#"+r.Key), "consumed_at", now.UnixMilli())
	item := rawItem(t, client, table, "code#"+code.Key)
	wantN(t, item, "expires_at", code.ExpiresAt.UnixMilli())
	wantN(t, item, "ttl", code.ExpiresAt.Add(time.Hour).Unix())
	wantS(t, item, "client_id", code.ClientID)
	wantAbsent(t, item, "consumed_at", "unused code")
	if _, ok := item["claims"].(*types.AttributeValueMemberM); !ok {
		t.Errorf("claims = %T, want a map", item["claims"])
	}
	wantS(t, item, "grant_id", code.GrantID)
	wantS(t, item, "authorization_details", string(code.AuthorizationDetails))
	wantS(t, req.Value, "authorization_details", string(r.Request.AuthorizationDetails))

	g := rawItem(t, client, table, "grant#"+grant.ID)
	wantS(t, g, "client_id", grant.ClientID)
	wantS(t, g, "sub", grant.Subject)
	wantS(t, g, "authorization_details", string(grant.AuthorizationDetails))
	wantN(t, g, "auth_time", grant.AuthTime.UnixMilli())
	wantN(t, g, "created_at", grant.CreatedAt.UnixMilli())
	wantN(t, g, "expires_at", grant.ExpiresAt.UnixMilli())
	wantN(t, g, "ttl", grant.ExpiresAt.Add(time.Hour).Unix())
	wantAbsent(t, g, "revoked_at", "unrevoked grant")

	rt := oauthtest.RefreshToken(t, now, grant.ID)
	if err := s.CreateRefreshToken(t.Context(), rt); err != nil {
		t.Fatal(err)
	}
	item = rawItem(t, client, table, "rt#"+rt.Key)
	wantS(t, item, "grant_id", rt.GrantID)
	wantS(t, item, "client_id", rt.ClientID)
	wantN(t, item, "issued_at", rt.IssuedAt.UnixMilli())
	wantN(t, item, "expires_at", rt.ExpiresAt.UnixMilli())
	wantN(t, item, "ttl", rt.ExpiresAt.Add(time.Hour).Unix())
	wantAbsent(t, item, "used_at", "unused refresh token")
	next := oauthtest.RefreshToken(t, now, rt.GrantID)
	if err := s.RotateRefreshToken(t.Context(), rt.Key, rt.ClientID, now, next); err != nil {
		t.Fatal(err)
	}
	wantN(t, rawItem(t, client, table, "rt#"+rt.Key), "used_at", now.UnixMilli())
	rawItem(t, client, table, "rt#"+next.Key)

	revoked := now.Add(time.Minute)
	if err := s.RevokeGrant(t.Context(), grant.ID, revoked); err != nil {
		t.Fatal(err)
	}
	wantN(t, rawItem(t, client, table, "grant#"+grant.ID), "revoked_at", revoked.UnixMilli())

	c := oauthtest.Client(t)
	if err := s.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	wantS(t, rawItem(t, client, table, "client#"+c.ID), "jwks", string(c.JWKS))

	u := oauthtest.User(t)
	if err := s.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	wantS(t, rawItem(t, client, table, "user#"+u.Username), "password_hash", u.PasswordHash)

	jti := oauthtest.Key(t)
	if err := s.UseOnce(t.Context(), jti, now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	replay := rawItem(t, client, table, "replay#"+jti)
	wantN(t, replay, "expires_at", now.Add(time.Minute).UnixMilli())
	wantN(t, replay, "ttl", now.Add(time.Minute+time.Hour).Unix())
}

func rawItem(tb testing.TB, client *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := client.GetItem(tb.Context(), &dynamodb.GetItemInput{
		TableName:      &table,
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if out.Item == nil {
		tb.Fatalf("no item %s", pk)
	}
	return out.Item
}

// wantAbsent fails unless item, the stored what, has no attribute name.
func wantAbsent(tb testing.TB, item map[string]types.AttributeValue, name, what string) {
	tb.Helper()
	if _, ok := item[name]; ok {
		tb.Errorf("%s has a %s attribute", what, name)
	}
}

func wantN(tb testing.TB, item map[string]types.AttributeValue, name string, want int64) {
	tb.Helper()
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		tb.Errorf("%s = %#v, want number %d", name, item[name], want)
		return
	}
	if got, err := strconv.ParseInt(strings.TrimSpace(n.Value), 10, 64); err != nil || got != want {
		tb.Errorf("%s = %s, want %d", name, n.Value, want)
	}
}

func wantS(tb testing.TB, item map[string]types.AttributeValue, name, want string) {
	tb.Helper()
	s, ok := item[name].(*types.AttributeValueMemberS)
	if !ok || s.Value != want {
		tb.Errorf("%s = %#v, want string %q", name, item[name], want)
	}
}
