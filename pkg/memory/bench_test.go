package memory_test

// Benchmarks of the in-memory store's hot paths: what /par writes, what /authorize
// reads, and the consume-and-issue of an approval. The records come from the
// contract suite's fixtures and are built before the timer starts. `make bench` runs
// them; they assert nothing about time.

import (
	"context"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/oauth/oauthtest"
)

func pushedRequests(b *testing.B, now time.Time) []*oauth.PushedRequest {
	rs := make([]*oauth.PushedRequest, b.N)
	for i := range rs {
		rs[i] = oauthtest.PushedRequest(b, now)
	}
	return rs
}

// BenchmarkCreatePushedRequest stores a pushed request, as every /par does.
func BenchmarkCreatePushedRequest(b *testing.B) {
	s, ctx, now := memory.New(), context.Background(), time.Now()
	rs := pushedRequests(b, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.CreatePushedRequest(ctx, rs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreatePushedRequestParallel stores pushed requests from GOMAXPROCS
// goroutines: the one mutex under contention.
func BenchmarkCreatePushedRequestParallel(b *testing.B) {
	s, ctx, now := memory.New(), context.Background(), time.Now()
	rs := make(chan *oauth.PushedRequest, b.N)
	for _, r := range pushedRequests(b, now) {
		rs <- r
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreatePushedRequest(ctx, <-rs); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetPushedRequest reads a pushed request back, as /authorize does, from a
// store holding 10,000 of them.
func BenchmarkGetPushedRequest(b *testing.B) {
	s, ctx, now := memory.New(), context.Background(), time.Now()
	var key string
	for range 10000 {
		r := oauthtest.PushedRequest(b, now)
		if err := s.CreatePushedRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
		key = r.Key
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetPushedRequest(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueCode consumes a pushed request and stores its code and grant in one
// step, as an approval does.
func BenchmarkIssueCode(b *testing.B) {
	s, ctx, now := memory.New(), context.Background(), time.Now()
	type issue struct {
		consume oauth.Consume
		code    *oauth.AuthorizationCode
		grant   *oauth.Grant
	}
	issues := make([]issue, b.N)
	for i := range issues {
		r := oauthtest.PushedRequest(b, now)
		if err := s.CreatePushedRequest(ctx, r); err != nil {
			b.Fatal(err)
		}
		code, grant := oauthtest.Code(b, now), oauthtest.Grant(b, now)
		grant.ID = code.GrantID
		issues[i] = issue{oauth.Consume{Key: r.Key, ClientID: r.ClientID, Now: now}, code, grant}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.IssueCode(ctx, issues[i].consume, issues[i].code, issues[i].grant); err != nil {
			b.Fatal(err)
		}
	}
}
