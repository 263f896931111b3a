package oauth

import "errors"

// ErrTooLarge: the record is larger than the store can hold (DynamoDB's 400 KB item
// limit). It is the client's request that is too large, so it answers 400
// invalid_request, never a server_error (AsError).
var ErrTooLarge = errors.New("record too large for the store")

func tooLargeError(err error) *Error {
	return InvalidRequest("the request is too large").WithCause(err)
}
