package oauth

import (
	"context"
	"testing"
	"time"
)

type countingClients struct {
	Store // only GetClient is used
	reads int
	c     *Client
}

func (s *countingClients) GetClient(context.Context, string) (*Client, error) {
	s.reads++
	if s.c == nil {
		return nil, ErrNotFound
	}
	cp := *s.c
	return &cp, nil
}

func TestClientCache_ReusesWithinTTLAndRereadsAfter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	store := &countingClients{c: &Client{ID: "a"}}
	s := NewService(Config{ClientCacheTTL: 30 * time.Second, Now: func() time.Time { return now }}, store, nil)
	for range 3 {
		if _, err := s.client(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 1 {
		t.Fatalf("%d reads within the TTL, want 1", store.reads)
	}
	store.c.Disabled = true
	now = now.Add(31 * time.Second)
	c, _ := s.client(context.Background(), "a")
	if store.reads != 2 || !c.Disabled {
		t.Fatalf("after the TTL: %d reads, disabled=%v", store.reads, c.Disabled)
	}
	// Unknown clients are not cached, so they cannot fill the cache.
	store.c = nil
	for range 2 {
		if _, err := s.client(context.Background(), "nobody"); err != ErrNotFound {
			t.Fatal(err)
		}
	}
	if store.reads != 4 || len(s.clients.m) != 1 {
		t.Fatalf("unknown clients: %d reads, %d cached", store.reads, len(s.clients.m))
	}
	// TTL 0 disables the cache.
	s0 := NewService(Config{}, &countingClients{c: &Client{ID: "a"}}, nil)
	s0.client(context.Background(), "a")
	s0.client(context.Background(), "a")
	if got := s0.store.(*countingClients).reads; got != 2 {
		t.Fatalf("TTL 0: %d reads, want 2", got)
	}
}
