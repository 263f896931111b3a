package dynamo

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pargate/pargate/pkg/oauth"
)

// IndexBySubject is the global secondary index from a subject to its grants: hash
// key `sub`, every attribute projected. Grants and codes carry `sub` (users keep
// theirs as `subject`), so queries filter on the grant prefix. template.yaml and
// CreateTable declare it.
const IndexBySubject = "by-sub"

const attrSub = "sub"

var _ oauth.GrantsBySubject = (*Store)(nil)

// ListGrantsBySubject queries IndexBySubject for the grants of sub, oldest first.
// A GSI read is eventually consistent: a grant created a moment ago may be missing.
func (s *Store) ListGrantsBySubject(ctx context.Context, sub string) ([]*oauth.Grant, error) {
	pages := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:                &s.table,
		IndexName:                aws.String(IndexBySubject),
		KeyConditionExpression:   aws.String("#sub = :sub"),
		FilterExpression:         aws.String("begins_with(#pk, :prefix)"),
		ExpressionAttributeNames: map[string]string{"#sub": attrSub, "#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sub":    &types.AttributeValueMemberS{Value: sub},
			":prefix": &types.AttributeValueMemberS{Value: PrefixGrant},
		},
	})
	out := []*oauth.Grant{}
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", classify(err))
		}
		for _, av := range page.Items {
			var it grantItem
			if err := unmarshal(av, &it); err != nil {
				return nil, fmt.Errorf("list grants: %w", err)
			}
			out = append(out, it.grant())
		}
	}
	slices.SortFunc(out, func(a, b *oauth.Grant) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// bySubjectIndex is IndexBySubject as CreateTable declares it.
func bySubjectIndex() (types.AttributeDefinition, types.GlobalSecondaryIndex) {
	return types.AttributeDefinition{AttributeName: aws.String(attrSub), AttributeType: types.ScalarAttributeTypeS},
		types.GlobalSecondaryIndex{
			IndexName:  aws.String(IndexBySubject),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(attrSub), KeyType: types.KeyTypeHash}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}
}
