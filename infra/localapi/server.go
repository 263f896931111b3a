package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pargate/pargate/pkg/app"
	"github.com/pargate/pargate/pkg/config"
	"github.com/pargate/pargate/pkg/dynamo"
	"github.com/pargate/pargate/pkg/federation"
	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/memory"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/seed"
)

// Server is a running local API.
type Server struct {
	Addr   string
	Issuer string
	Seed   *seed.File
	// CAFile is the local CA certificate a client trusts with TLS=true (tls.go);
	// empty over plain http or with a brought certificate.
	CAFile string
	http   *http.Server
	close  []func()
}

// Close stops the server and anything it started.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.http != nil { // nil when Start failed before serving
		_ = s.http.Shutdown(ctx)
	}
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]()
	}
}

// Option adjusts the parts the local API is built from (tests).
type Option func(*app.Parts)

// WithClock makes the server read the time from now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(p *app.Parts) { p.Now = now } }

// Start configures and starts the local API from getenv: ADDR, ISSUER, SEED_FILE,
// STORE, KEYS_FILE, KEY_ALG, LOCAL_STATE_DIR (localstate.go) and the variables
// config.FromEnv reads.
func Start(ctx context.Context, getenv func(string) string, opts ...Option) (*Server, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	addr := env("ADDR", "127.0.0.1:8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	addr = ln.Addr().String()
	host, _, _ := net.SplitHostPort(addr)
	tlsConf, err := localTLS(getenv, host) // tls.go
	if err != nil {
		ln.Close()
		return nil, err
	}
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
	}
	issuer := env("ISSUER", scheme+"://"+addr)
	cfg, err := config.FromEnv(func(name string) string {
		switch name {
		case "ISSUER":
			return issuer
		case "MTLS_BASE_URL":
			// The TLS listener serves the mTLS endpoint aliases itself (tls.go).
			if v := getenv(name); v != "" || tlsConf == nil || getenv("MTLS_DOMAIN_NAME") != "" {
				return v
			}
			return issuer
		}
		return getenv(name)
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := checkLocalIssuer(cfg, getenv); err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{Addr: addr, Issuer: issuer}
	if tlsConf != nil {
		s.CAFile = tlsConf.caFile
	}
	fail := func(err error) (*Server, error) {
		ln.Close()
		s.Close()
		return nil, err
	}
	s.Seed, err = seed.ReadFile(env("SEED_FILE", "infra/seed.json"))
	if err != nil {
		return fail(err)
	}
	store, reg, closeStore, err := openStore(ctx, env("STORE", "memory"), getenv, cfg.SingleItemWrites)
	if err != nil {
		return fail(err)
	}
	s.close = append(s.close, closeStore)
	keysFile, hash, saveHashes := getenv("KEYS_FILE"), seed.Hasher(oauth.HashPassword), func() error { return nil }
	if dir := getenv("LOCAL_STATE_DIR"); dir != "" {
		state := localState{dir: dir}
		if keysFile == "" {
			if keysFile, err = state.keysFile(cfg.KeyAlgorithm); err != nil {
				return fail(err)
			}
		}
		if hash, saveHashes, err = state.passwordHashes(); err != nil {
			return fail(err)
		}
	}
	// The seed's identity_providers (issue 13) carry their secrets; the table store
	// refuses a provider with a secret (on AWS it lives in Secrets Manager, decision
	// 36), so over DynamoDB locally they are kept in memory beside the table.
	imported, providers := s.Seed, oauth.IdentityProviders(nil)
	if _, inTable := reg.(*dynamo.Store); inTable && len(s.Seed.IdentityProviders) > 0 {
		mem, rest := memory.New(), *s.Seed
		rest.IdentityProviders = nil
		for i := range s.Seed.IdentityProviders {
			if err := mem.PutIdentityProvider(ctx, &s.Seed.IdentityProviders[i]); err != nil {
				return fail(err)
			}
		}
		imported, providers = &rest, mem
	}
	if err := seed.ImportWith(ctx, reg, imported, hash); err != nil {
		return fail(err)
	}
	if err := saveHashes(); err != nil {
		return fail(err)
	}
	src, err := keys.LoadOrGenerate(keysFile, cfg.KeyAlgorithm)
	if err != nil {
		return fail(err)
	}
	log := app.Logger(cfg.LogLevel)
	signer := keys.NewSigner(src, append(app.SignerOptions(cfg), keys.WithLogger(log))...)
	// The key set is read at start (LoadOrGenerate did): one the profile refuses (an
	// RS256 key under fapi2, FAPI 2.0 Security Profile §5.4.1) stops the start with
	// the key's kid rather than failing every token request.
	if err := signer.Ready(ctx); err != nil {
		return fail(fmt.Errorf("%s: %w", keysFile, err))
	}
	// JARM §3: a client's authorization_signed_response_alg must be the algorithm the
	// server signs with, or its signed responses fail (docs/design.md decision 24):
	// refused at start, naming the client.
	algs, err := signer.LoadAlgorithms(ctx)
	if err != nil {
		return fail(err)
	}
	for _, c := range s.Seed.Clients {
		if alg := c.AuthorizationSignedResponseAlg; alg != "" && alg != algs[0] {
			return fail(fmt.Errorf("seed client %s: authorization_signed_response_alg %s, but the signing key (%s) is %s: set KEY_ALG=%s or change the client", c.ID, alg, keysFile, algs[0], alg))
		}
	}
	var cookieKey [32]byte
	if _, err := rand.Read(cookieKey[:]); err != nil {
		return fail(err)
	}
	parts := app.Parts{
		Store:     store,
		Signer:    signer,
		CookieKey: func(context.Context) ([32]byte, error) { return cookieKey, nil },
		Logger:    log,
		Providers: providers,
	}
	if tlsConf != nil {
		parts.ClientCertificates = tlsConf.certs
	}
	// Brokered login (issue 13): the seed's identity_providers, imported into the
	// memory store, sign users in through the relying-party client.
	parts.Upstream = federation.New(federation.Options{Logger: log})
	for _, o := range opts {
		o(&parts)
	}
	h := app.NewHandler(cfg, parts)
	mux := http.NewServeMux()
	mux.Handle("/", h.Routes())
	_, redirect := demoClient(s.Seed, issuer)
	mux.HandleFunc("/callback", callbackPage(curlCommand(s.CAFile), issuer, redirect))
	readTimeout, idleTimeout, err := serverTimeouts(getenv)
	if err != nil {
		return fail(err)
	}
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: readTimeout, IdleTimeout: idleTimeout}
	if tlsConf != nil {
		s.http.TLSConfig = tlsConf.config
		ln = tls.NewListener(ln, tlsConf.config)
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("serve", "cause", err.Error())
		}
	}()
	return s, nil
}

// openStore returns the store named by kind.
func openStore(ctx context.Context, kind string, getenv func(string) string, singleItemWrites bool) (oauth.Store, oauth.Registry, func(), error) {
	switch kind {
	case "memory":
		m := memory.New()
		return m, m, func() {}, nil
	case "dynamodb":
		return openDynamo(ctx, getenv, singleItemWrites)
	default:
		return nil, nil, nil, fmt.Errorf("STORE=%q: want memory or dynamodb", kind)
	}
}

// callbackTemplate is the demo client's redirect target: it shows what the
// authorization response carried and the next command to run. It is parsed on the
// first callback, not at every start (issue 15: exec to first 201).
var callbackTemplate = sync.OnceValue(func() *template.Template { return template.Must(template.New("cb").Parse(callbackPageHTML)) })

const callbackPageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Demo client callback</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem">
<h1>Demo client callback</h1>
{{if .Error}}<p>The authorization server answered <strong>{{.Error}}</strong>: {{.Description}}</p>
{{else}}<p>Authorization code: <code id="code">{{.Code}}</code></p>
<p>Exchange it within 60 seconds (step 3 of the walk-through):</p>
<pre style="white-space:pre-wrap;background:#f6f8fa;padding:1rem">{{.Curl}}</pre>{{end}}
{{if .Response}}<p>JARM response (a JWT signed with the server's key; its claims hold the code): <code id="response" style="word-break:break-all">{{.Response}}</code></p>
{{end}}<p>state: <code>{{.State}}</code> · iss: <code>{{.Iss}}</code></p>
</body></html>`

func callbackPage(curl, issuer, redirect string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// GET for query responses, POST for form_post ones (OAuth 2.0 Form Post
		// Response Mode §2): r.Form holds both, the body capped at 64 KiB.
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed authorization response", http.StatusBadRequest)
			return
		}
		q := r.Form
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		_ = callbackTemplate().Execute(w, map[string]string{
			"Code": q.Get("code"), "State": q.Get("state"), "Iss": q.Get("iss"),
			"Error": q.Get("error"), "Description": q.Get("error_description"), "Response": q.Get("response"),
			"Curl": strings.TrimSpace(tokenCurl(curl, issuer, redirect, q.Get("code"))),
		})
	}
}

// checkLocalIssuer: FAPI 2.0 requires TLS (Security Profile §5.2.1), so under
// PROFILE=fapi2 the local server refuses a plain-http issuer unless
// ALLOW_HTTP_ISSUER=true says a test means it.
func checkLocalIssuer(cfg config.Config, getenv func(string) string) error {
	allow := getenv("ALLOW_HTTP_ISSUER")
	if allow != "" && allow != "true" && allow != "false" {
		return fmt.Errorf("ALLOW_HTTP_ISSUER=%q: want true or false", allow)
	}
	if cfg.FAPI2 && strings.HasPrefix(cfg.Issuer, "http://") && allow != "true" {
		return fmt.Errorf("PROFILE=fapi2 needs an https issuer: run with TLS=true (HTTPS with a local CA), or set ALLOW_HTTP_ISSUER=true to accept %s", cfg.Issuer)
	}
	return nil
}
