package dynamo

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/oauth"
)

// Remembered consents (docs/design.md decision 32): one item per (user, client)
// under consent# + oauth.ConsentKey (a SHA-256, decision 1), replaced by each
// approval on the consent page. Single items in both modes (a plain PutItem, a
// GetItem, a DeleteItem), so the multi-Region mode (SingleItemWrites) needs nothing
// else; expiry is checked in code (decision 3), TTL only deletes.
const PrefixConsent = "consent#"

// consentItem is a consent as stored; times in epoch milliseconds, ttl in epoch
// seconds. The subject is stored as "subject", not "sub", so consents stay out of
// the by-sub index of grants.
type consentItem struct {
	PK        string   `dynamodbav:"pk"`
	Subject   string   `dynamodbav:"subject"`
	ClientID  string   `dynamodbav:"client_id"`
	Scopes    []string `dynamodbav:"scope,omitempty"`
	Resources []string `dynamodbav:"resource,omitempty"`
	GrantedAt int64    `dynamodbav:"granted_at"`
	ExpiresAt int64    `dynamodbav:"expires_at"`
	TTL       int64    `dynamodbav:"ttl"`
}

// RememberConsent creates or replaces the item with one PutItem.
func (s *Store) RememberConsent(ctx context.Context, c *oauth.Consent) error {
	it := consentItem{
		PK:        PrefixConsent + c.Key,
		Subject:   c.Subject,
		ClientID:  c.ClientID,
		Scopes:    nilIfEmpty(slices.Clone(c.Scopes)),
		Resources: nilIfEmpty(slices.Clone(c.Resources)),
		GrantedAt: millis(c.GrantedAt),
		ExpiresAt: millis(c.ExpiresAt),
		TTL:       ttl(c.ExpiresAt),
	}
	if err := s.put(ctx, it); err != nil {
		return fmt.Errorf("remember consent: %w", err)
	}
	return nil
}

// GetConsent reads the item with a strongly consistent GetItem.
func (s *Store) GetConsent(ctx context.Context, key string) (*oauth.Consent, error) {
	var it consentItem
	if err := s.get(ctx, PrefixConsent+key, &it); err != nil {
		return nil, fmt.Errorf("get consent: %w", err)
	}
	return &oauth.Consent{
		Key:       it.PK[len(PrefixConsent):],
		Subject:   it.Subject,
		ClientID:  it.ClientID,
		Scopes:    nilIfEmpty(it.Scopes),
		Resources: nilIfEmpty(it.Resources),
		GrantedAt: fromMillis(it.GrantedAt),
		ExpiresAt: fromMillis(it.ExpiresAt),
	}, nil
}

// ForgetConsent deletes the item with one DeleteItem; none is not an error.
func (s *Store) ForgetConsent(ctx context.Context, key string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: keyAV(PrefixConsent + key)}); err != nil {
		return fmt.Errorf("forget consent: %w", classify(err))
	}
	return nil
}
