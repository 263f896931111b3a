package dynamo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pargate/pargate/pkg/oauth"
)

// retryLater reports whether an error code, beyond the modelled exception types,
// means "throttled or briefly unavailable", as AWS services and the proxies in front
// of them send them.
func retryLater(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
		"RequestThrottledException", "TooManyRequestsException", "SlowDown",
		"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
		"RequestTimeout", "RequestTimeoutException", "LimitExceededException":
		return true
	}
	return false
}

// classify wraps err in oauth.ErrUnavailable when it means DynamoDB is throttled,
// failing or out of reach, after the SDK's own retries gave up: the edge then answers
// 503 temporarily_unavailable instead of a server_error (docs/design.md decision 10).
// Other errors are returned as they are.
func classify(err error) error {
	if tooLarge(err) {
		return fmt.Errorf("%w: %w", oauth.ErrTooLarge, err)
	}
	if err == nil || !unavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", oauth.ErrUnavailable, err)
}

func unavailable(err error) bool {
	var (
		throughput   *types.ProvisionedThroughputExceededException
		requestLimit *types.RequestLimitExceeded
		throttling   *types.ThrottlingException
		internal     *types.InternalServerError
		conflict     *types.TransactionConflictException
		replicated   *types.ReplicatedWriteConflictException
		netErr       net.Error // dial, reset, timeout; context.DeadlineExceeded is one too
		apiErr       smithy.APIError
		respErr      *smithyhttp.ResponseError
	)
	switch {
	case errors.As(err, &throughput), errors.As(err, &requestLimit), errors.As(err, &throttling),
		errors.As(err, &internal), errors.As(err, &conflict), errors.As(err, &replicated):
		return true
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &apiErr) && (apiErr.ErrorFault() == smithy.FaultServer || retryLater(apiErr.ErrorCode())):
		return true
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		return true
	}
	return false
}
