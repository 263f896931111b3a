package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/pargate/pargate/pkg/secrets"
)

// customResourceEvent is the request CloudFormation sends a custom resource's function
// (AWS CloudFormation User Guide, "Custom resources": request objects).
type customResourceEvent struct {
	RequestType        string `json:"RequestType"` // Create, Update or Delete
	ResponseURL        string `json:"ResponseURL"`
	StackID            string `json:"StackId"`
	RequestID          string `json:"RequestId"`
	LogicalResourceID  string `json:"LogicalResourceId"`
	PhysicalResourceID string `json:"PhysicalResourceId"` // Update and Delete only
	ResourceProperties struct {
		SecretID string `json:"SecretId"`
	} `json:"ResourceProperties"`
}

// customResourceResponse is what the function PUTs to ResponseURL (User Guide,
// "Custom resources": response objects).
type customResourceResponse struct {
	Status             string            `json:"Status"` // SUCCESS or FAILED
	Reason             string            `json:"Reason,omitempty"`
	PhysicalResourceID string            `json:"PhysicalResourceId"`
	StackID            string            `json:"StackId"`
	RequestID          string            `json:"RequestId"`
	LogicalResourceID  string            `json:"LogicalResourceId"`
	Data               map[string]string `json:"Data,omitempty"`
}

// responseMargin is kept from the invocation's deadline for the response: a
// custom resource that never answers holds the stack for an hour.
const responseMargin = 3 * time.Second

// firstKey answers the stack's FirstSigningKey custom resource. Create and Update
// make sure the key secret holds a key set (Rotator.EnsureKeySet), so the stack only
// reports success once the first signing key exists and fails otherwise; Delete is a
// no-op that always succeeds (the secret is deleted with the stack, and a failed
// Create is rolled back with a Delete that must not fail). The physical id is the
// secret's, and stays the one CloudFormation already has on Update and Delete.
//
// The error returned is only that of delivering the response: then Lambda retries the
// (asynchronous) invocation, and EnsureKeySet changes nothing the second time.
func firstKey(ctx context.Context, rot *secrets.Rotator, hc *http.Client, log *slog.Logger, ev customResourceEvent) error {
	resp := customResourceResponse{
		Status:             "SUCCESS",
		PhysicalResourceID: ev.PhysicalResourceID,
		StackID:            ev.StackID,
		RequestID:          ev.RequestID,
		LogicalResourceID:  ev.LogicalResourceID,
	}
	if resp.PhysicalResourceID == "" {
		resp.PhysicalResourceID = "first-signing-key"
		if ev.ResourceProperties.SecretID != "" {
			resp.PhysicalResourceID = "first-signing-key:" + ev.ResourceProperties.SecretID
		}
	}
	log = log.With("request_type", ev.RequestType, "logical_id", ev.LogicalResourceID, "request_id", ev.RequestID)
	switch ev.RequestType {
	case "Delete":
		log.InfoContext(ctx, "delete: nothing to do")
	case "Create", "Update":
		work, cancel := ctx, context.CancelFunc(func() {})
		if d, ok := ctx.Deadline(); ok {
			work, cancel = context.WithDeadline(ctx, d.Add(-responseMargin))
		}
		set, err := rot.EnsureKeySet(work, ev.ResourceProperties.SecretID, ev.RequestID)
		cancel()
		if err != nil {
			log.ErrorContext(ctx, "first key set failed", "error", err)
			resp.Status = "FAILED"
			resp.Reason = "the first signing key could not be created: " + err.Error() + " (see the rotation function's log)"
		} else {
			resp.Data = map[string]string{"ActiveKeyId": set.Active().KeyID}
		}
	default:
		resp.Status = "FAILED"
		resp.Reason = fmt.Sprintf("unknown RequestType %q", ev.RequestType)
	}
	return respond(ctx, hc, ev.ResponseURL, resp)
}

// respond PUTs the response to the pre-signed S3 URL. The URL is signed without a
// Content-Type, so the request must not send one.
func respond(ctx context.Context, hc *http.Client, url string, resp customResourceResponse) error {
	if len(resp.Reason) > 1000 {
		resp.Reason = resp.Reason[:1000]
	}
	body, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("custom resource response: %w", err)
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("custom resource response: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("custom resource response: %s", res.Status)
	}
	return nil
}
