package oauthtest

import (
	"context"
	"errors"

	"github.com/pargate/pargate/pkg/oauth"
)

// MethodListGrantsBySubject is the method name of oauth.GrantsBySubject.
const MethodListGrantsBySubject = "ListGrantsBySubject"

// ListGrantsBySubject logs the subject, when the inner store can list grants by
// subject (oauth.GrantsBySubject); a logout finds a session's grants with it.
func (f *Faulty) ListGrantsBySubject(ctx context.Context, sub string) ([]*oauth.Grant, error) {
	g, ok := f.inner.(oauth.GrantsBySubject)
	if !ok {
		return nil, errors.New("the inner store cannot list grants by subject")
	}
	var out []*oauth.Grant
	err := f.do(ctx, Call{Method: MethodListGrantsBySubject, Keys: []string{sub}}, func() (err error) {
		out, err = g.ListGrantsBySubject(ctx, sub)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
