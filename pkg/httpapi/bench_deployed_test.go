package httpapi_test

// /par as deployed — the JSON access log and the EMF metrics line
// written (to io.Discard), and the store behind app.WithDeadlines as pkg/awsapp and
// the local server wire it — and, apart, what the benchmark's own request and
// recorder cost, so that the handler's share of a push can be told from the harness's.

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/httpapi"
	"github.com/pargate/pargate/pkg/keys"
)

func newDeployedPAR(b *testing.B) (*benchEnv, http.Handler) {
	b.Helper()
	e := newBenchEnv(b, keys.RS256) // for its seeded store and credentials
	sets, err := benchKeys()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.FromEnv(func(name string) string {
		switch name {
		case "ISSUER":
			return benchIssuer
		case "METRICS":
			return "true"
		case "CLIENT_RATE_LIMIT":
			// Counted as deployed (one ADD per push, docs/design.md decision 23),
			// with a limit one client's iterations never reach.
			return "1000000000/60"
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	var cookieKey [32]byte
	_, _ = rand.Read(cookieKey[:])
	h := app.NewHandler(cfg, app.Parts{
		Store:         app.WithDeadlines(e.store, app.StoreCallTimeout),
		Signer:        keys.NewSigner(keys.Static(sets[keys.RS256])),
		CookieKey:     func(context.Context) ([32]byte, error) { return cookieKey, nil },
		Logger:        httpapi.NewJSONLogger(io.Discard, slog.LevelInfo),
		MetricsOutput: io.Discard,
		Now:           func() time.Time { return e.now },
	})
	return e, h.PAR()
}

// BenchmarkPARDeployed is BenchmarkPAR with the access log as JSON, the EMF line and
// the store deadlines, as in the functions.
func BenchmarkPARDeployed(b *testing.B) {
	e, h := newDeployedPAR(b)
	b.ReportAllocs()
	for b.Loop() {
		want(b, e.post(h, httpapi.PathPAR, benchPushBody, true, nil), http.StatusCreated)
	}
}

// BenchmarkPARHarness is what BenchmarkPAR spends outside the handler: the request
// (httptest.NewRequest, two headers) and the recorder, with a handler that answers
// 201 and nothing else. Subtract it from BenchmarkPAR's figures for the handler's.
func BenchmarkPARHarness(b *testing.B) {
	e := &benchEnv{basic: "Basic x"}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	b.ReportAllocs()
	for b.Loop() {
		if rec := e.post(h, httpapi.PathPAR, benchPushBody, true, nil); rec.Code != http.StatusCreated {
			b.Fatal(rec.Code)
		}
	}
}
