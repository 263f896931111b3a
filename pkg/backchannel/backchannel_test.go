package backchannel_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/backchannel"
	"github.com/pargate/pargate/pkg/oauth"
)

const token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln+/="

// receiver is an httptest server answering each POST with the next of statuses
// (the last repeated), recording what it received.
type receiver struct {
	*httptest.Server
	hits     atomic.Int32
	mu       sync.Mutex
	tokens   []string
	ctypes   []string
	methods  []string
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := int(r.hits.Add(1))
		_ = req.ParseForm()
		r.mu.Lock()
		r.tokens = append(r.tokens, req.PostForm.Get("logout_token"))
		r.ctypes = append(r.ctypes, req.Header.Get("Content-Type"))
		r.methods = append(r.methods, req.Method)
		r.mu.Unlock()
		st := r.statuses[min(n, len(r.statuses))-1]
		if st == http.StatusFound {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.Close)
	return r
}

// silent is a server that never answers (until the test ends): each request calls
// hit, reads the body (the server notices a client hanging up only after that) and
// waits.
func silent(t *testing.T, hit func()) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit()
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv
}

func sender(loopback bool) *backchannel.Sender {
	s := backchannel.New()
	s.AllowLoopback = loopback
	return s
}

func send(t *testing.T, s *backchannel.Sender, uri string) oauth.LogoutOutcome {
	t.Helper()
	out := s.SendLogouts(context.Background(), []oauth.LogoutDelivery{{ClientID: "rp", URI: uri, Token: token}})
	if len(out) != 1 || out[0].ClientID != "rp" {
		t.Fatalf("outcomes %+v", out)
	}
	return out[0]
}

func TestSendLogouts_BackchannelLogout_2_5_And_2_8(t *testing.T) {
	t.Run("Back-Channel Logout §2.5 a form POST with logout_token; §2.8 200 is delivered", func(t *testing.T) {
		r := newReceiver(t, http.StatusOK)
		o := send(t, sender(true), r.URL+"/bcl?x=1")
		if o.Result != oauth.LogoutDelivered || o.Status != 200 || o.Attempts != 1 {
			t.Fatalf("%+v", o)
		}
		if r.methods[0] != http.MethodPost || r.ctypes[0] != "application/x-www-form-urlencoded" || r.tokens[0] != token {
			t.Fatalf("received %v %v %q", r.methods, r.ctypes, r.tokens)
		}
	})
	t.Run("Back-Channel Logout §2.8 204 is delivered too", func(t *testing.T) {
		r := newReceiver(t, http.StatusNoContent)
		if o := send(t, sender(true), r.URL); o.Result != oauth.LogoutDelivered || o.Status != 204 {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("Back-Channel Logout §2.8 400 is refused and not retried", func(t *testing.T) {
		r := newReceiver(t, http.StatusBadRequest, http.StatusOK)
		o := send(t, sender(true), r.URL)
		if o.Result != oauth.LogoutRefused || o.Status != 400 || o.Attempts != 1 || r.hits.Load() != 1 {
			t.Fatalf("%+v, %d hits", o, r.hits.Load())
		}
	})
	t.Run("a 5xx is retried once, then delivered", func(t *testing.T) {
		r := newReceiver(t, http.StatusServiceUnavailable, http.StatusOK)
		o := send(t, sender(true), r.URL)
		if o.Result != oauth.LogoutDelivered || o.Attempts != 2 || r.hits.Load() != 2 || r.tokens[1] != token {
			t.Fatalf("%+v, %d hits", o, r.hits.Load())
		}
	})
	t.Run("two 5xx are refused after two attempts", func(t *testing.T) {
		r := newReceiver(t, http.StatusInternalServerError)
		o := send(t, sender(true), r.URL)
		if o.Result != oauth.LogoutRefused || o.Status != 500 || o.Attempts != 2 || r.hits.Load() != 2 {
			t.Fatalf("%+v, %d hits", o, r.hits.Load())
		}
	})
	t.Run("a redirect is not followed", func(t *testing.T) {
		r := newReceiver(t, http.StatusFound)
		o := send(t, sender(true), r.URL)
		if o.Result != oauth.LogoutRefused || o.Status != 302 || o.Attempts != 1 || r.hits.Load() != 1 {
			t.Fatalf("%+v, %d hits", o, r.hits.Load())
		}
	})
	t.Run("an attempt that does not answer in time is retried, then unreachable", func(t *testing.T) {
		var hits atomic.Int32
		srv := silent(t, func() { hits.Add(1) })
		s := sender(true)
		s.AttemptTimeout, s.Budget = 100*time.Millisecond, 10*time.Second
		o := send(t, s, srv.URL)
		if o.Result != oauth.LogoutUnreachable || o.Attempts != 2 || o.Status != 0 || hits.Load() != 2 {
			t.Fatalf("%+v, %d hits", o, hits.Load())
		}
	})
	t.Run("the budget ends every delivery", func(t *testing.T) {
		srv := silent(t, func() {})
		s := sender(true)
		s.AttemptTimeout, s.Budget = 10*time.Second, 100*time.Millisecond
		if o := send(t, s, srv.URL); o.Result != oauth.LogoutUnreachable || o.Attempts != 1 {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("a refused connection is retried, then unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if o := send(t, sender(true), "http://"+addr+"/bcl"); o.Result != oauth.LogoutUnreachable || o.Attempts != 2 {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("loopback is refused unless allowed, without a retry", func(t *testing.T) {
		r := newReceiver(t, http.StatusOK)
		o := send(t, sender(false), r.URL)
		if o.Result != oauth.LogoutUnreachable || o.Attempts != 1 || r.hits.Load() != 0 {
			t.Fatalf("%+v, %d hits", o, r.hits.Load())
		}
	})
	t.Run("http is refused for a host that is not loopback, without an attempt", func(t *testing.T) {
		for _, uri := range []string{"http://rp.example/bcl", "http://10.0.0.1/bcl", "ftp://rp.example/bcl", "https://u:p@rp.example/bcl", "/bcl"} {
			if o := send(t, sender(true), uri); o.Result != oauth.LogoutUnreachable || o.Attempts != 0 {
				t.Fatalf("%s: %+v", uri, o)
			}
		}
	})
	t.Run("https to a private address is refused at the socket", func(t *testing.T) {
		if o := send(t, sender(true), "https://10.255.255.1/bcl"); o.Result != oauth.LogoutUnreachable || o.Attempts != 1 {
			t.Fatalf("%+v", o)
		}
	})
}

// TestSendLogouts_AllClientsAtOnce: the deliveries run concurrently: each receiver
// answers only once both requests have arrived, which a sender posting one after the
// other would never see within its attempt timeout.
func TestSendLogouts_AllClientsAtOnce(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-both:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	s := sender(true)
	s.AttemptTimeout, s.Budget = 30*time.Second, 30*time.Second
	out := s.SendLogouts(context.Background(), []oauth.LogoutDelivery{
		{ClientID: "a", URI: srv.URL + "/a", Token: token},
		{ClientID: "b", URI: srv.URL + "/b", Token: token},
	})
	if len(out) != 2 || out[0].ClientID != "a" || out[1].ClientID != "b" ||
		out[0].Result != oauth.LogoutDelivered || out[1].Result != oauth.LogoutDelivered {
		t.Fatalf("%+v", out)
	}
}
