package oauthtest

import (
	"context"

	"github.com/pargate/pargate/pkg/oauth"
)

// MethodDenyPushedRequest is the Faulty name of oauth.Denials.DenyPushedRequest.
const MethodDenyPushedRequest = "DenyPushedRequest"

// DenyPushedRequest logs the consumed request's key and the client.
func (f *Faulty) DenyPushedRequest(ctx context.Context, consume oauth.Consume) error {
	return f.do(ctx, Call{Method: MethodDenyPushedRequest, Keys: []string{consume.Key}, ClientID: consume.ClientID}, func() error {
		return f.inner.DenyPushedRequest(ctx, consume)
	})
}
