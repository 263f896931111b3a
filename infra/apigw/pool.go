package apigw

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pargate/pargate/infra/lambdaemu"
)

// DefaultConcurrency is the default number of instances of each function.
const DefaultConcurrency = 4

// Instance is one execution environment of a function (a *stack.Function).
type Instance interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
	Stats() lambdaemu.Stats
	Close() error
}

// Pool is an [Invoker] that runs each function as Lambda does: an event goes to a
// warm instance that is idle, else to a new one (a cold start) while the function has
// fewer than Concurrency instances, else it waits for one to be free (where Lambda
// would throttle; locally, a browser's parallel requests wait rather than fail) until
// the integration timeout. An instance whose environment is gone - it exited, timed
// out or its caller gave up - is dropped, and the next event starts a new one.
type Pool struct {
	// Start starts a new instance of the function (a LogicalId).
	Start func(ctx context.Context, function string) (Instance, error)
	// Concurrency bounds each function's instances (default [DefaultConcurrency]).
	Concurrency int
	// Log receives a line per cold start, with its init duration (nil: none).
	Log func(format string, args ...any)

	mu     sync.Mutex
	fns    map[string]*functionPool
	closed bool
}

type functionPool struct {
	slots chan struct{} // one per instance that may be busy
	idle  []Instance
	all   map[Instance]bool
	cold  int // cold starts so far
}

func (p *Pool) function(name string) (*functionPool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, lambdaemu.ErrClosed
	}
	if p.fns == nil {
		p.fns = map[string]*functionPool{}
	}
	fp := p.fns[name]
	if fp == nil {
		n := p.Concurrency
		if n <= 0 {
			n = DefaultConcurrency
		}
		fp = &functionPool{slots: make(chan struct{}, n), all: map[Instance]bool{}}
		p.fns[name] = fp
	}
	return fp, nil
}

// Invoke runs function on event in a warm or a new instance.
func (p *Pool) Invoke(ctx context.Context, function string, event []byte) ([]byte, error) {
	fp, err := p.function(function)
	if err != nil {
		return nil, err
	}
	select {
	case fp.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-fp.slots }()

	p.mu.Lock()
	var inst Instance
	if n := len(fp.idle); n > 0 {
		inst, fp.idle = fp.idle[n-1], fp.idle[:n-1]
	}
	p.mu.Unlock()
	cold := inst == nil
	if cold {
		if inst, err = p.Start(ctx, function); err != nil {
			return nil, fmt.Errorf("start %s: %w", function, err)
		}
		p.mu.Lock()
		fp.all[inst] = true
		fp.cold++
		closed := p.closed
		p.mu.Unlock()
		if closed {
			_ = inst.Close()
			return nil, lambdaemu.ErrClosed
		}
	}
	res, err := inst.Invoke(ctx, event)
	if cold && p.Log != nil {
		s := inst.Stats()
		p.Log("cold start %s: init %v, first response %v (%d of at most %d instances)",
			function, s.Init.Round(10*time.Microsecond), s.FirstResponse.Round(10*time.Microsecond), p.count(fp), cap(fp.slots))
	}
	p.mu.Lock()
	keep := alive(err) && !p.closed
	if keep {
		fp.idle = append(fp.idle, inst)
	} else {
		delete(fp.all, inst)
	}
	p.mu.Unlock()
	if !keep {
		_ = inst.Close()
	}
	return res, err
}

func (p *Pool) count(fp *functionPool) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(fp.all)
}

// Instances is how many instances of function are running.
func (p *Pool) Instances(function string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fp := p.fns[function]; fp != nil {
		return len(fp.all)
	}
	return 0
}

// alive reports whether the environment survives an invocation that ended with err:
// a function's own error leaves it warm; an exit, a timeout, an init failure or an
// abandoned invocation (lambdaemu kills the process) does not.
func alive(err error) bool {
	if err == nil {
		return true
	}
	var fe *lambdaemu.FunctionError
	if errors.As(err, &fe) {
		return fe.Phase == "invoke" && fe.Type != "Runtime.ExitError" && fe.Type != "Sandbox.Timedout"
	}
	return false
}

// Close stops every instance.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	var all []Instance
	for _, fp := range p.fns {
		for inst := range fp.all {
			all = append(all, inst)
		}
		fp.all, fp.idle = map[Instance]bool{}, nil
	}
	p.mu.Unlock()
	var errs []error
	for _, inst := range all {
		errs = append(errs, inst.Close())
	}
	return errors.Join(errs...)
}
