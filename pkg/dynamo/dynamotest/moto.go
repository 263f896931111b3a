package dynamotest

import (
	"context"
	"errors"
	"sync"

	"github.com/pargate/pargate/pkg/moto"
)

// shared is this test binary's moto_server. It is package state on purpose: starting
// moto costs a second or more, so every test and helper in the binary shares one, and
// each test isolates itself with its own table instead.
var shared motoServer

// motoServer starts moto_server at most once and stops it at most once.
type motoServer struct {
	mu      sync.Mutex
	started bool
	stopped bool
	srv     *moto.Server
	err     error
}

// start starts moto_server on the first call and returns its endpoint; later calls
// return the first call's result. The error is moto.ErrNotInstalled when
// moto_server is not on PATH.
func (s *motoServer) start() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return "", errors.New("moto_server was already stopped (Endpoint called after Main's tests finished)")
	}
	if !s.started {
		s.started = true
		s.srv, s.err = moto.Start(context.Background())
	}
	if s.err != nil {
		return "", s.err
	}
	return s.srv.Endpoint, nil
}

// stop stops moto_server, if it was started.
func (s *motoServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.srv.Stop()
}
