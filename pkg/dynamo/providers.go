package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// Upstream identity providers (issue 13; docs/design.md decision 36): one item per
// provider under idp# + ID with every oauth.IdentityProvider field except its
// secrets, which live in Secrets Manager (the item names the secret, secret_id),
// and one directory item under idp# alone (an ID is never empty) holding the set of
// IDs, so that listing is a GetItem and a BatchGetItem of idp# keys: the authorize
// function's role reads idp#* items only, with no Scan of the table (the functions'
// roles: item actions under dynamodb:LeadingKeys).
//
// No transaction: the directory is written first and cleaned up last, so a crash
// between the two writes leaves at most an ID in the directory without an item,
// which List skips; the next write of that ID repairs it. This holds in both store
// modes (SingleItemWrites included).
const PrefixProvider = "idp#"

// keyProviderDirectory is the directory item's key.
const keyProviderDirectory = PrefixProvider

// attrProviderIDs is the directory's string set of provider IDs.
const attrProviderIDs = "ids"

// MaxIdentityProviders bounds the directory (and so a List): far more than a
// deployment offers on a login page, and one BatchGetItem of 100 keys per call.
const MaxIdentityProviders = 100

// ErrSecretInItem is returned when a provider handed to the table store carries its
// client secret or private key: those are kept in Secrets Manager only.
var ErrSecretInItem = errors.New("an identity provider's client_secret and private_key are never written to the table (they belong in Secrets Manager)")

// providerItem is a provider as stored: no secret, only the secret's name.
type providerItem struct {
	PK                      string            `dynamodbav:"pk"`
	DisplayName             string            `dynamodbav:"display_name"`
	Issuer                  string            `dynamodbav:"issuer"`
	ClientID                string            `dynamodbav:"client_id"`
	TokenEndpointAuthMethod string            `dynamodbav:"token_endpoint_auth_method,omitempty"`
	Scope                   string            `dynamodbav:"scope,omitempty"`
	Claims                  map[string]string `dynamodbav:"claims,omitempty"`
	TrustEmail              bool              `dynamodbav:"trust_email"`
	Enabled                 bool              `dynamodbav:"enabled"`
	SecretID                string            `dynamodbav:"secret_id,omitempty"`
}

func toProviderItem(p *oauth.IdentityProvider) (providerItem, error) {
	if p.ClientSecret != "" || p.PrivateKey != "" {
		return providerItem{}, ErrSecretInItem
	}
	if p.ID == "" {
		return providerItem{}, errors.New("identity provider without an id")
	}
	var claims map[string]string
	if len(p.Claims) > 0 {
		claims = maps.Clone(p.Claims)
	}
	return providerItem{
		PK:                      PrefixProvider + p.ID,
		DisplayName:             p.DisplayName,
		Issuer:                  p.Issuer,
		ClientID:                p.ClientID,
		TokenEndpointAuthMethod: p.TokenEndpointAuthMethod,
		Scope:                   p.Scope,
		Claims:                  claims,
		TrustEmail:              p.TrustEmail,
		Enabled:                 p.Enabled,
		SecretID:                p.SecretID,
	}, nil
}

func (it *providerItem) provider() *oauth.IdentityProvider {
	var claims map[string]string
	if len(it.Claims) > 0 {
		claims = it.Claims
	}
	return &oauth.IdentityProvider{
		ID:                      it.PK[len(PrefixProvider):],
		DisplayName:             it.DisplayName,
		Issuer:                  it.Issuer,
		ClientID:                it.ClientID,
		TokenEndpointAuthMethod: it.TokenEndpointAuthMethod,
		Scope:                   it.Scope,
		Claims:                  claims,
		TrustEmail:              it.TrustEmail,
		Enabled:                 it.Enabled,
		SecretID:                it.SecretID,
	}
}

// GetIdentityProvider returns the provider, enabled or not, without its secret
// (SecretID names it), or oauth.ErrNotFound; a strongly consistent GetItem.
func (s *Store) GetIdentityProvider(ctx context.Context, id string) (*oauth.IdentityProvider, error) {
	if id == "" {
		return nil, fmt.Errorf("get identity provider: %w", oauth.ErrNotFound)
	}
	var it providerItem
	if err := s.get(ctx, PrefixProvider+id, &it); err != nil {
		return nil, fmt.Errorf("get identity provider: %w", err)
	}
	return it.provider(), nil
}

// ListIdentityProviders returns every provider, enabled or not, ordered by ID,
// without their secrets: a GetItem of the directory and a BatchGetItem of its IDs
// (both strongly consistent; unprocessed keys asked for again a bounded number of
// times). An ID of the directory without an item is left out.
func (s *Store) ListIdentityProviders(ctx context.Context) ([]*oauth.IdentityProvider, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: keyAV(keyProviderDirectory), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("list identity providers: %w", classify(err))
	}
	var ids []string
	if set, ok := out.Item[attrProviderIDs].(*types.AttributeValueMemberSS); ok {
		ids = slices.Clone(set.Value)
	}
	slices.Sort(ids)
	if len(ids) > MaxIdentityProviders {
		ids = ids[:MaxIdentityProviders]
	}
	list := make([]*oauth.IdentityProvider, 0, len(ids))
	if len(ids) == 0 {
		return list, nil
	}
	request := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		request[i] = keyAV(PrefixProvider + id)
	}
	pending := map[string]types.KeysAndAttributes{s.table: {Keys: request, ConsistentRead: aws.Bool(true)}}
	for range loginAttempts {
		res, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, fmt.Errorf("list identity providers: %w", classify(err))
		}
		for _, av := range res.Responses[s.table] {
			var it providerItem
			if err := unmarshal(av, &it); err != nil {
				return nil, fmt.Errorf("list identity providers: %w", err)
			}
			list = append(list, it.provider())
		}
		if len(res.UnprocessedKeys[s.table].Keys) == 0 {
			slices.SortFunc(list, func(a, b *oauth.IdentityProvider) int { return strings.Compare(a.ID, b.ID) })
			return list, nil
		}
		pending = res.UnprocessedKeys
	}
	return nil, fmt.Errorf("list identity providers: %w: keys left unprocessed", oauth.ErrUnavailable)
}

// PutIdentityProvider creates or replaces the provider's item (oauth.ProviderRegistry,
// the seed import through secrets.ProviderWriter); p must carry no secret
// (ErrSecretInItem).
func (s *Store) PutIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error {
	it, err := toProviderItem(p)
	if err != nil {
		return fmt.Errorf("put identity provider: %w", err)
	}
	if err := s.addProviderID(ctx, p.ID); err != nil {
		return fmt.Errorf("put identity provider %s: %w", p.ID, err)
	}
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("put identity provider %s: %w", p.ID, err)
	}
	return nil
}

// CreateIdentityProvider stores p, or returns oauth.ErrConflict if a provider with
// its ID exists.
func (s *Store) CreateIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error {
	it, err := toProviderItem(p)
	if err != nil {
		return fmt.Errorf("create identity provider: %w", err)
	}
	if err := s.addProviderID(ctx, p.ID); err != nil {
		return fmt.Errorf("create identity provider %s: %w", p.ID, err)
	}
	if err := s.putIf(ctx, it, "attribute_not_exists(#pk)", oauth.ErrConflict); err != nil {
		return fmt.Errorf("create identity provider %s: %w", p.ID, err)
	}
	return nil
}

// ReplaceIdentityProvider replaces the provider with p's ID, or returns
// oauth.ErrNotFound if there is none.
func (s *Store) ReplaceIdentityProvider(ctx context.Context, p *oauth.IdentityProvider) error {
	it, err := toProviderItem(p)
	if err != nil {
		return fmt.Errorf("replace identity provider: %w", err)
	}
	if err := s.putIf(ctx, it, "attribute_exists(#pk)", oauth.ErrNotFound); err != nil {
		return fmt.Errorf("replace identity provider %s: %w", p.ID, err)
	}
	// Repairs a directory that lost the ID (a crash of an earlier write).
	if err := s.addProviderID(ctx, p.ID); err != nil {
		return fmt.Errorf("replace identity provider %s: %w", p.ID, err)
	}
	return nil
}

// SetIdentityProviderEnabled enables or disables the provider and returns it as
// written, or oauth.ErrNotFound.
func (s *Store) SetIdentityProviderEnabled(ctx context.Context, id string, enabled bool) (*oauth.IdentityProvider, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixProvider + id),
		UpdateExpression:          aws.String("SET #enabled = :enabled"),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#enabled": "enabled"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":enabled": &types.AttributeValueMemberBOOL{Value: enabled}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, fmt.Errorf("set enabled of identity provider %s: %w", id, oauth.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("set enabled of identity provider %s: %w", id, classify(err))
	}
	var it providerItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return nil, err
	}
	return it.provider(), nil
}

// DeleteIdentityProvider deletes the provider's item and its ID from the directory,
// or returns oauth.ErrNotFound if there is no item (the directory is cleaned up
// either way).
func (s *Store) DeleteIdentityProvider(ctx context.Context, id string) error {
	err := s.deleteExisting(ctx, PrefixProvider+id)
	if err != nil && !errors.Is(err, oauth.ErrNotFound) {
		return fmt.Errorf("delete identity provider %s: %w", id, err)
	}
	_, derr := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(keyProviderDirectory),
		UpdateExpression:          aws.String("DELETE #ids :id"),
		ExpressionAttributeNames:  map[string]string{"#ids": attrProviderIDs},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberSS{Value: []string{id}}},
	})
	if derr != nil {
		return fmt.Errorf("delete identity provider %s from the directory: %w", id, classify(derr))
	}
	if err != nil {
		return fmt.Errorf("delete identity provider %s: %w", id, err)
	}
	return nil
}

// addProviderID adds id to the directory (idempotent), refusing a directory that
// would hold more than MaxIdentityProviders.
func (s *Store) addProviderID(ctx context.Context, id string) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              keyAV(keyProviderDirectory),
		UpdateExpression: aws.String("ADD #ids :id"),
		// Adding an ID already there never fails; a new one only below the bound.
		ConditionExpression:      aws.String("attribute_not_exists(#ids) OR contains(#ids, :one) OR size(#ids) < :max"),
		ExpressionAttributeNames: map[string]string{"#ids": attrProviderIDs},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id":  &types.AttributeValueMemberSS{Value: []string{id}},
			":one": str(id),
			":max": number(MaxIdentityProviders),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("there are %d identity providers already, the most a table holds", MaxIdentityProviders)
	}
	return classify(err)
}
