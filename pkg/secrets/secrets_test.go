package secrets_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-jose/go-jose/v4"

	"github.com/pargate/pargate/pkg/keys"
	"github.com/pargate/pargate/pkg/oauth"
	"github.com/pargate/pargate/pkg/secrets"
)

func newKeySet(tb testing.TB, algs ...string) *keys.Set {
	tb.Helper()
	var ks []jose.JSONWebKey
	for _, alg := range algs {
		k, err := keys.Generate(alg)
		if err != nil {
			tb.Fatal(err)
		}
		ks = append(ks, k)
	}
	s, err := keys.NewSet(ks...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func marshalSet(tb testing.TB, s *keys.Set) string {
	tb.Helper()
	b, err := s.MarshalJSON()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestNewSource_ReadsKeySetFromSecret(t *testing.T) {
	client := motoClient(t)
	want := newKeySet(t, keys.ES256, keys.RS256)
	id := newSecret(t, client, marshalSet(t, want))

	got, err := secrets.NewSource(client, id).Load(context.Background())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !slices.Equal(got.KeyIDs(), want.KeyIDs()) {
		t.Errorf("kids = %v, want %v", got.KeyIDs(), want.KeyIDs())
	}

	// And a signer over it signs with the active key.
	token, err := keys.NewSigner(secrets.NewSource(client, id)).Sign(context.Background(), "at+jwt", map[string]string{"sub": "alice"})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if _, err := keys.VerifyJWKS(want.PublicJSON(), token); err != nil {
		t.Errorf("token does not verify: %v", err)
	}
}

func TestNewSource_SecretWithoutKeysIsAnError(t *testing.T) {
	client := motoClient(t)
	for _, placeholder := range []string{`{"keys":[]}`, "Xq3generated-by-cloudformation"} {
		id := newSecret(t, client, placeholder)
		_, err := secrets.NewSource(client, id).Load(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no signing keys yet") {
			t.Errorf("Load(%q) error = %v, want it to say the secret has no keys yet", placeholder, err)
		}
	}
}

func TestNewSource_InvalidKeySetIsAnError(t *testing.T) {
	client := motoClient(t)
	id := newSecret(t, client, `{"keys":[{"kty":"oct","kid":"h","alg":"HS256","use":"sig","k":"c2VjcmV0"}]}`)
	_, err := secrets.NewSource(client, id).Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "unsupported alg") {
		t.Errorf("Load error = %v, want the validation error", err)
	}
}

func TestNewSource_MissingSecretIsNotAnOutage(t *testing.T) {
	client := motoClient(t)
	_, err := secrets.NewSource(client, "no-such-secret-"+randomHex(t, 4)).Load(context.Background())
	if err == nil {
		t.Fatal("Load of a missing secret succeeded")
	}
	if errors.Is(err, oauth.ErrUnavailable) {
		t.Errorf("missing secret reported as temporarily unavailable: %v", err)
	}
	if !strings.Contains(err.Error(), "no-such-secret") {
		t.Errorf("error %q does not name the secret", err)
	}
}

func TestLoadBytes_ReadsBinarySecrets(t *testing.T) {
	client := motoClient(t)
	name := "binary-" + randomHex(t, 4)
	raw := []byte{0, 1, 2, 0xfe, 0xff}
	if _, err := client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretBinary: raw}); err != nil {
		t.Fatal(err)
	}
	got, err := secrets.LoadBytes(context.Background(), client, name)
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	if string(got) != string(raw) {
		t.Errorf("LoadBytes = %x, want %x", got, raw)
	}
}

// Outages must become temporarily_unavailable (docs/design.md decision 10), not hang the
// request, and not be mistaken for configuration errors.
func TestLoad_OutagesAreUnavailable(t *testing.T) {
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop) // before Close, which waits for the handler
	throttled := awsErrorServer(http.StatusBadRequest, "ThrottlingException")
	defer throttled.Close()
	internal := awsErrorServer(http.StatusInternalServerError, "InternalServiceError")
	defer internal.Close()
	denied := awsErrorServer(http.StatusBadRequest, "AccessDeniedException")
	defer denied.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name        string
		endpoint    string
		unavailable bool
	}{
		{name: "timeout", endpoint: hang.URL, unavailable: true},
		{name: "throttled", endpoint: throttled.URL, unavailable: true},
		{name: "server error", endpoint: internal.URL, unavailable: true},
		{name: "connection refused", endpoint: closed.URL, unavailable: true},
		{name: "access denied", endpoint: denied.URL, unavailable: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := secretsmanager.New(secretsmanager.Options{
				Region:           "us-east-1",
				BaseEndpoint:     aws.String(tt.endpoint),
				Credentials:      aws.AnonymousCredentials{},
				RetryMaxAttempts: 1,
			})
			start := time.Now()
			_, err := secrets.NewSource(client, "keys", secrets.WithTimeout(200*time.Millisecond)).Load(context.Background())
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if got := errors.Is(err, oauth.ErrUnavailable); got != tt.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tt.unavailable)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Load took %v, want it bounded by the timeout", d)
			}
		})
	}
}

// awsErrorServer answers every call with an awsJson1.1 error of code.
func awsErrorServer(status int, code string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"__type":"` + code + `","message":"test"}`))
	}))
}
