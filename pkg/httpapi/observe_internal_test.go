package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// The context a handler gets stays usable after the request: a deadline that fires
// cancels on a timer goroutine, which may reach the context's parents after the
// handler returned (decision 10's 503 on a store deadline). A pooled context cleared
// for the next request made that goroutine panic and take the function down.
func TestObserve_ARequestsContextOutlivesTheRequest(t *testing.T) {
	for _, deadline := range []time.Duration{0, time.Hour} {
		h := &Handler{opts: Options{RequestDeadline: deadline}, deadlines: true, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		var kept []context.Context
		handler := h.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kept = append(kept, r.Context())
			w.WriteHeader(http.StatusNoContent)
		}))
		for range 3 { // the pool hands the next request what the last one put back
			handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, PathJWKS, nil))
		}
		for i, ctx := range kept {
			// What the timer goroutine does: derive, cancel, remove from the parent.
			child, cancel := context.WithTimeout(ctx, time.Hour)
			cancel()
			<-child.Done()
			if deadline > 0 && ctx.Err() == nil {
				t.Errorf("deadline %v, request %d: the request's own deadline was not cancelled when it ended", deadline, i)
			}
		}
	}
}
