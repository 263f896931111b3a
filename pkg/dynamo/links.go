package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// PrefixLink is the key prefix of the account links of brokered login (issue 13;
// docs/design.md decision 35): link#<oauth.LinkKey>, a SHA-256, so the table holds no
// upstream subject in the clear.
const PrefixLink = "link#"

var _ oauth.AccountLinks = (*Store)(nil)

// linkItem is an account link. The local subject is "subject", as on user items: not
// "sub", which keys the grants-by-user index.
type linkItem struct {
	PK         string `dynamodbav:"pk"`
	ProviderID string `dynamodbav:"provider_id"`
	Username   string `dynamodbav:"username"`
	Subject    string `dynamodbav:"subject"`
	CreatedAt  int64  `dynamodbav:"created_at"`
}

func (it *linkItem) link() *oauth.AccountLink {
	return &oauth.AccountLink{Key: it.PK[len(PrefixLink):], ProviderID: it.ProviderID, Username: it.Username,
		Subject: it.Subject, CreatedAt: fromMillis(it.CreatedAt)}
}

func linkAV(l *oauth.AccountLink, wid string) (map[string]types.AttributeValue, error) {
	av, err := marshal(linkItem{PK: PrefixLink + l.Key, ProviderID: l.ProviderID, Username: l.Username,
		Subject: l.Subject, CreatedAt: millis(l.CreatedAt)})
	if err != nil {
		return nil, err
	}
	av[attrWriteID] = str(wid)
	return av, nil
}

// GetAccountLink returns the link under key with a strongly consistent read, or
// oauth.ErrNotFound.
func (s *Store) GetAccountLink(ctx context.Context, key string) (*oauth.AccountLink, error) {
	var it linkItem
	if err := s.get(ctx, PrefixLink+key, &it); err != nil {
		return nil, fmt.Errorf("get account link: %w", err)
	}
	return it.link(), nil
}

// CreateLinkedUser puts the link and the user, each only if its key is free, in one
// TransactWriteItems; with SingleItemWrites the user first, then the link, and the
// user deleted again when the link is taken (the domain adopts a user left without
// its link, oauth.Service.BrokeredSignIn).
func (s *Store) CreateLinkedUser(ctx context.Context, link *oauth.AccountLink, user *oauth.User) error {
	if link.Username != user.Username {
		return fmt.Errorf("create linked user: the link names %q, not the user", link.Username)
	}
	wid := newWriteID()
	lav, err := linkAV(link, wid)
	if err != nil {
		return fmt.Errorf("create linked user: %w", err)
	}
	uit, err := toUserItem(user)
	if err != nil {
		return fmt.Errorf("create linked user: %w", err)
	}
	uav, err := marshal(uit)
	if err != nil {
		return fmt.Errorf("create linked user: %w", err)
	}
	uav[attrWriteID] = str(wid)
	if s.singleItem {
		if err := s.putNewItem(ctx, uav, wid); err != nil {
			return fmt.Errorf("create linked user: user: %w", err)
		}
		if err := s.putNewItem(ctx, lav, wid); err != nil {
			s.undo(ctx, wid, PrefixUser+user.Username)
			return fmt.Errorf("create linked user: link: %w", err)
		}
		return nil
	}
	reasons, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{s.putNew(lav), s.putNew(uav)},
	})
	switch {
	case err != nil:
		return fmt.Errorf("create linked user: %w", err)
	case writtenBefore(reasons, 0, wid):
		return nil // a retry found this call's own transaction committed
	case reasonIs(reasons, 0, condFailed):
		return fmt.Errorf("create linked user: link: %w", oauth.ErrConflict)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("create linked user: user: %w", oauth.ErrConflict)
	case reasons != nil:
		return fmt.Errorf("create linked user: %w", unexpected(reasons))
	}
	return nil
}

// LinkUser puts the link if its key is free, with the user check (userCheck) in the
// same TransactWriteItems; with SingleItemWrites the check is a strongly consistent
// read before the conditional put.
func (s *Store) LinkUser(ctx context.Context, link *oauth.AccountLink, check oauth.UserCheck) error {
	wid := newWriteID()
	lav, err := linkAV(link, wid)
	if err != nil {
		return fmt.Errorf("link user: %w", err)
	}
	if s.singleItem {
		var u userItem
		err := s.get(ctx, PrefixUser+check.Username, &u)
		if err != nil && !errors.Is(err, oauth.ErrNotFound) {
			return fmt.Errorf("link user: %w", err)
		}
		if err != nil || u.Disabled || u.Subject != check.Sub || u.TokensValidAfter != millis(check.TokensValidAfter) {
			return fmt.Errorf("link user: %w", oauth.ErrUserChanged)
		}
		if err := s.putNewItem(ctx, lav, wid); err != nil {
			return fmt.Errorf("link user: %w", err)
		}
		return nil
	}
	reasons, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{s.putNew(lav), {ConditionCheck: s.userCheck(&check)}},
	})
	switch {
	case err != nil:
		return fmt.Errorf("link user: %w", err)
	case writtenBefore(reasons, 0, wid):
		return nil
	case reasonIs(reasons, 0, condFailed):
		return fmt.Errorf("link user: %w", oauth.ErrConflict)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("link user: %w", oauth.ErrUserChanged)
	case reasons != nil:
		return fmt.Errorf("link user: %w", unexpected(reasons))
	}
	return nil
}

// SetUserClaims replaces the user's claims in one UpdateItem under userCheck's
// condition.
func (s *Store) SetUserClaims(ctx context.Context, check oauth.UserCheck, claims map[string]any) error {
	norm, err := oauth.NormalizeClaims(claims)
	if err != nil {
		return fmt.Errorf("set user claims: %w", err)
	}
	cc := s.userCheck(&check)
	names := cc.ExpressionAttributeNames
	names["#claims"] = "claims"
	values := cc.ExpressionAttributeValues
	update := "REMOVE #claims"
	if norm != nil {
		av, err := attributevalue.MarshalWithOptions(norm, jsonTags)
		if err != nil {
			return fmt.Errorf("set user claims: %w", err)
		}
		values[":claims"] = av
		update = "SET #claims = :claims"
	}
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       cc.Key,
		UpdateExpression:          aws.String(update),
		ConditionExpression:       cc.ConditionExpression,
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("set user claims: %w", oauth.ErrUserChanged)
	}
	if err != nil {
		return fmt.Errorf("set user claims: %w", classify(err))
	}
	return nil
}

// staleCondition is RelinkUser's condition on the link item: it still names the
// stale link's user.
func staleCondition(stale *oauth.AccountLink) (string, map[string]string, map[string]types.AttributeValue) {
	return "attribute_exists(#pk) AND #username = :old_username AND #subject = :old_subject",
		map[string]string{"#pk": attrPK, "#username": "username", "#subject": "subject"},
		map[string]types.AttributeValue{":old_username": str(stale.Username), ":old_subject": str(stale.Subject)}
}

// RelinkUser puts the new link under the stale one's condition and the user only if
// its key is free, in one TransactWriteItems; with SingleItemWrites the user first,
// then the conditional link, the user deleted again when the link changed.
func (s *Store) RelinkUser(ctx context.Context, link, stale *oauth.AccountLink, user *oauth.User) error {
	if link.Username != user.Username || link.Key != stale.Key {
		return fmt.Errorf("relink user: the link names %q under %q, not the user and the stale link", link.Username, link.Key)
	}
	wid := newWriteID()
	lav, err := linkAV(link, wid)
	if err != nil {
		return fmt.Errorf("relink user: %w", err)
	}
	uit, err := toUserItem(user)
	if err != nil {
		return fmt.Errorf("relink user: %w", err)
	}
	uav, err := marshal(uit)
	if err != nil {
		return fmt.Errorf("relink user: %w", err)
	}
	uav[attrWriteID] = str(wid)
	cond, names, values := staleCondition(stale)
	if s.singleItem {
		if err := s.putNewItem(ctx, uav, wid); err != nil {
			return fmt.Errorf("relink user: user: %w", err)
		}
		_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: lav, ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			if written(failed.Item, attrWriteID, wid) {
				return nil // a retry found this call's own link
			}
			s.undo(ctx, wid, PrefixUser+user.Username)
			return fmt.Errorf("relink user: link: %w", oauth.ErrConflict)
		}
		if err != nil {
			s.undo(ctx, wid, PrefixUser+user.Username)
			return fmt.Errorf("relink user: link: %w", classify(err))
		}
		return nil
	}
	reasons, err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: &s.table, Item: lav, ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			s.putNew(uav),
		},
	})
	switch {
	case err != nil:
		return fmt.Errorf("relink user: %w", err)
	case writtenBefore(reasons, 0, wid):
		return nil // a retry found this call's own transaction committed
	case reasonIs(reasons, 0, condFailed):
		return fmt.Errorf("relink user: link: %w", oauth.ErrConflict)
	case reasonIs(reasons, 1, condFailed):
		return fmt.Errorf("relink user: user: %w", oauth.ErrConflict)
	case reasons != nil:
		return fmt.Errorf("relink user: %w", unexpected(reasons))
	}
	return nil
}
