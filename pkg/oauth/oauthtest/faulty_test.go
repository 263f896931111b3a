package oauthtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func TestFaulty_BeforeWritesNothing(t *testing.T) {
	now := time.Now()
	inner := memory.New()
	f := oauthtest.NewFaulty(inner)
	f.FailMethod(oauthtest.MethodCreatePushedRequest, oauthtest.Before)
	r := oauthtest.PushedRequest(t, now)
	err := f.CreatePushedRequest(t.Context(), r)
	if !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, oauthtest.ErrInjected) {
		t.Fatalf("got %v, want the injected outage", err)
	}
	if _, err := inner.GetPushedRequest(t.Context(), r.Key); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("the failed call wrote: %v", err)
	}
}

func TestFaulty_AfterWriteKeepsTheWrite(t *testing.T) {
	now := time.Now()
	inner := memory.New()
	f := oauthtest.NewFaulty(inner)
	r := oauthtest.PushedRequest(t, now)
	if err := inner.CreatePushedRequest(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	code := oauthtest.Code(t, now)
	f.FailMethod(oauthtest.MethodIssueCode, oauthtest.AfterWrite)
	grant := oauthtest.Grant(t, now)
	grant.ID = code.GrantID
	err := f.IssueCode(t.Context(), oauth.Consume{Key: r.Key, ClientID: oauthtest.ClientID, Now: now}, code, grant)
	if !errors.Is(err, oauth.ErrUnavailable) {
		t.Fatalf("got %v, want the injected outage", err)
	}
	got, err := inner.GetPushedRequest(t.Context(), r.Key)
	if err != nil || got.ConsumedAt == nil {
		t.Errorf("the request was not consumed behind the fault: %v", err)
	}
	if _, err := inner.GetGrant(t.Context(), grant.ID); err != nil {
		t.Errorf("the grant was not stored behind the fault: %v", err)
	}
	// A value read behind a lost response is not handed out.
	f.Heal()
	f.FailMethod(oauthtest.MethodConsumeCode, oauthtest.AfterWrite)
	c, err := f.ConsumeCode(t.Context(), code.Key, oauthtest.ClientID, now)
	if c != nil || !errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("ConsumeCode after write: %v, %v; want nil and the outage", c, err)
	}
	if _, err := inner.ConsumeCode(t.Context(), code.Key, oauthtest.ClientID, now); !errors.Is(err, oauth.ErrUsed) {
		t.Errorf("the code was not consumed behind the fault: %v", err)
	}
}

func TestFaulty_NthCountsFromInjection(t *testing.T) {
	f := oauthtest.NewFaulty(memory.New())
	ctx := t.Context()
	_, _ = f.GetClient(ctx, "a") // before the fault: not counted
	f.FailNth(2, oauthtest.Before)
	_, err1 := f.GetClient(ctx, "b")
	_, err2 := f.GetUser(ctx, "c")
	_, err3 := f.GetClient(ctx, "d")
	if errors.Is(err1, oauth.ErrUnavailable) || !errors.Is(err2, oauth.ErrUnavailable) || errors.Is(err3, oauth.ErrUnavailable) {
		t.Errorf("got %v, %v, %v; want only the second call after the injection to fail", err1, err2, err3)
	}
	calls := f.Calls()
	if len(calls) != 4 || calls[2].Method != oauthtest.MethodGetUser || !calls[2].Injected || calls[2].Keys[0] != "c" {
		t.Errorf("calls %+v", calls)
	}
	if inj := f.Injected(); len(inj) != 1 || inj[0].Method != oauthtest.MethodGetUser {
		t.Errorf("injected %+v", inj)
	}
}

func TestFaulty_MethodFaultsAndHeal(t *testing.T) {
	f := oauthtest.NewFaulty(memory.New())
	ctx := t.Context()
	f.FailMethod(oauthtest.MethodGetUser, oauthtest.Before)
	f.Inject(oauthtest.Fault{Method: oauthtest.MethodGetClient, Nth: 2, Err: errors.New("other")})
	for i := range 3 {
		if _, err := f.GetUser(ctx, "u"); !errors.Is(err, oauth.ErrUnavailable) {
			t.Errorf("GetUser %d: %v", i, err)
		}
	}
	_, err1 := f.GetClient(ctx, "c")
	_, err2 := f.GetClient(ctx, "c")
	if !errors.Is(err1, oauth.ErrNotFound) || err2 == nil || err2.Error() != "GetClient: other" {
		t.Errorf("GetClient: %v, %v", err1, err2)
	}
	f.Heal()
	if _, err := f.GetUser(ctx, "u"); !errors.Is(err, oauth.ErrNotFound) {
		t.Errorf("after Heal: %v", err)
	}
}

func TestFaulty_HangEndsWithTheContext(t *testing.T) {
	f := oauthtest.NewFaulty(memory.New())
	f.FailMethod(oauthtest.MethodGetPushedRequest, oauthtest.Hang)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.GetPushedRequest(ctx, "k")
	if !errors.Is(err, oauth.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v", err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("returned after %v, before the deadline", d)
	}
}
