package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// This file holds what operators need beyond the services and the seed import
// (cmd/pargate, pkg/admin): creating without overwriting, replacing only what
// exists, listing and deleting clients and users. Every write is one conditional
// request, so two operators racing cannot resurrect a deleted record or overwrite a
// fresh one.

// CreateClient stores c, or returns oauth.ErrConflict if a client with its id exists.
func (s *Store) CreateClient(ctx context.Context, c *oauth.Client) error {
	if err := s.putIf(ctx, toClientItem(c), "attribute_not_exists(#pk)", oauth.ErrConflict); err != nil {
		return fmt.Errorf("create client %s: %w", c.ID, err)
	}
	return nil
}

// ReplaceClient replaces the client with c's id, or returns oauth.ErrNotFound if
// there is none.
func (s *Store) ReplaceClient(ctx context.Context, c *oauth.Client) error {
	if err := s.putIf(ctx, toClientItem(c), "attribute_exists(#pk)", oauth.ErrNotFound); err != nil {
		return fmt.Errorf("replace client %s: %w", c.ID, err)
	}
	return nil
}

// DeleteClient deletes the client, or returns oauth.ErrNotFound if there is none.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if err := s.deleteExisting(ctx, PrefixClient+id); err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	return nil
}

// ListClients returns every client, ordered by id. It scans the whole table (pushed
// requests and codes included), which is fine for an operator's command and never
// done on a request path.
func (s *Store) ListClients(ctx context.Context) ([]*oauth.Client, error) {
	var out []*oauth.Client
	err := s.scanPrefix(ctx, PrefixClient, func(av map[string]types.AttributeValue) error {
		var it clientItem
		if err := unmarshal(av, &it); err != nil {
			return err
		}
		out = append(out, it.client())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	slices.SortFunc(out, func(a, b *oauth.Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// CreateUser stores u, or returns oauth.ErrConflict if the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *oauth.User) error {
	it, err := toUserItem(u)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Username, err)
	}
	if err := s.putIf(ctx, it, "attribute_not_exists(#pk)", oauth.ErrConflict); err != nil {
		return fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return nil
}

// SetUserPassword replaces the user's password hash and returns the updated user,
// or oauth.ErrNotFound if there is no such user. Claims and the disabled flag are
// left as they are. tokens_valid_after moves to now in the same write: the user's
// existing grants are cut off.
func (s *Store) SetUserPassword(ctx context.Context, username, passwordHash string) (*oauth.User, error) {
	u, err := s.updateUser(ctx, username, "password_hash", &types.AttributeValueMemberS{Value: passwordHash}, true)
	if err != nil {
		return nil, fmt.Errorf("set password of user %s: %w", username, err)
	}
	return u, nil
}

// SetUserDisabled disables or enables the user and returns the updated user, or
// oauth.ErrNotFound if there is no such user. Disabling also moves
// tokens_valid_after to now in the same write, so enabling the user again does not
// revive the grants made before.
func (s *Store) SetUserDisabled(ctx context.Context, username string, disabled bool) (*oauth.User, error) {
	u, err := s.updateUser(ctx, username, "disabled", &types.AttributeValueMemberBOOL{Value: disabled}, disabled)
	if err != nil {
		return nil, fmt.Errorf("set disabled of user %s: %w", username, err)
	}
	return u, nil
}

// DeleteUser deletes the user, or returns oauth.ErrNotFound if there is none.
func (s *Store) DeleteUser(ctx context.Context, username string) error {
	if err := s.deleteExisting(ctx, PrefixUser+username); err != nil {
		return fmt.Errorf("delete user %s: %w", username, err)
	}
	return nil
}

// ListUsers returns every user, ordered by username, with a scan like ListClients.
func (s *Store) ListUsers(ctx context.Context) ([]*oauth.User, error) {
	var out []*oauth.User
	err := s.scanPrefix(ctx, PrefixUser, func(av map[string]types.AttributeValue) error {
		var it userItem
		if err := unmarshal(av, &it); err != nil {
			return err
		}
		out = append(out, it.user())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	slices.SortFunc(out, func(a, b *oauth.User) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// putIf writes item if condition (on #pk) holds, and returns failed otherwise.
func (s *Store) putIf(ctx context.Context, item any, condition string, failed error) error {
	av, err := marshal(item)
	if err != nil {
		return err
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                &s.table,
		Item:                     av,
		ConditionExpression:      aws.String(condition),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return failed
	}
	return classify(err)
}

// deleteExisting deletes the item under pk, or returns oauth.ErrNotFound.
func (s *Store) deleteExisting(ctx context.Context, pk string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                &s.table,
		Key:                      keyAV(pk),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return oauth.ErrNotFound
	}
	return classify(err)
}

// updateUser sets one attribute of an existing user and returns the user as written.
//
// With cutOff it also moves tokens_valid_after to now in the same write, so every
// grant of the user made until now stops yielding tokens (oauth.User.TokensValidAfter).
func (s *Store) updateUser(ctx context.Context, username, attr string, value types.AttributeValue, cutOff bool) (*oauth.User, error) {
	update := "SET #attr = :value"
	names := map[string]string{"#pk": attrPK, "#attr": attr}
	values := map[string]types.AttributeValue{":value": value}
	if cutOff {
		update += ", #tva = :tva"
		names["#tva"] = "tokens_valid_after"
		values[":tva"] = number(millis(time.Now()))
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixUser + username),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, oauth.ErrNotFound
	}
	if err != nil {
		return nil, classify(err)
	}
	var it userItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return nil, err
	}
	return it.user(), nil
}

// scanPrefix calls each with every item whose pk starts with prefix, reading the
// whole table page by page with strongly consistent reads.
func (s *Store) scanPrefix(ctx context.Context, prefix string, each func(map[string]types.AttributeValue) error) error {
	pages := dynamodb.NewScanPaginator(s.client, &dynamodb.ScanInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		FilterExpression:          aws.String("begins_with(#pk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":prefix": &types.AttributeValueMemberS{Value: prefix}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return classify(err)
		}
		for _, av := range page.Items {
			if err := each(av); err != nil {
				return err
			}
		}
	}
	return nil
}
