package moto

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// TestStart_AnswersThroughTheProxyUntilStop: the endpoint is the proxy's, moto_server
// answers behind it, and Stop ends both.
func TestStart_AnswersThroughTheProxyUntilStop(t *testing.T) {
	srv, err := Start(t.Context())
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.Endpoint + "/moto-api/")
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /moto-api/ = %d", resp.StatusCode)
	}
	srv.Stop()
	srv.Stop() // a second Stop does nothing
	select {
	case <-srv.exited:
	default:
		t.Error("moto_server still runs after Stop")
	}
	if resp, err := http.Get(srv.Endpoint + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Error("the proxy still answers after Stop")
	}
}

// TestSerialize_AWriteRunsAloneAndReadsShare: the proxy never lets a write overlap
// another request, and lets reads overlap each other.
func TestSerialize_AWriteRunsAloneAndReadsShare(t *testing.T) {
	var (
		mu                sync.Mutex
		writing           bool
		reading, maxReads int
		overlaps          []string
	)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		read := sharedReads[op]
		mu.Lock()
		if writing || !read && reading > 0 {
			overlaps = append(overlaps, op)
		}
		if read {
			reading++
			maxReads = max(maxReads, reading)
		} else {
			writing = true
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		if read {
			reading--
		} else {
			writing = false
		}
		mu.Unlock()
	}))
	defer backend.Close()
	endpoint, proxy, err := serialize(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()

	ops := []string{"DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.PutItem", "secretsmanager.PutSecretValue", ""}
	for range 5 {
		ops = append(ops, "DynamoDB_20120810.GetItem", "DynamoDB_20120810.Query")
	}
	var wg sync.WaitGroup
	for _, op := range ops {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, endpoint, nil)
			req.Header.Set("X-Amz-Target", op)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if len(overlaps) > 0 {
		t.Errorf("these requests overlapped a write: %q", overlaps)
	}
	if maxReads < 2 {
		t.Errorf("at most %d read ran at once, want reads to share", maxReads)
	}
}
