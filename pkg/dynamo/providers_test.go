package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/dynamo/dynamotest"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

// itemOf is a provider as the table store takes it: its secret left in Secrets
// Manager, the item naming it.
func itemOf(t *testing.T, id string) *oauth.IdentityProvider {
	p := oauthtest.IdentityProvider(t, id)
	p.ClientSecret = ""
	p.SecretID = "pargate/test/idp/" + id
	return p
}

// rawProviderItem reads the item under pk as DynamoDB holds it.
func rawProviderItem(t *testing.T, client *dynamodb.Client, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func newTableStore(t *testing.T) (*dynamo.Store, *dynamodb.Client, string) {
	client := dynamotest.Client(t, dynamotest.Endpoint(t))
	table := dynamotest.NewTable(t, client)
	return dynamo.New(client, table), client, table
}

// Issue 13: the table never holds an upstream's client secret or private key.
func TestProviders_TheItemHoldsNoSecretAndNamesItsSecret(t *testing.T) {
	s, client, table := newTableStore(t)
	withSecret := oauthtest.IdentityProvider(t, "corp")
	if err := s.PutIdentityProvider(t.Context(), withSecret); !errors.Is(err, dynamo.ErrSecretInItem) {
		t.Fatalf("PutIdentityProvider with a client secret = %v, want ErrSecretInItem", err)
	}
	withKey := itemOf(t, "corp")
	withKey.PrivateKey = oauthtest.ProviderPrivateKey
	if err := s.CreateIdentityProvider(t.Context(), withKey); !errors.Is(err, dynamo.ErrSecretInItem) {
		t.Fatalf("CreateIdentityProvider with a private key = %v, want ErrSecretInItem", err)
	}
	if err := s.PutIdentityProvider(t.Context(), itemOf(t, "corp")); err != nil {
		t.Fatal(err)
	}
	item := rawProviderItem(t, client, table, dynamo.PrefixProvider+"corp")
	for name, av := range item {
		if s, ok := av.(*types.AttributeValueMemberS); ok && (strings.Contains(s.Value, "upstream-secret") || strings.Contains(s.Value, `"d"`)) {
			t.Errorf("attribute %s holds a secret", name)
		}
		if name == "client_secret" || name == "private_key" {
			t.Errorf("the item has a %s attribute", name)
		}
	}
	if sid, _ := item["secret_id"].(*types.AttributeValueMemberS); sid == nil || sid.Value != "pargate/test/idp/corp" {
		t.Errorf("secret_id = %v, want the secret's name", item["secret_id"])
	}
	got, err := s.GetIdentityProvider(t.Context(), "corp")
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretID != "pargate/test/idp/corp" || got.ClientSecret != "" || got.Issuer != "https://corp.idp.example.com" {
		t.Errorf("GetIdentityProvider = %+v", got)
	}
}

func TestProviders_CreateRefusesATakenIDAndReplaceOnlyAnExistingOne(t *testing.T) {
	s, _, _ := newTableStore(t)
	ctx := t.Context()
	p := itemOf(t, "corp")
	if err := s.ReplaceIdentityProvider(ctx, p); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("ReplaceIdentityProvider of a missing provider = %v, want ErrNotFound", err)
	}
	if err := s.CreateIdentityProvider(ctx, p); err != nil {
		t.Fatalf("CreateIdentityProvider: %v", err)
	}
	other := itemOf(t, "corp")
	other.Issuer = "https://evil.example"
	if err := s.CreateIdentityProvider(ctx, other); !errors.Is(err, oauth.ErrConflict) {
		t.Fatalf("second CreateIdentityProvider = %v, want ErrConflict", err)
	}
	if got, _ := s.GetIdentityProvider(ctx, "corp"); got.Issuer != p.Issuer {
		t.Errorf("a refused create changed the issuer to %s", got.Issuer)
	}
	if err := s.ReplaceIdentityProvider(ctx, other); err != nil {
		t.Fatalf("ReplaceIdentityProvider: %v", err)
	}
	if got, _ := s.GetIdentityProvider(ctx, "corp"); got.Issuer != other.Issuer {
		t.Errorf("after replace the issuer is %s", got.Issuer)
	}
}

func TestProviders_DisableThenDeleteLeavesNeitherItemNorListing(t *testing.T) {
	s, _, _ := newTableStore(t)
	ctx := t.Context()
	if _, err := s.SetIdentityProviderEnabled(ctx, "corp", false); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("disable of a missing provider = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"corp", "google"} {
		if err := s.CreateIdentityProvider(ctx, itemOf(t, id)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.SetIdentityProviderEnabled(ctx, "corp", false)
	if err != nil || p.Enabled || p.ClientID != "pargate-broker" {
		t.Fatalf("SetIdentityProviderEnabled = %+v, %v", p, err)
	}
	if err := s.DeleteIdentityProvider(ctx, "corp"); err != nil {
		t.Fatalf("DeleteIdentityProvider: %v", err)
	}
	if _, err := s.GetIdentityProvider(ctx, "corp"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("Get after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteIdentityProvider(ctx, "corp"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	list, err := s.ListIdentityProviders(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "google" {
		t.Fatalf("List after delete = %+v, %v; want google alone", list, err)
	}
}

// A crash between the directory's write and the item's leaves an ID without an
// item: List skips it, and the next write of the ID repairs the listing.
func TestProviders_ListSkipsADirectoryIDWithoutItem(t *testing.T) {
	s, client, table := newTableStore(t)
	ctx := t.Context()
	if err := s.CreateIdentityProvider(ctx, itemOf(t, "corp")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIdentityProvider(ctx, itemOf(t, "ghost")); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: dynamo.PrefixProvider + "ghost"}}}); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListIdentityProviders(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "corp" {
		t.Fatalf("List = %+v, %v; want corp alone", list, err)
	}
}

// Clients, users and providers share the table: a client and a provider of one id
// are two records, and listing providers reads no other kind.
func TestProviders_KeysDoNotCollideWithOtherKinds(t *testing.T) {
	s, _, _ := newTableStore(t)
	ctx := t.Context()
	c := oauthtest.Client(t)
	c.ID = "corp"
	if err := s.PutClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	u := oauthtest.User(t)
	u.Username = "corp"
	if err := s.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdentityProvider(ctx, "corp"); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("a client and a user named corp read as a provider: %v", err)
	}
	if err := s.PutIdentityProvider(ctx, itemOf(t, "corp")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetClient(ctx, "corp"); err != nil || got.Name != c.Name {
		t.Errorf("the provider overwrote the client: %+v, %v", got, err)
	}
	if list, err := s.ListIdentityProviders(ctx); err != nil || len(list) != 1 {
		t.Errorf("List = %+v, %v", list, err)
	}
}

// The directory is bounded, so that a List is one BatchGetItem.
func TestProviders_TheDirectoryHoldsAtMostMaxIdentityProviders(t *testing.T) {
	s, _, _ := newTableStore(t)
	ctx := context.WithoutCancel(t.Context())
	for i := range dynamo.MaxIdentityProviders {
		if err := s.PutIdentityProvider(ctx, itemOf(t, fmt.Sprintf("p%03d", i))); err != nil {
			t.Fatalf("provider %d: %v", i, err)
		}
	}
	if err := s.PutIdentityProvider(ctx, itemOf(t, "one-too-many")); err == nil || !strings.Contains(err.Error(), "the most a table holds") {
		t.Fatalf("provider %d = %v, want refused", dynamo.MaxIdentityProviders+1, err)
	}
	// Replacing an existing one still works at the bound.
	if err := s.PutIdentityProvider(ctx, itemOf(t, "p000")); err != nil {
		t.Fatalf("replace at the bound: %v", err)
	}
	list, err := s.ListIdentityProviders(ctx)
	if err != nil || len(list) != dynamo.MaxIdentityProviders || list[0].ID != "p000" {
		t.Fatalf("List = %d providers, %v", len(list), err)
	}
}
