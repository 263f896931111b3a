package oauth

import (
	"context"
	"sync"
	"time"
)

// clientCache keeps recently read clients for a short time. A Lambda instance serves
// many requests in a row, and every step of a flow names its client: without the
// cache each step reads the same item again (six reads in a complete flow). The price
// is staleness: a change to a client — a disabled client, a removed redirect URI —
// takes up to the TTL to reach warm instances. Only found clients are cached, and the
// cache is bounded, so unknown client ids cannot grow it.
type clientCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedClient
}

type cachedClient struct {
	c       *Client
	expires time.Time
}

const maxCachedClients = 1024

// client reads a client through the cache. Callers treat the result as read-only.
func (s *Service) client(ctx context.Context, id string) (*Client, error) {
	cc := s.clients
	if cc == nil || cc.ttl <= 0 {
		return s.store.GetClient(ctx, id)
	}
	now := s.now()
	cc.mu.Lock()
	e, ok := cc.m[id]
	cc.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c, nil
	}
	c, err := s.store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if len(cc.m) >= maxCachedClients {
		for k, v := range cc.m {
			if !now.Before(v.expires) || len(cc.m) >= maxCachedClients {
				delete(cc.m, k)
			}
		}
	}
	cc.m[id] = cachedClient{c: c, expires: now.Add(cc.ttl)}
	cc.mu.Unlock()
	return c, nil
}
