package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pargate/pargate/infra/bench/flow"
	"github.com/pargate/pargate/pkg/keys"
)

// Target names.
const (
	targetPargate = "pargate"
	targetNode    = "node-oidc-provider"
	targetFloor   = "floor"
)

// target is a server the benchmark can start on a port of 127.0.0.1.
type target struct {
	name  string
	start func(port int) (*Proc, error)
}

// workspace holds what the targets are started from: binaries built once, seed and
// key files, the node-oidc-provider directory.
type workspace struct {
	repo     string
	dir      string // temporary
	localapi string // pargate's local API binary
	floor    string // the floor binary
	nodeDir  string
	node     string // the node binary
	seedPAR  string // the client only
	seedFlow string // the client and the user
	keys     string // pargate's KEYS_FILE
	jwks     string // node-oidc-provider's JWKS_FILE
}

// prepare builds the Go servers the way the Lambda functions are built (static,
// stripped, -trimpath) and writes the seed and key files.
func prepare(ctx context.Context, repo string, withNode bool) (*workspace, error) {
	dir, err := os.MkdirTemp("", "pargate-bench-")
	if err != nil {
		return nil, err
	}
	w := &workspace{repo: repo, dir: dir,
		localapi: filepath.Join(dir, "localapi"), floor: filepath.Join(dir, "floor"),
		nodeDir: filepath.Join(repo, "infra", "bench", "node"),
		seedPAR: filepath.Join(dir, "seed-par.json"), seedFlow: filepath.Join(dir, "seed-flow.json"),
		keys: filepath.Join(dir, "keys.json"), jwks: filepath.Join(dir, "jwks.json")}
	for bin, pkg := range map[string]string{w.localapi: "./infra/localapi", w.floor: "./infra/bench/floor"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	if err := os.WriteFile(w.seedPAR, []byte(flow.SeedJSON(false)), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(w.seedFlow, []byte(flow.SeedJSON(true)), 0o600); err != nil {
		return nil, err
	}
	// Keys exist before the servers start, as they do in Secrets Manager: neither
	// server generates a key during a measured cold start.
	k, err := keys.Generate(keys.RS256)
	if err != nil {
		return nil, err
	}
	set, err := keys.NewSet(k)
	if err != nil {
		return nil, err
	}
	data, err := set.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(w.keys, data, 0o600); err != nil {
		return nil, err
	}
	if withNode {
		if w.node, err = exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("node-oidc-provider needs node on PATH: %w", err)
		}
		if _, err := os.Stat(filepath.Join(w.nodeDir, "node_modules", "oidc-provider")); err != nil {
			return nil, fmt.Errorf("node-oidc-provider is not installed: run npm ci in %s (make bench does)", w.nodeDir)
		}
		cmd := exec.CommandContext(ctx, w.node, "provider.js", "--generate-jwks", w.jwks)
		cmd.Dir = w.nodeDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("generate node JWKS: %v\n%s", err, out)
		}
	}
	return w, nil
}

func (w *workspace) cleanup() { _ = os.RemoveAll(w.dir) }

// baseEnv is all a server inherits: where programs are, and a home.
func baseEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, extra...)
}

func addr(port int) string { return loopbackHost + ":" + strconv.Itoa(port) }

// pargate is the local API (infra/localapi), on the in-memory store or, with an
// endpoint, on DynamoDB; a fresh table per start keeps rounds independent.
func (w *workspace) pargate(seed, endpoint string, extraEnv ...string) target {
	n := 0
	return target{name: targetPargate, start: func(port int) (*Proc, error) {
		env := baseEnv("ADDR="+addr(port), "SEED_FILE="+seed, "KEYS_FILE="+w.keys, "STORE=memory")
		if endpoint != "" {
			n++
			env = baseEnv("ADDR="+addr(port), "SEED_FILE="+seed, "KEYS_FILE="+w.keys, "STORE=dynamodb",
				"DYNAMODB_ENDPOINT="+endpoint, "TABLE_NAME=bench-"+strconv.Itoa(port)+"-"+strconv.Itoa(n),
				"AWS_EC2_METADATA_DISABLED=true")
		}
		// One bench client carries the whole load: the per-client rate limit
		// (docs/design.md decision 23) is off, as a deployment would set it for a
		// client that may use the whole API.
		env = append(env, "CLIENT_RATE_LIMIT=off")
		return startProc(targetPargate, w.repo, append(env, extraEnv...), w.localapi)
	}}
}

func (w *workspace) nodeTarget() target {
	return target{name: targetNode, start: func(port int) (*Proc, error) {
		env := baseEnv("NODE_ENV=production", "PORT="+strconv.Itoa(port), "JWKS_FILE="+w.jwks,
			"CLIENT_ID="+flow.ClientID, "CLIENT_SECRET="+flow.ClientSecret, "REDIRECT_URI="+flow.RedirectURI,
			"USER_NAME="+flow.Username, "USER_PASSWORD="+flow.Password)
		return startProc(targetNode, w.nodeDir, env, w.node, "provider.js")
	}}
}

func (w *workspace) floorTarget() target {
	return target{name: targetFloor, start: func(port int) (*Proc, error) {
		return startProc(targetFloor, w.repo, baseEnv(), w.floor,
			"-addr", addr(port), "-client-id", flow.ClientID, "-client-secret", flow.ClientSecret)
	}}
}

// pushRequest is the pushed authorization request every target gets.
func pushRequest(port int) Request {
	cfg := flow.Config{ClientID: flow.ClientID, RedirectURI: flow.RedirectURI, Scope: flow.Scope}
	return Request{
		URL:  "http://" + addr(port) + "/par",
		Body: cfg.PushBody(),
		Auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(
			url.QueryEscape(flow.ClientID)+":"+url.QueryEscape(flow.ClientSecret))),
		WantStatus: http.StatusCreated,
	}
}

// moto is a moto_server behind a proxy that forwards one request at a time.
//
// moto_server runs requests in threads without isolation (TransactWriteItems
// deep-copies the table while other threads write it, and may fail or roll back their
// writes); pkg/dynamo/dynamotest serializes its requests for the same reason. Moto is
// a functional stand-in for DynamoDB: its speed says nothing about DynamoDB's.
type moto struct {
	proc     *Proc
	endpoint string // the proxy
	proxy    *http.Server
}

func startMoto(ctx context.Context) (*moto, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("the DynamoDB runs need moto_server on PATH: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := startProc("moto_server", "", os.Environ(), bin, "-H", loopbackHost, "-p", strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	target := "http://" + addr(port)
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Transport: newTransport(1), Timeout: time.Second}
	for {
		resp, err := client.Get(target + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("moto_server exited: %s", p.Stderr())
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("moto_server did not answer within a minute: %v", err)
		}
	}
	u, _ := url.Parse(target)
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }, Transport: newTransport(4)}
	var one sync.Mutex
	ln, err := net.Listen("tcp", loopbackHost+":0")
	if err != nil {
		p.Stop()
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		one.Lock()
		defer one.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &moto{proc: p, endpoint: "http://" + ln.Addr().String(), proxy: srv}, nil
}

func (m *moto) stop() {
	_ = m.proxy.Close()
	m.proc.Stop()
}
