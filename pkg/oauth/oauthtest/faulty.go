package oauthtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/oauth"
)

// ErrInjected is what Faulty answers a call it fails: a store outage, as DynamoDB
// throttling or a timeout comes back from the real stores (it wraps
// oauth.ErrUnavailable).
var ErrInjected = fmt.Errorf("injected fault: %w", oauth.ErrUnavailable)

// Method names of oauth.Store, as Faulty logs them and as Fault.Method names them.
const (
	MethodGetClient           = "GetClient"
	MethodGetUser             = "GetUser"
	MethodCreatePushedRequest = "CreatePushedRequest"
	MethodGetPushedRequest    = "GetPushedRequest"
	MethodIssueCode           = "IssueCode"
	MethodConsumeCode         = "ConsumeCode"
	MethodGetGrant            = "GetGrant"
	MethodRevokeGrant         = "RevokeGrant"
	MethodRecordRevocation    = "RecordRevocation"
	MethodCreateRefreshToken  = "CreateRefreshToken"
	MethodGetRefreshToken     = "GetRefreshToken"
	MethodRotateRefreshToken  = "RotateRefreshToken"
	MethodUseOnce             = "UseOnce"
)

// Mode is how a fault strikes.
type Mode int

const (
	// Before fails the call without calling the store: nothing is written, as when a
	// request is throttled or never reaches the store.
	Before Mode = iota
	// AfterWrite calls the store and then returns the fault instead of its answer:
	// whatever the call wrote stays written, as when the response to a write is lost
	// (a timeout or a reset connection after the store committed).
	AfterWrite
	// Hang blocks until the call's context is done and returns the context's error
	// wrapped in ErrInjected, without calling the store: a store that does not answer,
	// for tests of deadlines.
	Hang
)

func (m Mode) String() string {
	switch m {
	case Before:
		return "before"
	case AfterWrite:
		return "after-write"
	case Hang:
		return "hang"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Fault says which calls fail and how.
type Fault struct {
	// Method limits the fault to calls of one method (a Method… constant); empty
	// means calls of any method.
	Method string
	// Nth fails only the nth matching call (1 is the first) made after the fault was
	// added; 0 fails every matching call.
	Nth  int
	Mode Mode
	// Err is returned for a failed call; nil means ErrInjected.
	Err error

	seen int
}

// Call is one call that reached Faulty, in the order they came.
type Call struct {
	Method string
	// Keys are the call's record keys, in argument order: the client ID, username,
	// pushed request key (CreatePushedRequest, GetPushedRequest), code key
	// (ConsumeCode), grant ID (GetGrant, RevokeGrant, RecordRevocation), refresh token key
	// (GetRefreshToken), replay key (UseOnce); IssueCode: the consumed request's key,
	// the code key, the grant ID; CreateRefreshToken: the token key, its grant ID;
	// RotateRefreshToken: the old token key, the next token key, the grant ID.
	Keys []string
	// ClientID is the client the call names (ConsumeCode, RotateRefreshToken,
	// IssueCode), if any.
	ClientID string
	// Injected is set when a fault answered the call; Mode says which.
	Injected bool
	Mode     Mode
	// Err is the error the caller got (nil on success).
	Err error
}

// Faulty is an oauth.Store that passes every call to another store, except the
// calls its faults pick, which fail with an error wrapping oauth.ErrUnavailable —
// before the inner store is called, or after it wrote (a lost response). It logs
// every call, so a test can learn the store calls of a flow from a clean run and
// then fail each of them in turn. It is safe for concurrent use.
type Faulty struct {
	inner oauth.Store

	mu     sync.Mutex
	faults []*Fault
	calls  []Call
}

var _ oauth.Store = (*Faulty)(nil)

// NewFaulty wraps inner. Without faults it changes nothing.
func NewFaulty(inner oauth.Store) *Faulty { return &Faulty{inner: inner} }

// Inner returns the wrapped store, for checking state behind the faults.
func (f *Faulty) Inner() oauth.Store { return f.inner }

// Inject adds a fault; its Nth counts calls from now on.
func (f *Faulty) Inject(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fault.seen = 0
	f.faults = append(f.faults, &fault)
}

// FailNth fails the nth call of any method made from now on (1 is the next).
func (f *Faulty) FailNth(n int, mode Mode) { f.Inject(Fault{Nth: n, Mode: mode}) }

// FailMethod fails every call of method from now on.
func (f *Faulty) FailMethod(method string, mode Mode) {
	f.Inject(Fault{Method: method, Mode: mode})
}

// Heal removes every fault.
func (f *Faulty) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// Calls returns the log of calls so far.
func (f *Faulty) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Mark returns the number of calls so far: Calls()[Mark():] later are the calls made
// in between.
func (f *Faulty) Mark() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// Injected returns the calls a fault answered.
func (f *Faulty) Injected() []Call {
	var out []Call
	for _, c := range f.Calls() {
		if c.Injected {
			out = append(out, c)
		}
	}
	return out
}

// pick decides the fate of a call of method: the fault that strikes it, if any.
// Every fault whose count the call advances is advanced, so two faults count
// independently.
func (f *Faulty) pick(method string) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	var hit *Fault
	for _, ft := range f.faults {
		if ft.Method != "" && ft.Method != method {
			continue
		}
		ft.seen++
		if hit == nil && (ft.Nth == 0 || ft.seen == ft.Nth) {
			hit = ft
		}
	}
	return hit
}

func (f *Faulty) log(c Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// do runs one call: call is the inner store's call, which returns its error.
func (f *Faulty) do(ctx context.Context, c Call, call func() error) error {
	ft := f.pick(c.Method)
	if ft == nil {
		c.Err = call()
		f.log(c)
		return c.Err
	}
	injected := ft.Err
	if injected == nil {
		injected = ErrInjected
	}
	c.Injected, c.Mode = true, ft.Mode
	switch ft.Mode {
	case AfterWrite:
		_ = call()
	case Hang:
		<-ctx.Done()
		injected = fmt.Errorf("%w: %w", injected, ctx.Err())
	}
	c.Err = fmt.Errorf("%s: %w", c.Method, injected)
	f.log(c)
	return c.Err
}

func (f *Faulty) GetClient(ctx context.Context, id string) (*oauth.Client, error) {
	var out *oauth.Client
	err := f.do(ctx, Call{Method: MethodGetClient, Keys: []string{id}}, func() (err error) {
		out, err = f.inner.GetClient(ctx, id)
		return err
	})
	return result(out, err)
}

func (f *Faulty) GetUser(ctx context.Context, username string) (*oauth.User, error) {
	var out *oauth.User
	err := f.do(ctx, Call{Method: MethodGetUser, Keys: []string{username}}, func() (err error) {
		out, err = f.inner.GetUser(ctx, username)
		return err
	})
	return result(out, err)
}

func (f *Faulty) CreatePushedRequest(ctx context.Context, r *oauth.PushedRequest) error {
	return f.do(ctx, Call{Method: MethodCreatePushedRequest, Keys: []string{r.Key}, ClientID: r.ClientID}, func() error {
		return f.inner.CreatePushedRequest(ctx, r)
	})
}

func (f *Faulty) GetPushedRequest(ctx context.Context, key string) (*oauth.PushedRequest, error) {
	var out *oauth.PushedRequest
	err := f.do(ctx, Call{Method: MethodGetPushedRequest, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.GetPushedRequest(ctx, key)
		return err
	})
	return result(out, err)
}

func (f *Faulty) IssueCode(ctx context.Context, consume oauth.Consume, code *oauth.AuthorizationCode, grant *oauth.Grant) error {
	keys := []string{consume.Key, "", ""}
	if code != nil {
		keys[1] = code.Key
	}
	if grant != nil {
		keys[2] = grant.ID
	}
	return f.do(ctx, Call{Method: MethodIssueCode, Keys: keys, ClientID: consume.ClientID}, func() error {
		return f.inner.IssueCode(ctx, consume, code, grant)
	})
}

func (f *Faulty) ConsumeCode(ctx context.Context, key, clientID string, now time.Time) (*oauth.AuthorizationCode, error) {
	var out *oauth.AuthorizationCode
	err := f.do(ctx, Call{Method: MethodConsumeCode, Keys: []string{key}, ClientID: clientID}, func() (err error) {
		out, err = f.inner.ConsumeCode(ctx, key, clientID, now)
		return err
	})
	if errors.Is(err, oauth.ErrUsed) && !errors.Is(err, ErrInjected) {
		return out, err // the contract returns the stored code with ErrUsed
	}
	return result(out, err)
}

func (f *Faulty) GetGrant(ctx context.Context, id string) (*oauth.Grant, error) {
	var out *oauth.Grant
	err := f.do(ctx, Call{Method: MethodGetGrant, Keys: []string{id}}, func() (err error) {
		out, err = f.inner.GetGrant(ctx, id)
		return err
	})
	return result(out, err)
}

func (f *Faulty) RevokeGrant(ctx context.Context, id string, now time.Time) error {
	return f.do(ctx, Call{Method: MethodRevokeGrant, Keys: []string{id}}, func() error {
		return f.inner.RevokeGrant(ctx, id, now)
	})
}

func (f *Faulty) RecordRevocation(ctx context.Context, id, clientID string, expiresAt, now time.Time) error {
	return f.do(ctx, Call{Method: MethodRecordRevocation, Keys: []string{id}, ClientID: clientID}, func() error {
		return f.inner.RecordRevocation(ctx, id, clientID, expiresAt, now)
	})
}

func (f *Faulty) CreateRefreshToken(ctx context.Context, rt *oauth.RefreshToken) error {
	return f.do(ctx, Call{Method: MethodCreateRefreshToken, Keys: []string{rt.Key, rt.GrantID}, ClientID: rt.ClientID}, func() error {
		return f.inner.CreateRefreshToken(ctx, rt)
	})
}

func (f *Faulty) GetRefreshToken(ctx context.Context, key string) (*oauth.RefreshToken, error) {
	var out *oauth.RefreshToken
	err := f.do(ctx, Call{Method: MethodGetRefreshToken, Keys: []string{key}}, func() (err error) {
		out, err = f.inner.GetRefreshToken(ctx, key)
		return err
	})
	return result(out, err)
}

func (f *Faulty) RotateRefreshToken(ctx context.Context, key, clientID string, now time.Time, next *oauth.RefreshToken) error {
	keys := []string{key, "", ""}
	if next != nil {
		keys[1], keys[2] = next.Key, next.GrantID
	}
	return f.do(ctx, Call{Method: MethodRotateRefreshToken, Keys: keys, ClientID: clientID}, func() error {
		return f.inner.RotateRefreshToken(ctx, key, clientID, now, next)
	})
}

func (f *Faulty) UseOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	return f.do(ctx, Call{Method: MethodUseOnce, Keys: []string{key}}, func() error {
		return f.inner.UseOnce(ctx, key, expiresAt, now)
	})
}

// result drops the value of a failed call, so an injected fault after a write hands
// back nothing the caller could use.
func result[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}
