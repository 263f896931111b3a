package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// Single sign-on sessions: one item per session under session# + the SHA-256 of the
// id the browser holds (docs/design.md decision 1), written without transactions, so
// the same code serves the multi-Region mode (SingleItemWrites, no TTL: the deadlines
// are checked in code and in the conditions, decision 3).
const (
	// PrefixSession is the key prefix of the sessions.
	PrefixSession    = "session#"
	attrIdleDeadline = "idle_deadline"
	attrClients      = "clients"
)

// sessionItem is a session as stored; times in epoch milliseconds, ttl in epoch
// seconds. The subject is stored as "subject", not "sub", so sessions stay out of the
// by-sub index of grants. Clients is a string set, so concurrent touches add to it
// without reading.
type sessionItem struct {
	PK           string   `dynamodbav:"pk"`
	Username     string   `dynamodbav:"username"`
	Subject      string   `dynamodbav:"subject"`
	AuthTime     int64    `dynamodbav:"auth_time"`
	AMR          []string `dynamodbav:"amr,omitempty"`
	ACR          string   `dynamodbav:"acr,omitempty"`
	IDP          string   `dynamodbav:"idp,omitempty"`
	Clients      []string `dynamodbav:"clients,omitempty,stringset"`
	IdleDeadline int64    `dynamodbav:"idle_deadline"`
	ExpiresAt    int64    `dynamodbav:"expires_at"`
	TTL          int64    `dynamodbav:"ttl"`
}

func toSessionItem(s *oauth.Session) sessionItem {
	clients := slices.Clone(s.Clients)
	slices.Sort(clients)
	return sessionItem{
		PK:           PrefixSession + s.Key,
		Username:     s.Username,
		Subject:      s.Subject,
		AuthTime:     millis(s.AuthTime),
		AMR:          nilIfEmpty(s.AMR),
		ACR:          s.ACR,
		IDP:          s.IDP,
		Clients:      nilIfEmpty(slices.Compact(clients)),
		IdleDeadline: millis(s.IdleDeadline),
		ExpiresAt:    millis(s.ExpiresAt),
		TTL:          ttl(s.ExpiresAt),
	}
}

func (it *sessionItem) session() *oauth.Session {
	clients := nilIfEmpty(slices.Clone(it.Clients))
	slices.Sort(clients)
	return &oauth.Session{
		Key:          it.PK[len(PrefixSession):],
		Username:     it.Username,
		Subject:      it.Subject,
		AuthTime:     fromMillis(it.AuthTime),
		AMR:          nilIfEmpty(it.AMR),
		ACR:          it.ACR,
		IDP:          it.IDP,
		Clients:      clients,
		IdleDeadline: fromMillis(it.IdleDeadline),
		ExpiresAt:    fromMillis(it.ExpiresAt),
	}
}

// CreateSession creates the item with a conditional PutItem (a retried put that finds
// its own write ID succeeded).
func (s *Store) CreateSession(ctx context.Context, sess *oauth.Session) error {
	av, err := marshal(toSessionItem(sess))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	wid := newWriteID()
	av[attrWriteID] = str(wid)
	if err := s.putNewItem(ctx, av, wid); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession reads the item with a strongly consistent GetItem.
func (s *Store) GetSession(ctx context.Context, key string) (*oauth.Session, error) {
	var it sessionItem
	if err := s.get(ctx, PrefixSession+key, &it); err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return it.session(), nil
}

// sessionLive is the condition of every touch: the session exists and both of its
// deadlines are after now (decision 3: TTL deletes late, the condition decides).
const sessionLive = "attribute_exists(#pk) AND #idle > :now AND #exp > :now"

// TouchSession is one conditional UpdateItem that sets the idle deadline (only
// forward: its condition requires the stored one at or before idle) and ADDs the
// client to the string set. If the condition fails on a live session whose idle
// deadline a concurrent touch moved later, the deadline stays and a second
// conditional UpdateItem adds the client alone, if the session lacks it.
func (s *Store) TouchSession(ctx context.Context, key, clientID string, now, idle time.Time) error {
	names := map[string]string{"#pk": attrPK, "#idle": attrIdleDeadline, "#exp": attrExpiresAt}
	values := map[string]types.AttributeValue{":now": number(millis(now)), ":idle": number(millis(idle))}
	update := "SET #idle = :idle"
	if clientID != "" {
		names["#clients"] = attrClients
		values[":client"] = &types.AttributeValueMemberSS{Value: []string{clientID}}
		update += " ADD #clients :client"
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 keyAV(PrefixSession + key),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(sessionLive + " AND #idle <= :idle"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		if err != nil {
			return fmt.Errorf("touch session: %w", classify(err))
		}
		return nil
	}
	var old sessionItem
	if len(failed.Item) == 0 {
		return fmt.Errorf("touch session: %w", oauth.ErrNotFound)
	}
	if err := unmarshal(failed.Item, &old); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if !old.session().Live(now) {
		return fmt.Errorf("touch session: %w", oauth.ErrNotFound)
	}
	// Live, and its idle deadline is after idle already: a later touch won the slide.
	if clientID == "" || slices.Contains(old.Clients, clientID) {
		return nil
	}
	delete(values, ":idle")
	_, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyAV(PrefixSession + key),
		UpdateExpression:          aws.String("ADD #clients :client"),
		ConditionExpression:       aws.String(sessionLive),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if errors.As(err, &failed) {
		return fmt.Errorf("touch session: %w", oauth.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("touch session: %w", classify(err))
	}
	return nil
}

// EndSession is one DeleteItem returning the item as it was. A retry of a delete
// whose answer was lost finds nothing and says ErrNotFound; the session is ended
// either way.
func (s *Store) EndSession(ctx context.Context, key string) (*oauth.Session, error) {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    &s.table,
		Key:          keyAV(PrefixSession + key),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return nil, fmt.Errorf("end session: %w", classify(err))
	}
	if len(out.Attributes) == 0 {
		return nil, fmt.Errorf("end session: %w", oauth.ErrNotFound)
	}
	var it sessionItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return nil, fmt.Errorf("end session: %w", err)
	}
	return it.session(), nil
}
