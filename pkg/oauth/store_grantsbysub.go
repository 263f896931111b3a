package oauth

import "context"

// GrantsBySubject finds a user's grants, for the operator's `pargate user
// revoke-grants` and `pargate grants list` (the services never need it: they reach a
// grant from its tokens). On DynamoDB it is a query of a global secondary index, so
// a grant created a moment ago may be missing; revoking a user's grants should be
// paired with disabling the user or changing the password, which cuts off every
// grant at once (User.TokensValidAfter).
type GrantsBySubject interface {
	// ListGrantsBySubject returns every stored grant whose Subject is sub, revoked
	// and expired ones included, oldest first (ties by ID); none is an empty list.
	ListGrantsBySubject(ctx context.Context, sub string) ([]*Grant, error)
}
