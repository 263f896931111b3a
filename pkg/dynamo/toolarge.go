package dynamo

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"
)

// tooLarge reports whether err is DynamoDB refusing an item over its 400 KB limit: a
// ValidationException "Item size has exceeded the maximum allowed size" (also inside
// a cancelled transaction, whose message carries the reason).
func tooLarge(err error) bool {
	var apiErr smithy.APIError
	if err == nil || !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "ValidationException", "TransactionCanceledException":
		return strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "item size")
	}
	return false
}
