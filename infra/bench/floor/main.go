// Command floor is the floor of the /par comparison in `make bench`: the least an
// HTTP server must do to answer a pushed authorization request, written with the
// standard library only. It parses the form, checks the client's Basic secret
// against a SHA-256 hash in constant time, stores the pushed parameters under a
// random 256-bit reference in a map behind a mutex and answers 201 with the
// request_uri. It validates nothing else, never expires anything and has no other
// endpoint: whatever pargate spends above it is the price of the protocol work.
//
//	floor -addr 127.0.0.1:0 -client-id ID -client-secret SECRET
//
// It listens on loopback addresses only.
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

type server struct {
	clientID   string
	secretHash [32]byte

	mu     sync.Mutex
	pushed map[string]url.Values
}

func (s *server) par(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, `{"error":"invalid_request"}`, http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	sum := sha256.Sum256([]byte(secret))
	if !ok || id != s.clientID || subtle.ConstantTimeCompare(sum[:], s.secretHash[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="floor"`)
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	var ref [32]byte
	_, _ = rand.Read(ref[:]) // crypto/rand.Read never fails (Go 1.24+)
	key := base64.RawURLEncoding.EncodeToString(ref[:])
	s.mu.Lock()
	s.pushed[key] = r.PostForm
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"request_uri":%q,"expires_in":60}`, requestURIPrefix+key)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address (loopback only)")
	clientID := flag.String("client-id", "", "the one client's client_id")
	secret := flag.String("client-secret", "", "the client's secret")
	flag.Parse()
	if *clientID == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "floor: -client-id and -client-secret are required")
		os.Exit(2)
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "floor: -addr %q: only loopback addresses are allowed\n", *addr)
		os.Exit(2)
	}
	s := &server{clientID: *clientID, secretHash: sha256.Sum256([]byte(*secret)), pushed: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/par", s.par)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		<-stop
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
