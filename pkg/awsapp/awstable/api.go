package awstable

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pargate/pargate/pkg/dynamo"
)

// operations are the client's methods the store calls (dynamo.API), held as method
// values: the client itself never becomes an interface value, so the linker keeps
// these operations of it and drops the other fifty-odd, even in a binary that
// reflects on methods (the authorize function's html/template does; docs/design.md
// decision 25).
type operations struct {
	getItem            func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	batchGetItem       func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	putItem            func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	updateItem         func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	deleteItem         func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	transactWriteItems func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	query              func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	scan               func(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ dynamo.API = (*operations)(nil)

func operationsOf(c *dynamodb.Client) *operations {
	return &operations{
		getItem: c.GetItem, batchGetItem: c.BatchGetItem, putItem: c.PutItem, updateItem: c.UpdateItem,
		deleteItem: c.DeleteItem, transactWriteItems: c.TransactWriteItems, query: c.Query, scan: c.Scan,
	}
}

func (o *operations) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return o.getItem(ctx, in, optFns...)
}

func (o *operations) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return o.batchGetItem(ctx, in, optFns...)
}

func (o *operations) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return o.putItem(ctx, in, optFns...)
}

func (o *operations) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return o.updateItem(ctx, in, optFns...)
}

func (o *operations) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return o.deleteItem(ctx, in, optFns...)
}

func (o *operations) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return o.transactWriteItems(ctx, in, optFns...)
}

func (o *operations) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return o.query(ctx, in, optFns...)
}

func (o *operations) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return o.scan(ctx, in, optFns...)
}
