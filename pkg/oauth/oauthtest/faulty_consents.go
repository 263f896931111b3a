package oauthtest

import (
	"context"

	"github.com/pargate/pargate/pkg/oauth"
)

// Method names of oauth.Consents.
const (
	MethodRememberConsent = "RememberConsent"
	MethodGetConsent      = "GetConsent"
	MethodForgetConsent   = "ForgetConsent"
)

// RememberConsent logs the consent key and the client.
func (f *Faulty) RememberConsent(ctx context.Context, c *oauth.Consent) error {
	return f.do(ctx, Call{Method: MethodRememberConsent, Keys: []string{c.Key}, ClientID: c.ClientID}, func() error {
		return f.inner.RememberConsent(ctx, c)
	})
}

// GetConsent logs the consent key.
func (f *Faulty) GetConsent(ctx context.Context, key string) (*oauth.Consent, error) {
	var out *oauth.Consent
	err := f.do(ctx, Call{Method: MethodGetConsent, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.GetConsent(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForgetConsent logs the consent key.
func (f *Faulty) ForgetConsent(ctx context.Context, key string) error {
	return f.do(ctx, Call{Method: MethodForgetConsent, Keys: []string{key}}, func() error {
		return f.inner.ForgetConsent(ctx, key)
	})
}
