package stack

import (
	"encoding/json"
	"strings"
)

// partitionKey is the table's partition key attribute (pkg/dynamo).
const partitionKey = "pk"

type attrValue struct {
	S string `json:"S"`
}

type item map[string]attrValue

func (it item) key() []string {
	if v, ok := it[partitionKey]; ok {
		return []string{v.S}
	}
	return nil
}

type itemRequest struct {
	TableName string `json:"TableName"`
	IndexName string `json:"IndexName"`
	Key       item   `json:"Key"`
	Item      item   `json:"Item"`
	// Query: the partition key's value is one of the expression's values.
	KeyConditionExpression string               `json:"KeyConditionExpression"`
	RawValues              map[string]attrValue `json:"ExpressionAttributeValues"`
	RawNames               map[string]string    `json:"ExpressionAttributeNames"`
}

// accessOf reads what a DynamoDB or Secrets Manager request asks IAM for; it returns
// nil for anything else, or a body it cannot read (which then fails the policy check,
// having no authorization to compare).
func accessOf(op string, body []byte) []Access {
	svc, name, ok := strings.Cut(op, ".")
	if !ok {
		return nil
	}
	switch svc {
	case "secretsmanager":
		var in struct {
			SecretID string `json:"SecretId"`
		}
		if json.Unmarshal(body, &in) != nil {
			return nil
		}
		return []Access{{Action: "secretsmanager:" + name, SecretID: in.SecretID}}
	case "DynamoDB_20120810":
	default:
		return nil
	}
	switch name {
	case "BatchGetItem":
		var in struct {
			RequestItems map[string]struct {
				Keys []item `json:"Keys"`
			} `json:"RequestItems"`
		}
		if json.Unmarshal(body, &in) != nil {
			return nil
		}
		var out []Access
		for table, r := range in.RequestItems {
			a := Access{Action: "dynamodb:BatchGetItem", Table: table, Keys: []string{}}
			for _, k := range r.Keys {
				a.Keys = append(a.Keys, k.key()...)
			}
			out = append(out, a)
		}
		return out
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item item }
				DeleteRequest *struct{ Key item }
			} `json:"RequestItems"`
		}
		if json.Unmarshal(body, &in) != nil {
			return nil
		}
		var out []Access
		for table, rs := range in.RequestItems {
			a := Access{Action: "dynamodb:BatchWriteItem", Table: table, Keys: []string{}}
			for _, r := range rs {
				if r.PutRequest != nil {
					a.Keys = append(a.Keys, r.PutRequest.Item.key()...)
				}
				if r.DeleteRequest != nil {
					a.Keys = append(a.Keys, r.DeleteRequest.Key.key()...)
				}
			}
			out = append(out, a)
		}
		return out
	case "TransactWriteItems", "TransactGetItems":
		var in struct {
			TransactItems []map[string]itemRequest `json:"TransactItems"`
		}
		if json.Unmarshal(body, &in) != nil {
			return nil
		}
		actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var out []Access
		for _, ti := range in.TransactItems {
			for kind, r := range ti {
				action, ok := actions[kind]
				if !ok {
					return nil
				}
				out = append(out, r.access("dynamodb:"+action))
			}
		}
		return out
	}
	var r itemRequest
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	return []Access{r.access("dynamodb:" + name)}
}

// indexPartitionKeys are the partition keys of the table's indexes (template.yaml,
// pkg/dynamo CreateTable): on an index Query, IAM's dynamodb:LeadingKeys is the
// index's partition key value (a subject on by-sub).
var indexPartitionKeys = map[string]string{"by-sub": "sub"}

func (r itemRequest) access(action string) Access {
	a := Access{Action: action, Table: r.TableName, Index: r.IndexName, Keys: []string{}}
	a.Keys = append(a.Keys, r.Key.key()...)
	a.Keys = append(a.Keys, r.Item.key()...)
	if r.KeyConditionExpression != "" {
		// The partition key's condition is `#name = :value` (or `pk = :value`).
		for _, cond := range strings.Split(r.KeyConditionExpression, " AND ") {
			lhs, rhs, ok := strings.Cut(cond, "=")
			if !ok {
				continue
			}
			lhs, rhs = strings.TrimSpace(lhs), strings.TrimSpace(rhs)
			if n, ok := r.RawNames[lhs]; ok {
				lhs = n
			}
			if lhs == partitionKey || (r.IndexName != "" && lhs == indexPartitionKeys[r.IndexName]) {
				a.Keys = append(a.Keys, r.RawValues[rhs].S)
			}
		}
	}
	return a
}
